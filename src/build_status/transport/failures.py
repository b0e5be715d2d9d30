"""Explaining a failed exchange: what went wrong, in a short sentence with no URL query (so no token).

- :func:`describe_exception` turns requests' and urllib3's wrapped exceptions into a reason (the name does
  not resolve, connection refused, TLS, the proxy, timed out, closed before an answer).
- :func:`may_have_arrived` tells a request that surely never reached the server from one that may have
  been carried out, and :func:`no_answer` builds the message for either.
- :func:`redirect_target` and :func:`redirect_base` say where a 3xx answer points (redirects are never
  followed); :func:`strip_query` cuts the query string off every URL in a text.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)

from .connection import NameLookupTimeout
from .session import AnswerUnreadable


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
