"""Reading what a server answered, whatever it sent: JSON that may be anything, HTML pages, odd text.

Nothing here raises on a server's answer: a body that is not JSON (or JSON too deep to parse) is
:data:`NOT_JSON`, and :func:`describe` gives a short, one-line description of any body for a message.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import requests

from ..redaction import cut
from .failures import redirect_base, redirect_target, strip_query

#: What :func:`parse_json` gives for a body that is not JSON.
NOT_JSON: Any = type("NotJson", (), {"__repr__": lambda self: "NOT_JSON", "__bool__": lambda self: False})()
#: How much of a body a message quotes.
QUOTE = 120
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


def parse_json(response: requests.Response) -> Any:
    """The body as JSON, or :data:`NOT_JSON` (not JSON, not UTF-8, nested too deep, numbers too long)."""
    data = response.content
    if not data or not data.strip():
        return NOT_JSON
    try:
        return json.loads(data)
    except (ValueError, RecursionError, MemoryError):
        return NOT_JSON


def is_html(response: requests.Response) -> bool:
    """An HTML page (a login portal, a proxy's error page), by its Content-Type or its first bytes."""
    if "html" in response.headers.get("Content-Type", "").lower():
        return True
    start = response.content[:512].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def html_title(response: requests.Response) -> str:
    match = _TITLE.search(response.content[:65536])
    if not match:
        return ""
    return one_line(match.group(1).decode("utf-8", errors="replace"), 80)


def one_line(text: str, limit: int = QUOTE) -> str:
    """White space folded to single spaces, secrets masked, then cut to ``limit`` characters (with "…")."""
    return cut(" ".join(text.split()), limit)


def describe(response: requests.Response, limit: int = QUOTE) -> str:
    """``an HTML page titled 'Sign in'``, ``an empty body``, or the start of the body in quotes."""
    if not response.content.strip():
        return "an empty body"
    if is_html(response):
        title = html_title(response)
        return f"an HTML page titled '{title}'" if title else "an HTML page"
    text = one_line(response.content[:65536].decode("utf-8", errors="replace"), limit)
    return f"'{text}'"


#: The longest URL from a server that is used as a link: Bitbucket's limit for a build status's ``url``.
URL_LIMIT = 450


def link(value: Any, limit: int = URL_LIMIT) -> tuple[str, str]:
    """A URL a server sent: the text to show (cut to ``limit``), and the link to use ("" when it cannot be
    one: not a string, not http(s), white space or control characters in it, longer than ``limit``)."""
    url = value.strip() if isinstance(value, str) else ""
    usable = (
        url.lower().startswith(("http://", "https://"))
        and len(url) <= limit
        and not any(ch.isspace() or ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in url)
        and bool(urlsplit(url).netloc)
    )
    return cut(url, limit), url if usable else ""


def unexpected(response: requests.Response, *, service: str, endpoint: str, input_name: str, limit: int) -> str:
    """What a service answered instead of its JSON, for a message: a redirect (with the base URL to put in
    ``input_name`` where the target is the same API elsewhere), an HTML page, a 2xx that could not be
    understood, or the start of the body's text (its query strings cut)."""
    status = response.status_code
    if 300 <= status < 400:
        base = redirect_base(response, endpoint)
        use = f" (set {input_name} to {base})" if base else ""
        return f"a redirect to {redirect_target(response)}{use}"
    if is_html(response):
        return f"{describe(response)}, not {service}'s JSON (HTTP {status})"
    if 200 <= status < 300:
        return f"the answer could not be understood: {describe(response)} is not {service}'s JSON"
    text = " ".join(cut(response.text, limit).split()) if response.content else ""
    return strip_query(text) or f"no explanation (HTTP {status})"


def error_messages(data: Any, field: str = "message") -> list[str]:
    """The ``errors[].<field>`` values of Bitbucket's error document (``message``, ``exceptionName``); none
    for any other JSON."""
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return []
    return [str(item[field]) for item in errors if isinstance(item, dict) and item.get(field)]
