"""The log of requests the sandbox answered, with credentials left out."""

from __future__ import annotations

import copy
import json
import re
import threading
from collections import deque
from typing import Any, Callable
from urllib.parse import unquote_plus

from .messages import Outcome, Request

#: Oldest entries are dropped beyond this many (long load tests); ``dropped`` counts them.
MAX_ENTRIES = 10_000

REDACTED = "<redacted>"
_AUTH_HEADERS = ("authorization", "proxy-authorization")
_SECRET_NAME = re.compile(r"token|secret|passw|api[-_]?key|signature|cookie|credential", re.IGNORECASE)
# In text that is not one JSON document, each pattern matches a whole name (the callback decides whether it
# looks secret), and a JSON name never starts at an escaped quote, so they stay linear on large bodies.
#: ``"repo_token": "…"`` (a multipart part, JSON inside a string),
_JSON_PAIR = re.compile(r'(?<!\\)"([^"\\\n]*(?:\\.[^"\\\n]*)*)"(\s*:\s*)("[^"\\\n]*(?:\\.[^"\\\n]*)*"|[^\s,{}\[\]"]+)?')
#: ``repo_token=…`` (forms, query strings),
_FORM_PAIR = re.compile(r"(?<![\w.\[\]-])([\w.\[\]-]+)=([^&\s\"']*)")
#: and a multipart field named like a secret (its first line of content).
_MULTIPART_FIELD = re.compile(r'name="([^"\r\n]*)"([^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n)[^\r\n]*')


def redact_authorization(value: str) -> str:
    """Keep only the scheme word of an Authorization value ("Bearer", "Basic", ...)."""
    return value.strip().split(None, 1)[0] if value.strip() else ""


def redact_headers(request: Request) -> dict[str, str]:
    headers = {}
    for name, value in request.headers.items():
        if name.lower() in _AUTH_HEADERS:
            headers[name] = redact_authorization(value)
        elif _SECRET_NAME.search(name):
            headers[name] = REDACTED
        else:
            headers[name] = value
    return headers


def redact_text(text: str) -> str:
    """Text with the values of secret-looking ``"name": value``, ``name=value`` and multipart fields replaced."""
    if not _SECRET_NAME.search(text):
        return text
    text = _JSON_PAIR.sub(_redact_match(lambda match: f'"{match[1]}"{match[2]}"{REDACTED}"'), text)
    text = _FORM_PAIR.sub(_redact_match(lambda match: f"{match[1]}={REDACTED}"), text)
    return _MULTIPART_FIELD.sub(_redact_match(lambda match: f'name="{match[1]}"{match[2]}{REDACTED}'), text)


def _redact_match(replace: Callable[[re.Match], str]) -> Callable[[re.Match], str]:
    """A ``re.sub`` callback: ``replace(match)`` when the name (group 1) looks secret, else the match unchanged."""
    return lambda match: replace(match) if _SECRET_NAME.search(match[1]) else match[0]


def redact_value(value: Any) -> Any:
    """A copy of a JSON value with the values of secret-looking keys (``repo_token``...) replaced, also
    inside strings that carry JSON or form text."""
    if isinstance(value, dict):
        return {
            key: REDACTED if isinstance(key, str) and _SECRET_NAME.search(key) else redact_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def loggable_body(request: Request) -> Any:
    """The parsed JSON body, else its text (a form decoded), else None when empty; secrets redacted."""
    if not request.body:
        return None
    try:
        return redact_value(json.loads(request.body.decode("utf-8")))
    except ValueError:
        text = request.text()
    if request.content_type == "application/x-www-form-urlencoded":
        text = unquote_plus(text)
    return redact_text(text)


class RequestLog:
    """Thread-safe, bounded list of request records."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict] = deque(maxlen=max_entries)
        self.dropped = 0

    def record(self, request: Request, outcome: Outcome, received: float) -> dict:
        response = outcome.response if outcome.action in ("respond", "truncate") else None
        entry = {
            "method": request.method,
            "path": request.path,
            "query": redact_value(dict(request.query)),
            "headers": redact_headers(request),
            "body": loggable_body(request),
            "status": None if response is None else response.status,
            "fault": outcome.fault,
            "time": received,
        }
        with self._lock:
            if len(self._entries) == self._entries.maxlen:
                self.dropped += 1
            self._entries.append(entry)
        return entry

    def entries(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(list(self._entries))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.dropped = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
