"""The one place that builds the HTTP session: retries with backoff inside one deadline, TLS, proxies.

- Transient failures (connection errors, 429, 5xx) are retried with capped exponential backoff and
  jitter; ``Retry-After`` (seconds or an HTTP date) is honoured.  Other 4xx answers are final.
- One :class:`Deadline` bounds the whole run: no retry is started whose wait would pass it, each request's
  timeouts are cut to what is left, and :meth:`Deadline.enforced` stops a run that is still waiting on a
  server when it passes.
- Redirects are never followed (credentials must not travel to another host; a POST must not turn into a
  GET): a 3xx answer is reported with its ``Location``.
- ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` and ``REQUESTS_CA_BUNDLE``/``SSL_CERT_FILE`` are honoured.
- Every answer's body is read streamed and capped at :data:`MAX_ANSWER` bytes *after* decoding, so a
  compression bomb or an endless body ends with :class:`AnswerTooLarge`, never with the memory used up.
  A body that breaks off or cannot be decoded is :class:`AnswerUnreadable`: the request arrived, so what
  it asked for may have been carried out.
- Name lookups are bounded by the connect timeout and interim (1xx) answers are skipped
  (:mod:`.transport.connection`).
- Each retry says so as it happens (server, what failed, attempt, wait, time left), and a request that
  keeps the step waiting says so every :data:`HEARTBEAT` seconds, through the ``say`` callable the session
  was built with.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    ResponseError,
    SSLError,
)
from urllib3.util.retry import Retry

from . import __version__
from .errors import DeadlineExceeded
from .transport.connection import POOL_CLASSES, NameLookupTimeout

USER_AGENT = f"build-status/{__version__} (+https://github.com/build-status/build-status)"
#: Answers worth another try: rate limiting and server-side trouble.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: For a request that must not be repeated once it may have arrived: only answers that say it was not
#: carried out (too many requests, service unavailable) are worth another try.
ONCE_RETRY_STATUSES = frozenset({429, 503})
BACKOFF_FACTOR = 0.5
BACKOFF_MAX = 8.0
BACKOFF_JITTER = 0.5
#: The longest a single connection attempt may take (the deadline may cut it further).
CONNECT_TIMEOUT = 10.0
#: Leave this much of the deadline for reporting once the last request is given up.
RESERVE = 0.25
#: One attempt may wait for an answer at most half of what is left of the deadline (but at least this
#: long), so a server that hangs once still leaves time for another try.
ATTEMPT_FLOOR = 1.0
#: How often an answer whose body broke off is asked for again.
BROKEN_ANSWER_RETRIES = 3
#: The largest answer body read, after decoding (no answer of these APIs comes near it).
MAX_ANSWER = 8 * 1024 * 1024
#: Bytes read from the socket at a time.
CHUNK = 64 * 1024
#: While a request keeps the step waiting, a line says so at least this often (seconds).
HEARTBEAT = 5.0


class AnswerUnreadable(requests.RequestException):
    """An answer came (its status line and headers were read) but its body could not be read."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class AnswerTooLarge(AnswerUnreadable):
    """The answer's body, decoded, was larger than :data:`MAX_ANSWER`."""


class Narrator:
    """Says what the HTTP layer is doing while the step waits: retries as they happen, and a line every
    :data:`HEARTBEAT` seconds while a request is outstanding and nothing else was said."""

    def __init__(self, say: Any = None, clock: Any = time.monotonic) -> None:
        self._say = say
        self._clock = clock
        self._lock = threading.Lock()
        self.last = clock()

    def say(self, text: str) -> None:
        with self._lock:
            self.last = self._clock()
        if self._say is not None:
            self._say(text)

    @contextlib.contextmanager
    def waiting(self, host: str, deadline: Deadline) -> Iterator[None]:
        """While the body of the ``with`` runs, say every :data:`HEARTBEAT` seconds that it still waits."""
        if self._say is None:
            yield
            return
        done = threading.Event()
        started = self._clock()

        def beat() -> None:
            while not done.wait(HEARTBEAT / 5):
                with self._lock:
                    quiet = self._clock() - self.last
                if quiet >= HEARTBEAT and not done.is_set():
                    self.say(
                        f"… still waiting for {host}: {self._clock() - started:.0f} s so far, "
                        f"{deadline.remaining():.0f} s left of the {deadline.seconds:g} s timeout."
                    )

        thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()


class Deadline:
    """A point in (monotonic) time by which the run must be over."""

    def __init__(self, seconds: float, clock: Any = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self.end = clock() + seconds

    def restart(self) -> None:
        """Start the same length of time again from now (for the next part of a long run)."""
        self.end = self._clock() + self.seconds

    def remaining(self) -> float:
        return max(0.0, self.end - self._clock())

    def expired(self) -> bool:
        return self.remaining() <= 0

    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` timeouts for the next request, cut to what is left of the deadline."""
        left = max(0.05, self.remaining() - RESERVE)
        return (min(CONNECT_TIMEOUT, left), min(left, max(ATTEMPT_FLOOR, left / 2)))

    @contextlib.contextmanager
    def enforced(self) -> Iterator[None]:
        """Interrupt whatever is still running when the deadline passes (main thread, POSIX only).

        Timeouts bound each socket operation; this bounds the sum, whatever a server does (a trickle of
        bytes, a slow TLS handshake, a name lookup that hangs).
        """
        usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
        if not usable:
            yield
            return

        def on_alarm(signum: int, frame: Any) -> None:
            raise DeadlineExceeded(f"the {self.seconds:g} s deadline (timeout input) passed")

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, max(0.01, self.remaining()))
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


class DeadlineRetry(Retry):
    """urllib3's Retry that gives up, instead of sleeping, when the next wait would pass the deadline.

    Giving up on an answer (429, 5xx) hands that answer back, so its message can be reported.
    """

    def __init__(
        self, *args: Any, deadline: Deadline | None = None, narrator: Narrator | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline
        self.narrator = narrator or Narrator()

    def new(self, **kw: Any) -> DeadlineRetry:
        retry = super().new(**kw)
        retry.deadline = self.deadline
        retry.narrator = self.narrator
        return retry

    def get_retry_after(self, response: Any) -> float | None:
        """``Retry-After`` in seconds; a value that is neither whole seconds nor an HTTP date (``1.5``,
        ``-5``, ``soon``) counts as absent, so the normal backoff applies."""
        try:
            return super().get_retry_after(response)
        except (InvalidHeader, ValueError, OverflowError):
            return None

    def sleep_for_retry(self, response: Any) -> bool:
        """Wait as ``Retry-After`` says, plus jitter, so that clients told the same time do not all
        come back at the same instant."""
        retry_after = self.get_retry_after(response)
        if retry_after is None:
            return False
        time.sleep(retry_after + random.uniform(0, self.backoff_jitter))  # noqa: S311 - jitter, not crypto
        return True

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        if self.deadline is not None:
            wait = None
            if response is not None and self.respect_retry_after_header:
                wait = retry.get_retry_after(response)
            if wait is None:
                wait = retry.get_backoff_time()
            else:
                wait += self.backoff_jitter
            # The next attempt needs time too, not only the wait before it.
            left = self.deadline.remaining()
            if wait + RESERVE * 2 >= left:
                reason = error or ResponseError(f"giving up: waiting {wait:.1f} s to retry would pass the deadline")
                raise MaxRetryError(_pool, url, reason) from reason  # type: ignore[arg-type]
            failed = f"answered {response.status}" if response is not None else describe_exception(error)
            self.narrator.say(
                f"{_where(_pool)}: {failed} (attempt {len(retry.history)}); trying again in {wait:.1f} s, "
                f"{left:.1f} s left of the {self.deadline.seconds:g} s timeout."
            )
        return retry


def _where(pool: Any) -> str:
    host = getattr(pool, "host", "") or "the server"
    port = getattr(pool, "port", None)
    default = {"http": 80, "https": 443}.get(getattr(pool, "scheme", ""))
    return f"{host}:{port}" if port and port != default else host


def make_retry(
    deadline: Deadline, *, once: bool = False, total: int = 20, narrator: Narrator | None = None
) -> DeadlineRetry:
    """The retry policy.

    By default every method is retried (a status POST is safe to repeat: Bitbucket keeps one result per
    key, and closing a Coveralls build twice is recognised).  ``once`` is for requests that must not be
    carried out twice (starting a CI run): retried only when the request surely never arrived (the
    connection could not be made) or the server said it did not carry it out (429, 503); never after a
    read error, when it may have arrived.
    """
    return DeadlineRetry(
        total=total,
        connect=total,
        read=0 if once else total,
        status=total,
        other=0,
        redirect=0,
        allowed_methods=None,
        status_forcelist=ONCE_RETRY_STATUSES if once else RETRY_STATUSES,
        backoff_factor=BACKOFF_FACTOR,
        backoff_max=BACKOFF_MAX,
        backoff_jitter=BACKOFF_JITTER,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
        deadline=deadline,
        narrator=narrator,
    )


class BoundedAdapter(HTTPAdapter):
    """requests' adapter on connections whose name lookups are bounded and which skip interim answers."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOL_CLASSES

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = POOL_CLASSES
        return manager


def build_session(
    deadline: Deadline,
    *,
    verify: bool | str = True,
    once: bool = False,
    say: Any = None,
) -> requests.Session:
    """A session with the retry policy (see :func:`make_retry`), TLS verification and our User-Agent.

    ``say`` (e.g. ``Console.info``) is told of each retry as it happens, and every few seconds while a
    request keeps the step waiting.
    """
    session = requests.Session()
    retry = make_retry(deadline, once=once, narrator=Narrator(say))
    adapter = BoundedAdapter(max_retries=retry, pool_connections=4)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    session.verify = verify
    return session


def request(session: requests.Session, deadline: Deadline, method: str, url: str, **kwargs: Any) -> requests.Response:
    """One exchange (with its retries), with timeouts cut to the deadline and no redirects followed.

    The answer's body is read here, streamed and capped (:func:`read_body`); the response handed back has
    it in ``content``.  urllib3's retries cover everything up to the answer's headers; an answer whose
    *body* breaks off (connection reset mid-answer) surfaces while it is read, so it is retried here, under
    the same policy (never for a session whose requests must not be repeated after a read error).
    """
    kwargs.setdefault("allow_redirects", False)
    # Explicitly, or requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE replace the session's choice (which
    # already holds that bundle, plus ca-cert; or False for insecure).
    kwargs.setdefault("verify", session.verify)
    kwargs["stream"] = True
    own_timeout = "timeout" not in kwargs
    adapter = session.get_adapter(url) if hasattr(session, "get_adapter") else None
    retry = getattr(adapter, "max_retries", None) or make_retry(deadline)
    narrator: Narrator = getattr(retry, "narrator", None) or Narrator()
    host = urlsplit(url).netloc.rpartition("@")[2]
    broken = 0
    with narrator.waiting(host, deadline):
        while True:
            if deadline.expired():
                raise DeadlineExceeded(f"the {deadline.seconds:g} s deadline (timeout input) passed")
            if own_timeout:
                kwargs["timeout"] = deadline.timeout()
            response = session.request(method, url, **kwargs)
            try:
                read_body(response)
                return response
            except AnswerTooLarge:
                raise
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError) as exc:
                broken += 1
                wait = min(BACKOFF_MAX, BACKOFF_FACTOR * 2 ** (broken - 1)) + random.uniform(0, BACKOFF_JITTER)  # noqa: S311
                reason = describe_exception(exc)
                if not retry.read or broken > BROKEN_ANSWER_RETRIES or wait + RESERVE * 2 >= deadline.remaining():
                    raise AnswerUnreadable(
                        f"answered {response.status_code} but the answer broke off ({reason})",
                        status=response.status_code,
                    ) from None
                narrator.say(
                    f"{host}: the answer broke off ({reason}; attempt {broken}); trying again in {wait:.1f} s, "
                    f"{deadline.remaining():.1f} s left of the {deadline.seconds:g} s timeout."
                )
            except requests.exceptions.RequestException as exc:
                raise AnswerUnreadable(
                    f"answered {response.status_code} but the answer could not be read ({describe_exception(exc)})",
                    status=response.status_code,
                ) from None
            finally:
                response.close()
            time.sleep(wait)


def read_body(response: requests.Response, limit: int = MAX_ANSWER) -> bytes:
    """Read the answer's body, decoded, into ``response.content``; at most ``limit`` bytes.

    urllib3 decodes gzip/deflate/zstd a bounded piece at a time, so neither a compression bomb nor a
    stack of encodings (``gzip, gzip``) makes more than a chunk at once; an endless body is cut at the cap.
    """
    if response._content is not False:  # read already (a response made up by a test)
        return response.content
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(CHUNK):
        size += len(chunk)
        if size > limit:
            raise AnswerTooLarge(
                f"answered {response.status_code} with more than {limit // (1024 * 1024)} MiB (decoded); "
                "no answer of this API is that large",
                status=response.status_code,
            )
        chunks.append(chunk)
    response._content = b"".join(chunks)  # what requests' ``content``, ``text`` and ``json()`` read
    return response._content


def default_ca_file(env: dict[str, str]) -> str | None:
    """The CA bundle the environment asks for (``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE``), if any."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        path = env.get(name, "")
        if path and os.path.isfile(path):
            return path
    return None


def tls_verify(ca_pem: str, insecure: bool, env: dict[str, str], workdir: str) -> bool | str:
    """What to pass as ``verify``: False, the environment's bundle, or a bundle with ``ca-cert`` added.

    ``ca-cert`` is trusted *in addition to* the usual CAs, so one run can talk to a Bitbucket behind a
    private CA and to a public service.
    """
    if insecure:
        return False
    base = default_ca_file(env)
    if not ca_pem:
        return base or True
    if base is None:
        import certifi

        base = certifi.where()
    with open(base, encoding="utf-8", errors="replace") as handle:
        bundle = handle.read().rstrip("\n") + "\n" + ca_pem
    fd, path = tempfile.mkstemp(prefix="ca-", suffix=".pem", dir=workdir)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(bundle)
    return path


def may_have_arrived(exc: BaseException) -> bool:
    """Whether the request may have reached the server (and been carried out) before the exchange failed.

    False only when no connection was made: the name did not resolve, the connection was refused or timed
    out, TLS or the proxy failed.  A connection closed before the answer, an answer that never came or
    broke off: the request was sent, so it may have been carried out.
    """
    if isinstance(exc, AnswerUnreadable):
        return True
    if isinstance(
        exc, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError, requests.exceptions.ProxyError)
    ):
        return False
    reason = _innermost(exc)
    if isinstance(reason, (NewConnectionError, ConnectTimeoutError, SSLError, ProxyError)):
        return False
    return isinstance(reason, (ProtocolError, ReadTimeoutError)) or isinstance(
        exc, (requests.exceptions.ReadTimeout, requests.exceptions.ChunkedEncodingError)
    )


def no_answer(service: str, url: str, what: str, exc: BaseException, input_name: str, *, landed: str = "") -> str:
    """The message for an exchange with ``service`` that ended without an answer to use: "Could not reach …"
    when no connection was made, else that the request was sent but no readable answer came, followed by
    ``landed`` (what may have been carried out) and, for ``http://`` to a server that speaks only TLS, a
    hint.  Never the URL's query string (where a token may travel)."""
    host = urlsplit(url).netloc.rpartition("@")[2]
    reason = describe_exception(exc).rstrip(".")  # the sentence adds its own
    if may_have_arrived(exc):
        text = f"{service} at {host} was sent the request but gave no readable answer while {what}: {reason}."
        return text + (f" {landed}" if landed else "") + _scheme_hint(url, exc, input_name)
    text = f"Could not reach {service} at {host} while {what}: {reason}."
    if reason == "the host name does not resolve":
        text += f" Check {input_name} (and HTTPS_PROXY/NO_PROXY if a proxy is needed)."
    return text


def _scheme_hint(url: str, exc: BaseException, input_name: str) -> str:
    """For ``http://`` to a server that speaks only TLS (it closes the connection without an answer)."""
    if urlsplit(url).scheme != "http" or isinstance(exc, AnswerUnreadable):
        return ""
    if describe_exception(exc) != "the connection was closed before an answer came":
        return ""
    return f" If the server speaks only HTTPS, use https:// in {input_name}."


def _innermost(exc: BaseException) -> BaseException | None:
    """The cause inside requests' wrapping of urllib3's MaxRetryError."""
    reason: BaseException | None = exc
    for _ in range(4):
        inner = reason.args[0] if reason is not None and reason.args else None
        if isinstance(inner, MaxRetryError):
            reason = inner.reason
        elif isinstance(reason, MaxRetryError):
            reason = reason.reason
        else:
            break
    return reason


def describe_exception(exc: BaseException) -> str:
    """A short, URL-free reason for a failed exchange (no query string, so no token, can leak)."""
    if isinstance(exc, AnswerUnreadable):
        return exc.message
    reason = _innermost(exc)
    if isinstance(reason, NameLookupTimeout):
        return "the name lookup did not answer in time (is a DNS server reachable?)"
    text = str(reason) if reason is not None else str(exc)
    lowered = text.lower()
    if isinstance(exc, requests.exceptions.ProxyError) or isinstance(reason, ProxyError):
        inner = getattr(reason, "original_error", None) or (reason.args[-1] if reason and reason.args else None)
        cause = describe_exception(inner) if isinstance(inner, BaseException) and inner is not reason else "failed"
        return f"the proxy could not be reached or refused ({cause}); check HTTPS_PROXY/HTTP_PROXY and NO_PROXY"
    if isinstance(exc, requests.exceptions.SSLError) or "certificate" in lowered or "ssl" in lowered:
        if "hostname mismatch" in lowered or "doesn't match" in lowered or "not valid for" in lowered:
            return "TLS: the server's certificate is not valid for this host name"
        if "certificate verify failed" in lowered:
            return (
                "TLS: the server's certificate is not trusted (certificate verify failed); if the server uses a "
                "private CA, give its certificate in ca-cert"
            )
        return "TLS handshake failed"
    if (
        "name or service not known" in lowered
        or "nodename nor servname" in lowered
        or "getaddrinfo" in lowered
        or "name resolution" in lowered
        or "no address associated" in lowered
    ):
        return "the host name does not resolve"
    if "connection refused" in lowered:
        return "connection refused"
    if "read timed out" in lowered or "timed out" in lowered or isinstance(exc, requests.exceptions.Timeout):
        return "timed out waiting for the server"
    if (
        "reset" in lowered
        or "aborted" in lowered
        or "remotedisconnected" in lowered
        or "connection broken" in lowered
        or "without response" in lowered
    ):
        return "the connection was closed before an answer came"
    if "giving up" in lowered:
        return text[text.find("giving up") :]
    return strip_query(type(reason).__name__ if reason is not None else type(exc).__name__)


def redirect_base(response: requests.Response, base_url: str) -> str:
    """The base URL a redirect of a request under ``base_url`` points to: its target without the part of
    the path the request added (``https://new.example.com/bitbucket`` for a REST endpoint), or "" when the
    target does not end as the request did (a login page, another API)."""
    requested = (response.url or "").split("?", 1)[0]
    base = base_url.rstrip("/")
    if not requested.startswith(base):
        return ""
    tail = requested[len(base) :]
    target = urljoin(requested, response.headers.get("Location", "")).split("?", 1)[0].split("#", 1)[0]
    if not tail or not target.startswith(("http://", "https://")) or not target.endswith(tail):
        return ""
    found = target[: len(target) - len(tail)]
    return found if urlsplit(found).netloc else ""


def redirect_target(response: requests.Response) -> str:
    """Where a 3xx answer points, without its query string (which may carry a token)."""
    return strip_query(response.headers.get("Location", "")) or "another address (no Location given)"


def strip_query(text: str) -> str:
    """Cut the query string (which may carry a token) off every URL in ``text``."""
    return re.sub(r"(https?://[^\s?'\"]*)\?[^\s'\"]*", r"\1?…", text)
