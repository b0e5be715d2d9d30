"""The HTTP server: a ThreadingHTTPServer on loopback that hands each request to a SandboxApp."""

from __future__ import annotations

import contextlib
import gzip
import socket
import struct
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .app import SandboxApp
from .bitbucket import BitbucketConfig, BitbucketEmulation
from .bitbucket_cloud import BitbucketCloudEmulation
from .bitbucket_cloud_config import BitbucketCloudConfig
from .coveralls import CoverallsConfig, CoverallsEmulation
from .emulation import Emulation
from .faults import MAX_DELAY, FaultRule, Faults
from .messages import Headers, Outcome, Request, Response, error_response
from .webappio import WebappioConfig, WebappioEmulation

#: Request bodies larger than this are refused with 413.
MAX_BODY = 10 * 1024 * 1024
#: An idle keep-alive connection is closed after this many seconds.
IDLE_TIMEOUT = 30.0
#: How often the serving loop checks for stop(); short, so stopping (and tests) are quick.
POLL_INTERVAL = 0.01


class _BadBody(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "build-status-sandbox"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    disable_nagle_algorithm = True  # headers and body are separate writes: no delayed-ACK stalls

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_text = self.headers.get("Content-Length")
        if not length_text:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise _BadBody(400, f"Bad Content-Length {length_text!r}.") from None
        if length < 0:
            raise _BadBody(400, f"Bad Content-Length {length_text!r}.")
        if length > MAX_BODY:
            raise _BadBody(413, f"The request body is larger than {MAX_BODY} bytes.")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadBody(400, "Bad chunked encoding.") from None
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                raise _BadBody(413, f"The request body is larger than {MAX_BODY} bytes.")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)

    def _dispatch(self) -> None:
        received = time.monotonic()
        try:
            body = self._read_body()
        except _BadBody as exc:
            self.close_connection = True
            self._send(error_response(exc.status, str(exc)))
            return
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=unquote(parts.path) or "/",
            query=_first_values(parts.query),
            raw_query=parts.query,
            headers=Headers(self.headers.items()),
            body=body,
            client=self.client_address,
        )
        outcome = self.server.app.handle(request, received)
        self._carry_out(outcome)

    def _carry_out(self, outcome: Outcome) -> None:
        stopping = self.server.stopping
        if outcome.action == "hang":
            stopping.wait(outcome.delay if outcome.delay > 0 else MAX_DELAY)
            self.close_connection = True
            return
        if outcome.delay > 0:
            stopping.wait(outcome.delay)
        if outcome.action == "truncate" and outcome.response is not None and not stopping.is_set():
            self._send_half(outcome.response)
            return
        if outcome.action in HOSTILE and outcome.response is not None and not stopping.is_set():
            HOSTILE[outcome.action](self, outcome.response)
            return
        if outcome.action == "close" or outcome.response is None or stopping.is_set():
            self.close_connection = True
            return
        self._send(outcome.response)

    def _send(self, response: Response) -> None:
        data, headers = response.encode()
        try:
            self.send_response(response.status)
            for name, value in headers.items():
                self.send_header(name, value)
            if response.status not in (204, 304) and response.status >= 200:
                self.send_header("Content-Length", str(len(data)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if data and self.command != "HEAD":
                self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _send_half(self, response: Response) -> None:
        """Half of the answer's bytes (status line, headers, body), then a reset (RST, not FIN)."""
        data, headers = response.encode()
        reason = self.responses.get(response.status, ("",))[0]
        head = [f"HTTP/1.1 {response.status} {reason}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        head.append(f"Content-Length: {len(data)}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1", errors="replace") + data
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.write(raw[: len(raw) // 2])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()

    def _send_interim(self, response: Response) -> None:
        """``102 Processing`` and ``103 Early Hints`` first, then the answer."""
        with contextlib.suppress(OSError):
            self.wfile.write(
                b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
            )
        self._send(response)

    def _send_corrupt(self, response: Response) -> None:
        """200, ``Content-Encoding: gzip``, and bytes that are not gzip (the request was carried out)."""
        del response
        self._send_raw(
            200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, b"\x1f\x8b this is not gzip"
        )

    def _send_bomb(self, response: Response) -> None:
        self._send_raw(response.status, {**response.headers, "Content-Encoding": "gzip"}, compressed_zeros(1))

    def _send_double_bomb(self, response: Response) -> None:
        self._send_raw(response.status, {**response.headers, "Content-Encoding": "gzip, gzip"}, compressed_zeros(2))

    def _send_raw(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.close_connection = True
        try:
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            pass

    def _send_endless(self, response: Response) -> None:
        """A chunked body of ``x`` that ends only when the client goes away, the sandbox stops, or after
        MAX_DELAY seconds."""
        self.close_connection = True
        chunk = b"x" * 65536
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        ends = time.monotonic() + MAX_DELAY
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while not self.server.stopping.is_set() and time.monotonic() < ends:
                self.wfile.write(framed)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch


INTERIM = b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
#: Answers of the hostile fault actions, by action.
HOSTILE = {
    "interim": _Handler._send_interim,
    "corrupt": _Handler._send_corrupt,
    "bomb": _Handler._send_bomb,
    "gzip2": _Handler._send_double_bomb,
    "endless": _Handler._send_endless,
}
#: 1 GiB of zeros: gzip makes about 1 MiB of it, gzipping that again a few KiB.
BOMB_SIZE = 1024 * 1024 * 1024
_BOMBS: dict[int, bytes] = {}
_BOMBS_LOCK = threading.Lock()


def compressed_zeros(layers: int) -> bytes:
    """:data:`BOMB_SIZE` zeros, gzipped ``layers`` times (made once, then kept)."""
    with _BOMBS_LOCK:
        if layers not in _BOMBS:
            data = _gzip_zeros(BOMB_SIZE)
            for _ in range(layers - 1):
                data = gzip.compress(data, compresslevel=6, mtime=0)
            _BOMBS[layers] = data
        return _BOMBS[layers]


def _gzip_zeros(size: int) -> bytes:
    """A gzip member of ``size`` zeros (a multiple of 1 MiB), quickly: one fully flushed deflate segment of
    1 MiB of zeros repeated (a full flush resets the compressor, so every segment is the same bytes)."""
    block = bytes(1024 * 1024)
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    segment = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()  # an empty final block
    crc = 0
    for _ in range(size // len(block)):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return header + segment * (size // len(block)) + end + trailer


def _first_values(query: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        values.setdefault(name, value)
    return values


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class Sandbox:
    """A local emulation of Bitbucket's build-status REST API (Data Center and Cloud), Coveralls and webapp.io
    (plus plugged-in emulations).

    ::

        with Sandbox() as sandbox:
            post(f"{sandbox.url}/rest/build-status/1.0/commits/{sha}", json=..., auth=("sandbox", "sandbox-password"))
            sandbox.bitbucket.statuses(sha)
            post(f"{sandbox.url}/2.0/repositories/acme/app/commit/{sha}/statuses/build", json=...,
                 headers={"Authorization": "Bearer sandbox-cloud-access-token"})
            sandbox.bitbucket_cloud.statuses("acme", "app", sha)

    It binds when constructed (``port=0`` picks a free port, so :attr:`url` is known at once) and
    serves after :meth:`start` (background thread) or :meth:`serve_forever` (this thread).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bitbucket: BitbucketConfig | dict | None = None,
        bitbucket_cloud: BitbucketCloudConfig | dict | None = None,
        coveralls: CoverallsConfig | dict | None = None,
        webappio: WebappioConfig | dict | None = None,
        rate: float | None = None,
        burst: int | None = None,
    ) -> None:
        if isinstance(bitbucket, dict):
            bitbucket = BitbucketConfig(**bitbucket)
        elif bitbucket is not None and not isinstance(bitbucket, BitbucketConfig):
            raise TypeError("bitbucket must be a BitbucketConfig or a dict of its fields")
        if isinstance(bitbucket_cloud, dict):
            bitbucket_cloud = BitbucketCloudConfig(**bitbucket_cloud)
        elif bitbucket_cloud is not None and not isinstance(bitbucket_cloud, BitbucketCloudConfig):
            raise TypeError("bitbucket_cloud must be a BitbucketCloudConfig or a dict of its fields")
        if isinstance(coveralls, dict):
            coveralls = CoverallsConfig(**coveralls)
        elif coveralls is not None and not isinstance(coveralls, CoverallsConfig):
            raise TypeError("coveralls must be a CoverallsConfig or a dict of its fields")
        if isinstance(webappio, dict):
            webappio = WebappioConfig(**webappio)
        elif webappio is not None and not isinstance(webappio, WebappioConfig):
            raise TypeError("webappio must be a WebappioConfig or a dict of its fields")
        self.app = SandboxApp(rate, burst)
        self._bitbucket = BitbucketEmulation(bitbucket)
        self.app.add(self._bitbucket)
        self._bitbucket_cloud = BitbucketCloudEmulation(bitbucket_cloud)
        self.app.add(self._bitbucket_cloud)
        self._coveralls = CoverallsEmulation(coveralls)
        self.app.add(self._coveralls)
        self._webappio = WebappioEmulation(webappio)
        self.app.add(self._webappio)
        self._server = _Server((host, port), self.app)
        self._bitbucket_cloud.default_base_url = self.url
        self._coveralls.default_base_url = self.url
        self._webappio.default_base_url = self.url
        self._thread: threading.Thread | None = None
        self._serving = False
        self._closed = False

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> Sandbox:
        """Serve in a background daemon thread; returns self."""
        self._check_can_serve()
        self._serving = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, name="sandbox", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until :meth:`stop` is called from another thread (or Ctrl+C).

        If :meth:`start` already serves in the background, just wait until the sandbox stops.
        """
        if self._thread is not None and not self._closed:
            while self._thread.is_alive():
                self._thread.join(0.5)
            return
        self._check_can_serve()
        self._serving = True
        try:
            self._server.serve_forever(poll_interval=POLL_INTERVAL)
        finally:
            self._release()

    def _check_can_serve(self) -> None:
        if self._closed:
            raise RuntimeError("this sandbox has been stopped; create a new one")
        if self._serving:
            raise RuntimeError("this sandbox is already serving")

    def stop(self) -> None:
        """Stop serving, end every delay and hang, close all connections.  Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._server.stopping.set()
        if self._serving:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._release()

    def _release(self) -> None:
        self._closed = True
        self._server.stopping.set()
        self._server.server_close()
        self._server.close_connections()

    close = stop

    def __enter__(self) -> Sandbox:
        if not self._serving:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return self._server.server_address[0]

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (no trailing slash)."""
        host = self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def bitbucket_url(self) -> str:
        """The Bitbucket base URL: :attr:`url` plus the configured context path."""
        return self.url + self._bitbucket.config.context_path

    @property
    def bitbucket_cloud_url(self) -> str:
        """The Bitbucket Cloud base URL (what ``https://api.bitbucket.org`` is for the real service): :attr:`url`;
        its paths start with ``/2.0/repositories/``."""
        return self.url

    @property
    def webappio_url(self) -> str:
        """The webapp.io API base URL (what ``https://webapp.io/api/v1`` is for the real service)."""
        return self.url + "/webappio/api/v1"

    # -- emulations ----------------------------------------------------------------------------
    @property
    def bitbucket(self) -> BitbucketEmulation:
        return self._bitbucket

    @property
    def bitbucket_cloud(self) -> BitbucketCloudEmulation:
        """The Bitbucket Cloud emulation, served at :attr:`url` (``/2.0/repositories/…/statuses``)."""
        return self._bitbucket_cloud

    @property
    def coveralls(self) -> CoverallsEmulation:
        """The Coveralls emulation, served at :attr:`url` (``/api/v1/jobs``, ``/webhook``)."""
        return self._coveralls

    @property
    def webappio(self) -> WebappioEmulation:
        """The webapp.io emulation, served at :attr:`webappio_url` (``/run/<repo>/search``...)."""
        return self._webappio

    def add(self, emulation: Emulation) -> Emulation:
        """Plug in another emulation; returns it."""
        return self.app.add(emulation)

    def emulation(self, name: str) -> Emulation:
        return self.app.emulation(name)

    # -- request log ---------------------------------------------------------------------------
    def requests(self) -> list[dict]:
        """A copy of the request log (admin calls excluded; Authorization kept as its scheme only)."""
        return self.app.log.entries()

    def clear_requests(self) -> None:
        self.app.log.clear()

    # -- faults --------------------------------------------------------------------------------
    @property
    def faults(self) -> Faults:
        """The :class:`~build_status_sandbox.faults.Faults` of this sandbox."""
        return self.app.faults

    def add_fault(self, rule: FaultRule | None = None, **fields: Any) -> FaultRule:
        """Queue a fault rule: ``add_fault(status=503, times=2, retry_after="1")``."""
        return self.app.faults.add(rule, **fields)

    def clear_faults(self) -> None:
        """Remove every fault rule and the rate limit."""
        self.app.faults.clear()

    def set_rate_limit(self, rate: float | None, burst: int | None = None) -> None:
        """Token bucket per credential; ``None`` turns it off.  ``burst`` defaults to 60."""
        self.app.faults.set_rate_limit(rate, burst)

    # -- whole sandbox -------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget statuses and requests; fault rules cleared, rate limit back to the initial one."""
        self.app.reset()

    def state(self) -> dict:
        """What ``GET /_sandbox/state`` answers."""
        return self.app.state()

    def __repr__(self) -> str:
        return f"<Sandbox {self.url}>"
