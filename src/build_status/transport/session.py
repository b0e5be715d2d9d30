"""The one place that builds the HTTP session (TLS, proxies, the retry policy), and the one exchange.

- Redirects are never followed (credentials must not travel to another host; a POST must not turn into a
  GET): a 3xx answer is reported with its ``Location``.
- ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` and ``REQUESTS_CA_BUNDLE``/``SSL_CERT_FILE`` are honoured.
- Every answer's body is read streamed and capped at :data:`MAX_ANSWER` bytes *after* decoding, so a
  compression bomb or an endless body ends with :class:`AnswerTooLarge`, never with the memory used up.
  A body that breaks off or cannot be decoded is :class:`AnswerUnreadable`: the request arrived, so what
  it asked for may have been carried out.
- Name lookups are bounded by the connect timeout and interim (1xx) answers are skipped
  (:mod:`.connection`).
- Retries with backoff inside one deadline: :mod:`.deadline`.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from .. import __version__
from ..errors import DeadlineExceeded
from .connection import POOL_CLASSES
from .deadline import BACKOFF_FACTOR, BACKOFF_JITTER, BACKOFF_MAX, RESERVE, Deadline, Narrator, make_retry

USER_AGENT = f"build-status/{__version__} (+https://github.com/build-status/build-status)"
#: How often an answer whose body broke off is asked for again.
BROKEN_ANSWER_RETRIES = 3
#: The largest answer body read, after decoding (no answer of these APIs comes near it).
MAX_ANSWER = 8 * 1024 * 1024
#: Bytes read from the socket at a time.
CHUNK = 64 * 1024


class AnswerUnreadable(requests.RequestException):
    """An answer came (its status line and headers were read) but its body could not be read."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class AnswerTooLarge(AnswerUnreadable):
    """The answer's body, decoded, was larger than :data:`MAX_ANSWER`."""


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
    # Here, not at the top: failures (describing) needs this module's AnswerUnreadable.
    from .failures import describe_exception

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
