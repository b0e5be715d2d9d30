"""The log of requests the sandbox answered, with credentials left out."""

from __future__ import annotations

import copy
import json
import re
import threading
from collections import deque
from typing import Any

from .messages import Outcome, Request

#: Oldest entries are dropped beyond this many (long load tests); ``dropped`` counts them.
MAX_ENTRIES = 10_000

REDACTED = "<redacted>"
_AUTH_HEADERS = ("authorization", "proxy-authorization")
_SECRET_NAME = re.compile(r"token|secret|passw|api[-_]?key|signature|cookie|credential", re.IGNORECASE)


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


def redact_value(value: Any) -> Any:
    """A copy of a JSON value with the values of secret-looking keys (``repo_token``...) replaced."""
    if isinstance(value, dict):
        return {
            key: REDACTED if isinstance(key, str) and _SECRET_NAME.search(key) else redact_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    return value


def loggable_body(request: Request) -> Any:
    """The parsed JSON body, else its text, else None when empty."""
    if not request.body:
        return None
    try:
        return redact_value(json.loads(request.body.decode("utf-8")))
    except ValueError:
        return request.text()


class RequestLog:
    """Thread-safe, bounded list of request records."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict] = deque(maxlen=max_entries)
        self.dropped = 0

    def record(self, request: Request, outcome: Outcome, received: float) -> dict:
        response = outcome.response if outcome.action == "respond" else None
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
