"""Two small loopback servers for the TLS and proxy scenarios (stdlib only, bounded in time).

- :class:`TlsFront`: a TLS-terminating TCP relay in front of a plain-HTTP server (the sandbox), so the
  real emulations are reachable over HTTPS with a generated (trustme) certificate.
- :class:`ForwardProxy`: an HTTP forward proxy: absolute-form requests are forwarded to the origin,
  ``CONNECT host:port`` is tunnelled.  It records request lines and header *names* only: never a body,
  never a header value (so no ``Authorization``/``Proxy-Authorization`` credential is kept).

Every socket has a timeout, every relay gives up after :data:`IDLE` seconds without traffic, and
``stop()`` closes everything and joins the threads (with a timeout).  Both are context managers.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import ssl
import threading
from typing import Any
from urllib.parse import urlsplit

#: How long a socket operation (or a relay with no traffic either way) may wait.
IDLE = 10.0
#: How often waiting loops look at the stop flag.
TICK = 0.1
#: The longest request head the proxy reads.
MAX_HEAD = 64 * 1024


class _Server:
    """A listening socket on 127.0.0.1 (a free port) and a thread per connection."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(TICK)
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        #: TCP connections accepted so far.
        self.accepted = 0
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"{type(self).__name__}-accept", daemon=True)
        self._acceptor.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except (socket.timeout, BlockingIOError):
                continue
            except OSError:
                return
            conn.settimeout(IDLE)
            with self._lock:
                if self._stopping.is_set():
                    conn.close()
                    return
                self.accepted += 1
                self._sockets.add(conn)
                thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.handle(conn)
        except OSError:
            pass
        finally:
            self._close(conn)

    def handle(self, conn: socket.socket) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _track(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.add(sock)
        if self._stopping.is_set():
            self._close(sock)
        return sock

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.close()

    def _connect(self, host: str, port: int) -> socket.socket:
        return self._track(socket.create_connection((host, port), timeout=IDLE))

    def _relay(self, one: socket.socket, other: socket.socket) -> None:
        """Copy bytes both ways until either side closes, nothing moves for IDLE seconds, or stop()."""
        peer = {one: other, other: one}
        with selectors.DefaultSelector() as selector:
            selector.register(one, selectors.EVENT_READ)
            selector.register(other, selectors.EVENT_READ)
            idle = 0.0
            while not self._stopping.is_set() and idle < IDLE:
                # A TLS socket may hold decrypted bytes the selector cannot see.
                ready = [s for s in peer if isinstance(s, ssl.SSLSocket) and s.pending()]
                ready += [key.fileobj for key, _ in selector.select(0 if ready else TICK) if key.fileobj not in ready]
                if not ready:
                    idle += TICK
                    continue
                idle = 0.0
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peer[sock].sendall(data)

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
            threads = [self._acceptor, *self._threads]
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            self._close(sock)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=2)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class TlsFront(_Server):
    """HTTPS on 127.0.0.1 in front of ``target_host:target_port`` (plain TCP), with a trustme leaf.

    ``accepted`` counts TCP connections (one per TLS handshake attempt); ``handshakes`` counts the
    handshakes that succeeded; only those are relayed to the target.
    """

    def __init__(self, target_host: str, target_port: int, cert: Any) -> None:
        self.target = (target_host, target_port)
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(self._context)
        self.handshakes = 0
        super().__init__()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def handle(self, conn: socket.socket) -> None:
        try:
            tls = self._context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client refused the certificate (or went away): nothing reaches the target
        self._track(tls)
        try:
            with self._lock:
                self.handshakes += 1
            upstream = self._connect(*self.target)
            try:
                self._relay(tls, upstream)
            finally:
                self._close(upstream)
        finally:
            self._close(tls)


class ForwardProxy(_Server):
    """An HTTP forward proxy on 127.0.0.1.

    ``seen``: every request line as ``"METHOD target"`` (a query string shown as ``?…``);
    ``header_names``: the lower-cased header names of each request (names only); ``proxy_authorization``:
    whether any request carried ``Proxy-Authorization``.
    """

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.header_names: list[list[str]] = []
        self.proxy_authorization = False
        super().__init__()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(self, conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk or len(head) > MAX_HEAD:
                return
            head += chunk
        head, _, rest = head.partition(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ", 2)
        names = [line.split(":", 1)[0].strip().lower() for line in header_lines if ":" in line]
        with self._lock:
            # A query string may carry a token (Coveralls' repo_token): keep only that there was one.
            self.seen.append(f"{method} {target.split('?', 1)[0]}{'?…' if '?' in target else ''}")
            self.header_names.append(names)
            self.proxy_authorization |= "proxy-authorization" in names
        if method.upper() == "CONNECT":
            host, _, port = target.rpartition(":")
            try:
                upstream = self._connect(host.strip("[]"), int(port))
            except (OSError, ValueError):
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            parts = urlsplit(target)
            if parts.scheme != "http" or not parts.hostname:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            # One request per connection: the origin closes after answering, and so does the relay.
            kept = [
                line
                for line in header_lines
                if line.split(":", 1)[0].strip().lower()
                not in ("proxy-authorization", "proxy-connection", "connection")
            ]
            forwarded = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close", "", ""])
            try:
                upstream = self._connect(parts.hostname, parts.port or 80)
            except OSError:
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            upstream.sendall(forwarded.encode("latin-1") + rest)
            rest = b""
        try:
            if rest:
                upstream.sendall(rest)
            self._relay(conn, upstream)
        finally:
            self._close(upstream)
