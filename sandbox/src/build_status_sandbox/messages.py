"""The request and response objects handlers see, independent of the HTTP server."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional, Union

JSON_TYPE = "application/json;charset=UTF-8"
TEXT_TYPE = "text/plain;charset=UTF-8"

Body = Union[dict, list, str, bytes, None]


class BodyError(ValueError):
    """The request body is not what the handler needs (not JSON, wrong content type)."""


class Headers(Mapping):
    """A read-only, case-insensitive mapping of header names to values (original case kept)."""

    def __init__(self, items: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            lower = name.lower()
            if lower in self._items:
                first_name, first_value = self._items[lower]
                self._items[lower] = (first_name, f"{first_value}, {value}")
            else:
                self._items[lower] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


@dataclass
class Request:
    """One HTTP request as a handler sees it.

    ``path`` is percent-decoded and has no query; ``query`` holds the first value of each parameter;
    ``params`` holds the named groups of the route that matched.
    """

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)
    client: Optional[tuple] = None
    #: The query string as sent (``query`` keeps only each parameter's first value).
    raw_query: str = ""

    def query_values(self, name: str) -> list[str]:
        """Every value of a query parameter, in order (``?externalId=a&externalId=b`` → ``["a", "b"]``)."""
        from urllib.parse import parse_qsl

        values = [value for key, value in parse_qsl(self.raw_query, keep_blank_values=True) if key == name]
        return values or ([self.query[name]] if name in self.query else [])

    @property
    def content_type(self) -> str:
        """The media type of the body, lower-case, without parameters ("" when absent)."""
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()

    def is_json(self) -> bool:
        """Whether the Content-Type says JSON (``application/json`` or ``*/*+json``)."""
        media = self.content_type
        return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))

    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; raises :class:`BodyError` with a readable message if it is not."""
        if not self.body.strip():
            raise BodyError("The request body is empty; a JSON document is required.")
        try:
            return json.loads(self.body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise BodyError(f"The request body is not UTF-8: {exc}") from None
        except json.JSONDecodeError as exc:
            raise BodyError(
                f"The request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
            ) from None


@dataclass
class Response:
    """What a handler answers: a dict/list body is sent as JSON, str as text, bytes as they are."""

    status: int = 200
    body: Body = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, dict[str, str]]:
        """The body bytes and the headers to send (Content-Type added when the body needs one)."""
        headers = dict(self.headers)
        has_type = any(name.lower() == "content-type" for name in headers)
        if self.body is None or self.status in (204, 304) or 100 <= self.status < 200:
            return b"", headers
        if isinstance(self.body, bytes):
            data = self.body
            default_type = "application/octet-stream"
        elif isinstance(self.body, str):
            data = self.body.encode("utf-8")
            default_type = TEXT_TYPE
        else:
            data = json.dumps(self.body).encode("utf-8")
            default_type = JSON_TYPE
        if not has_type:
            headers["Content-Type"] = default_type
        return data, headers


def error_body(message: str, context: str | None = None, exception_name: str | None = None) -> dict:
    """Bitbucket's error document: ``{"errors":[{"context", "message", "exceptionName"}]}``."""
    return {"errors": [{"context": context, "message": message, "exceptionName": exception_name}]}


def error_response(
    status: int,
    message: str,
    context: str | None = None,
    exception_name: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A :class:`Response` carrying :func:`error_body`."""
    return Response(status, error_body(message, context, exception_name), dict(headers or {}))


@dataclass
class Outcome:
    """How the server should answer: send ``response`` (after ``delay`` seconds), close the
    connection without answering (``action="close"``), or hold it open (``action="hang"``)."""

    response: Optional[Response] = None
    action: str = "respond"
    delay: float = 0.0
    fault: Optional[str] = None
