"""Loopback ports the tests own: one that refuses every connection, one that refuses and then serves.

A socket bound to ``127.0.0.1:0`` but not listening refuses connections at once (the kernel answers a
reset), and keeps the port ours while the test runs: no other process can take it, and no client can be
handed it as its own source port (a port closed right after binding could be, and then connect to itself).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from unittest import mock

import urllib3.util.connection


@contextlib.contextmanager
def refusing_port() -> Iterator[int]:
    """A 127.0.0.1 port on which every connection is refused while the block runs."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


class LateServer:
    """A 127.0.0.1 port that refuses the client's first ``refusals`` connections, then answers HTTP.

    Driven by the client, not by time: the test process's connections (urllib3's ``create_connection``) are
    watched; when the ``refusals``-th attempt on this port has been refused, the socket starts listening
    *before* the error reaches urllib3's retry, so whenever the retry tries again it connects.  With
    ``refusals=None`` the port never opens (and the refused attempts are still counted).

    Every request is answered with ``status`` and the JSON ``answer``; :attr:`requests` holds
    ``(method, path, body)`` of each one.
    """

    def __init__(self, refusals: int | None, answer: dict[str, Any] | None = None, status: int = 200) -> None:
        self.refusals = refusals
        self.refused = 0
        self.connected = 0
        self.requests: list[tuple[str, str, bytes]] = []
        self._answer = json.dumps(answer if answer is not None else {"status": "ok"}).encode()
        self._status = status
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self._server = HTTPServer(("127.0.0.1", self.port), self._handler(), bind_and_activate=False)
        self._server.socket.close()
        self._server.socket = self._sock
        self._thread: threading.Thread | None = None
        self._patch = mock.patch.object(urllib3.util.connection, "create_connection", self._watch)
        self._create_connection = urllib3.util.connection.create_connection

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> LateServer:
        self._patch.start()
        if self.refusals == 0:
            self._open()
        return self

    def __exit__(self, *exc: object) -> None:
        self._patch.stop()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    def _watch(self, address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        if address[1] != self.port:
            return self._create_connection(address, *args, **kwargs)
        try:
            sock = self._create_connection(address, *args, **kwargs)
        except ConnectionRefusedError:
            with self._lock:
                self.refused += 1
                if self.refused == self.refusals:
                    self._open()
            raise
        with self._lock:
            self.connected += 1
        return sock

    def _open(self) -> None:
        self._server.server_activate()  # listen(): from now on connections are accepted
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        late = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                late.requests.append((self.command, self.path, self.rfile.read(length)))
                self.send_response(late._status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(late._answer)))
                self.end_headers()
                self.wfile.write(late._answer)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
