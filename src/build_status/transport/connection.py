"""The connection layer under the HTTP session: name lookups bounded in time, interim answers skipped.

- **Name lookups.** ``getaddrinfo`` is a C call that no timeout or signal interrupts: a resolver that never
  answers would hold the step for as long as the system's resolver settings say (often 30 s or more per
  name).  Each lookup runs in a daemon thread, and the connection waits for it at most its connect timeout
  (itself cut to the deadline); a lookup that has not answered by then fails the attempt like a connect
  timeout.
- **Interim (1xx) answers.** ``http.client`` skips ``100 Continue`` but takes any other 1xx (``102
  Processing``, ``103 Early Hints``) for the final answer, leaving the real one unread on the socket.  The
  response class here skips every 1xx but ``101`` and reads the final answer.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import threading
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

#: At most this many interim answers before the final one (a server that sends nothing else is broken).
MAX_INTERIM = 32
#: A lookup with no timeout of its own still ends within this many seconds of waiting.
LOOKUP_CEILING = 30.0


class NameLookupTimeout(NameResolutionError):
    """The name lookup did not answer within the connect timeout."""


class FinalAnswer(http.client.HTTPResponse):
    """An ``http.client`` response that reads past interim (1xx) answers to the final one."""

    def _read_status(self) -> tuple[str, int, str]:
        for _ in range(MAX_INTERIM):
            version, status, reason = super()._read_status()
            if not (100 < status < 200) or status == 101:
                # 100 is skipped by http.client itself; 101 (switching protocols) is never asked for.
                return version, status, reason
            http.client.parse_headers(self.fp)  # the interim answer's headers, dropped
        raise http.client.HTTPException(f"more than {MAX_INTERIM} interim (1xx) answers without a final one")


def lookup(host: str, port: int, timeout: float | None) -> list[tuple[Any, ...]]:
    """``getaddrinfo`` for a TCP connection, waiting at most ``timeout`` seconds for the resolver.

    Raises :class:`socket.gaierror` as ``getaddrinfo`` does, or :class:`TimeoutError` when the resolver has
    not answered in time (its thread is left to finish on its own; it holds no lock and no socket of ours).
    """
    if _is_address(host):
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def resolve() -> None:
        try:
            outcome["value"] = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except BaseException as exc:  # handed to the waiting thread
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=resolve, name=f"lookup {host}", daemon=True).start()
    wait = LOOKUP_CEILING if timeout is None else max(0.01, min(timeout, LOOKUP_CEILING))
    if not done.wait(wait):
        raise TimeoutError(f"the name lookup of {host} did not answer within {wait:.1f} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


class _BoundedConnect:
    """Mixed into urllib3's connections: look the name up within the timeout, then connect by address."""

    response_class = FinalAnswer

    def _new_conn(self) -> socket.socket:
        host = self._dns_host  # type: ignore[attr-defined]
        try:
            addresses = lookup(host, self.port, _seconds(self.timeout))  # type: ignore[attr-defined]
        except TimeoutError as exc:
            raise NameLookupTimeout(self.host, self, socket.gaierror(socket.EAI_AGAIN, str(exc))) from exc  # type: ignore[attr-defined,arg-type]
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[attr-defined,arg-type]
        last: Exception | None = None
        try:
            for family, _, _, _, sockaddr in addresses:
                if family not in (socket.AF_INET, socket.AF_INET6):
                    continue
                self._dns_host = sockaddr[0]  # type: ignore[attr-defined]
                try:
                    return super()._new_conn()  # type: ignore[misc]
                except (ConnectTimeoutError, NewConnectionError) as exc:
                    last = exc
        finally:
            self._dns_host = host  # type: ignore[attr-defined]
        if last is not None:
            raise last
        raise NameResolutionError(self.host, self, socket.gaierror(socket.EAI_NONAME, "no usable address"))  # type: ignore[attr-defined,arg-type]


def _seconds(timeout: Any) -> float | None:
    return float(timeout) if isinstance(timeout, (int, float)) else None


class BoundedHTTPConnection(_BoundedConnect, HTTPConnection):
    pass


class BoundedHTTPSConnection(_BoundedConnect, HTTPSConnection):
    pass


class BoundedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = BoundedHTTPConnection


class BoundedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = BoundedHTTPSConnection


#: For a pool manager's ``pool_classes_by_scheme``.
POOL_CLASSES = {"http": BoundedHTTPConnectionPool, "https": BoundedHTTPSConnectionPool}
