"""What Bitbucket Data Center's failures mean, in its own words where it gives them, and what to do."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from ...redaction import cut
from ...transport import answers
from ...transport.failures import redirect_base, redirect_target
from .contract import BUILDS

#: What ``failure()`` is told for a Code Insights request.
INSIGHTS = "insights"


def not_rest(response: requests.Response, data: Any) -> str:
    """What answered instead of Bitbucket's REST API, and what to do: a sentence ending in a full stop."""
    messages = answers.error_messages(data)
    if messages:
        quoted = "; ".join(messages)
        return (
            f"an error document ({answers.one_line(quoted, 300)}), as an API gateway or proxy sends in front "
            "of Bitbucket. Use Bitbucket's own URL in bitbucket-url, or a token the gateway accepts."
        )
    shown = answers.describe(response)
    if answers.is_html(response):
        return (
            f"{shown}: bitbucket-url reaches a login page or gateway, not Bitbucket's REST API. Use "
            "Bitbucket's own URL (with any context path) in bitbucket-url, or a token the gateway accepts."
        )
    return f"{shown}. Check that bitbucket-url is Bitbucket's own base URL."


def failure(response: requests.Response, what: str, *, api: str, scheme: str, base_url: str) -> str:
    """The message for an answer that is not a success: Bitbucket's words, then what to do."""
    status = response.status_code
    text = f"Bitbucket answered {status} {response.reason or ''}".rstrip() + f" while {what}"
    detail = server_message(response)
    if detail:
        text += f": {detail}"
    hint = _hint(response, api, scheme, base_url)
    text = text if text.endswith((".", "!", "?")) else text + "."  # the server's message may end a sentence
    return f"{text} {hint}".rstrip() if hint else text


def _hint(response: requests.Response, api: str, scheme: str, base_url: str) -> str:
    status = response.status_code
    if 300 <= status < 400:
        target = redirect_target(response)
        base = redirect_base(response, base_url) or rest_base(response)
        if base:
            return (
                f"It redirects to {target}; set bitbucket-url to {base} (redirects are not followed, so "
                "credentials stay with the host you named)."
            )
        return (
            f"It redirects to {target}, which is not Bitbucket's REST API (a login page or gateway?); set "
            "bitbucket-url to Bitbucket's own base URL (redirects are not followed, so credentials stay with "
            "the host you named)."
        )
    if status == 401:
        if scheme == "Basic":
            return (
                "Check bitbucket-username and bitbucket-password. A project or repository HTTP access "
                "token works only as Bearer: pass it as bitbucket-token instead of bitbucket-password."
            )
        return (
            "Check that bitbucket-token is a valid, unexpired HTTP access or personal access token with "
            "at least read permission on the repository."
        )
    if status == 403:
        return "The credentials are valid but lack permission: the user or token needs read access to the repository."
    if status == 404:
        if api == INSIGHTS:
            return (
                "Code Insights came with Bitbucket Data Center 5.15; check that the server is that recent, and "
                "bitbucket-project and bitbucket-repo, and that the credentials can see that repository."
            )
        if api == BUILDS:
            return (
                "Check bitbucket-project and bitbucket-repo, and that the credentials can see that "
                "repository (or set bitbucket-api: commits)."
            )
        return "Check that bitbucket-url is the Bitbucket base URL, including any context path."
    if status == 429:
        return (
            "Bitbucket's rate limit held for the whole timeout; raise timeout, or spread the jobs "
            "(Data Center limits requests per user)."
        )
    if status >= 500:
        return "Bitbucket had trouble on its side and it did not pass within the timeout; try again later."
    return ""


def rest_base(response: requests.Response) -> str:
    """The base URL before ``/rest/`` in a redirect's target (one REST address redirected to another), or ""."""
    target = urljoin(response.url or "", response.headers.get("Location", "")).split("?", 1)[0]
    index = target.find("/rest/")
    return target[:index] if index > 0 and urlsplit(target[:index]).netloc else ""


def server_message(response: requests.Response, limit: int = 500) -> str:
    """Bitbucket's own words: ``errors[].message`` joined, else the start of the body's text."""
    data = answers.parse_json(response)
    messages = answers.error_messages(data)
    if messages:
        return cut("; ".join(messages), limit)
    if isinstance(data, dict):
        for field in ("message", "error"):
            if isinstance(data.get(field), str):
                return cut(data[field], limit)
    if answers.is_html(response):
        title = answers.html_title(response)
        return f"an HTML page titled '{title}'" if title else ""
    text = " ".join(cut(response.text, limit * 2).split()) if response.content else ""
    return cut(text, limit)


def exception_names(response: requests.Response) -> list[str]:
    """The ``errors[].exceptionName`` values of a Bitbucket error answer (none for other answers)."""
    return answers.error_messages(answers.parse_json(response), "exceptionName")


def unreadable(response: requests.Response) -> str:
    """A successful read whose answer is not the JSON object of the REST API."""
    return (
        f"Bitbucket's answer ({response.status_code}) could not be understood: {answers.describe(response)} is "
        "not the JSON object of its REST API. Check that bitbucket-url is Bitbucket's own base URL."
    )
