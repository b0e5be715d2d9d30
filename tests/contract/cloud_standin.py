"""A stand-in for Bitbucket Cloud's commit statuses, behind Prism's validating proxy in the contract tests.

It checks nothing (Prism checks the requests and its answers against the contract) and answers as Bitbucket
Cloud does, by its documentation (``POST …/statuses/build`` → 201 with the status object, the same key overwritten;
``GET …/statuses`` → a page of status objects with ``next`` while more follow). It also keeps every request
it was sent, so a test can see what passed Prism.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

STATUSES = re.compile(r"^/2\.0/repositories/([^/]+)/([^/]+)/commit/([0-9a-f]+)/statuses(/build)?$")
#: Bitbucket's page size when none is asked, and the largest it gives.
DEFAULT_PAGELEN, MAX_PAGELEN = 10, 100
STAMP = "2026-06-22T10:00:00.000000+00:00"


class CloudStandIn:
    """``with CloudStandIn() as standin:`` serves on loopback at ``standin.url`` until the block ends."""

    def __init__(self) -> None:
        #: (workspace, repo, commit) → key → status object, in the order first posted.
        self.statuses: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
        #: Every request: (method, path with query, headers, body).
        self.received: list[tuple[str, str, dict[str, str], Any]] = []
        #: The base URL clients use (Prism's): the ``next`` links start with it.
        self.public_url = ""
        #: The largest page it gives (a test lowers it to see the pages followed).
        self.max_pagelen = MAX_PAGELEN
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> CloudStandIn:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def seed(self, workspace: str, repo: str, commit: str, *bodies: dict[str, Any]) -> None:
        for body in bodies:
            self.store(workspace, repo, commit, body)

    def store(self, workspace: str, repo: str, commit: str, body: dict[str, Any]) -> dict[str, Any]:
        base = self.public_url or self.url
        where = f"{base}/2.0/repositories/{workspace}/{repo}/commit/{commit}"
        with self.lock:
            known = self.statuses.setdefault((workspace, repo, commit), {})
            created = known.get(body["key"], {}).get("created_on", STAMP)
            status = {
                **body,
                "type": "build",
                "created_on": created,
                "updated_on": STAMP,
                "links": {
                    "self": {"href": f"{where}/statuses/build/{quote(str(body['key']), safe='')}"},
                    "commit": {"href": where},
                },
            }
            known[body["key"]] = status
            return status

    def page(self, workspace: str, repo: str, commit: str, query: dict[str, list[str]]) -> dict[str, Any]:
        with self.lock:
            values = list(self.statuses.get((workspace, repo, commit), {}).values())
        size = min(int(query.get("pagelen", [DEFAULT_PAGELEN])[0]), self.max_pagelen)
        number = int(query.get("page", ["1"])[0])
        page: dict[str, Any] = {
            "size": len(values),
            "page": number,
            "pagelen": size,
            "values": values[(number - 1) * size : number * size],
        }
        if number * size < len(values):
            base = self.public_url or self.url
            path = f"/2.0/repositories/{workspace}/{repo}/commit/{commit}/statuses"
            page["next"] = f"{base}{path}?pagelen={size}&page={number + 1}"
        return page


def _handler(standin: CloudStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            self._note(body)
            parts = urlsplit(self.path)
            match = STATUSES.match(parts.path)
            if not match or not match.group(4) or not isinstance(body, dict):
                return self._answer(404, {"type": "error", "error": {"message": "Resource not found"}})
            workspace, repo, commit = match.group(1, 2, 3)
            self._answer(201, standin.store(workspace, repo, commit, body))

        def do_GET(self) -> None:
            self._note(None)
            parts = urlsplit(self.path)
            match = STATUSES.match(parts.path)
            if not match or match.group(4):
                return self._answer(404, {"type": "error", "error": {"message": "Resource not found"}})
            workspace, repo, commit = match.group(1, 2, 3)
            self._answer(200, standin.page(workspace, repo, commit, parse_qs(parts.query)))

        def _note(self, body: Any) -> None:
            with standin.lock:
                standin.received.append((self.command, self.path, dict(self.headers.items()), body))

        def _answer(self, status: int, data: Any) -> None:
            text = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

    return Handler
