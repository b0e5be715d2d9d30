"""Bitbucket Cloud over a session: posting a status (landed only on the status object sent back), reading a
commit's statuses page by page, and what its answers mean."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import requests

from ...errors import RemoteError
from ...redaction import cut
from ...transport import answers
from ...transport.deadline import Deadline
from ...transport.failures import no_answer, redirect_target
from ...transport.session import request
from ..interface import Endpoint, Request, StatusConnection, StatusReader
from .remote import ENDPOINT, PAGE, statuses_url

if TYPE_CHECKING:
    from .remote import BitbucketCloud

#: Never follow more pages than this (a server that keeps naming a next one).
MAX_PAGES = 1000
#: Words of Cloud's refusal to let anyone but a status's creator update it.
CREATOR_WORDS = ("creator", "created by", "owner")


class CloudConnection(StatusConnection):
    def __init__(self, remote: BitbucketCloud, session: requests.Session, deadline: Deadline) -> None:
        self.remote = remote
        self.session = session
        self.deadline = deadline

    def ask_endpoint(self, state: str) -> Endpoint:
        return ENDPOINT  # one endpoint: nothing to ask

    def send(self, sent: Request) -> None:
        """Post a status; it counts as landed only on a 200/201 that carries the status object with the key
        and state sent. A Code Insights request lands on the report object (PUT) or the list of annotations
        (POST) Cloud sends back."""
        if sent.endpoint == "insights":
            self._insight(sent)
            return
        response = self.call("POST", sent.url, sent.what, json=sent.body)
        data = answers.parse_json(response)
        if (
            response.status_code in (200, 201)
            and isinstance(data, dict)
            and data.get("key") == sent.body["key"]
            and data.get("state") == sent.body["state"]
            and "error" not in data
        ):
            return
        raise RemoteError(
            f"Bitbucket Cloud answered {response.status_code} while {sent.what}, but not with the status it was "
            f"sent: it sent {_not_api(response, data)} The status did not land.",
            status=response.status_code,
        )

    def _insight(self, sent: Request) -> None:
        kwargs = {"json": sent.body} if sent.body is not None else {}
        response = self.call(sent.method, sent.url, sent.what, **kwargs)
        data = answers.parse_json(response)
        wanted = {"PUT": dict, "POST": list}.get(sent.method)
        if wanted is None or (isinstance(data, wanted) and not (isinstance(data, dict) and "error" in data)):
            return
        raise RemoteError(
            f"Bitbucket Cloud answered {response.status_code} while {sent.what}, but not as its REST API does: "
            f"it sent {_not_api(response, data)}",
            status=response.status_code,
        )

    def reader(self, own_key: str, patterns: Sequence[str], console: Any) -> StatusReader:
        from .reading import CloudReader

        return CloudReader(self, own_key, patterns)

    def pages(self, sha: str) -> list[dict[str, Any]]:
        """Every status of a commit, following ``next`` (only to this Bitbucket: the credentials go along)."""
        values: list[dict[str, Any]] = []
        what = f"reading the build statuses of {sha[:12]}"
        url, params = statuses_url(self.remote.target, sha), {"pagelen": PAGE}
        for _ in range(MAX_PAGES):
            response = self.call("GET", url, what, params=params)
            page = answers.parse_json(response)
            if not isinstance(page, dict) or not isinstance(page.get("values", []), list):
                raise RemoteError(_unreadable(response), status=response.status_code)
            values.extend(value for value in page.get("values", []) if isinstance(value, dict))
            following = page.get("next")
            if not isinstance(following, str) or not following:
                return values
            if not following.startswith(self.remote.base_url + "/"):
                raise RemoteError(
                    f"Bitbucket Cloud named a next page elsewhere ({cut(following, 120)}); it was not followed, "
                    "so that the credentials stay with bitbucket-url."
                )
            url, params = following, None
        return values

    def call(self, method: str, url: str, what: str, **kwargs: Any) -> requests.Response:
        """One exchange; RemoteError for no answer or an answer that is not a success."""
        headers = {"Authorization": self.remote.auth.header, "Accept": "application/json"}
        try:
            response = request(self.session, self.deadline, method, url, headers=headers, **kwargs)
        except requests.RequestException as exc:
            landed = "The status may have landed; the answer could not be read." if method == "POST" else ""
            raise RemoteError(no_answer("Bitbucket", url, what, exc, "bitbucket-url", landed=landed)) from None
        if not 200 <= response.status_code < 300:
            raise RemoteError(cloud_failure(response, what, self.remote.auth.scheme), status=response.status_code)
        return response


def cloud_message(response: requests.Response, limit: int = 500) -> str:
    """Cloud's own words: ``error.message`` with its ``fields`` (``key: Ensure this value …``), each field
    once (Cloud's message already says them, or only ``Bad request`` in older answers)."""
    data = answers.parse_json(response)
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        text = error["message"]
        fields = error.get("fields")
        if isinstance(fields, dict):
            said = [
                f"{name}: {' '.join(str(item) for item in items) if isinstance(items, list) else items}"
                for name, items in fields.items()
            ]
            said = [field for field in said if field not in text]
            text += f" ({'; '.join(said)})" if said else ""
        return cut(text, limit)
    if answers.is_html(response):
        title = answers.html_title(response)
        return f"an HTML page titled '{title}'" if title else ""
    return cut(" ".join(cut(response.text, limit * 2).split()), limit) if response.content else ""


def cloud_failure(response: requests.Response, what: str, scheme: str) -> str:
    status = response.status_code
    text = f"Bitbucket Cloud answered {status} {response.reason or ''}".rstrip() + f" while {what}"
    detail = cloud_message(response)
    text = (text + (f": {detail}" if detail else "")).rstrip()
    text = text if text.endswith((".", "!", "?")) else text + "."
    hint = _hint(response, detail, scheme)
    return f"{text} {hint}" if hint else text


def _hint(response: requests.Response, detail: str, scheme: str) -> str:
    status = response.status_code
    if 300 <= status < 400:
        return (
            f"It redirects to {redirect_target(response)}; set bitbucket-url to Bitbucket Cloud's API "
            "(https://api.bitbucket.org, the default) or to your proxy's base URL (redirects are not followed)."
        )
    if status == 401:
        given = "bitbucket-username and bitbucket-password" if scheme == "Basic" else "bitbucket-token"
        return (
            f"Check {given}. Bitbucket Cloud takes an access token (repository, project or workspace) or an OAuth "
            "token as bitbucket-token (Bearer), or your Atlassian account e-mail as bitbucket-username with an API "
            "token as bitbucket-password (Basic); app passwords no longer work (Atlassian disabled them in 2026)."
        )
    if status == 403:
        if any(word in detail.lower() for word in CREATOR_WORDS):
            return (
                "Bitbucket Cloud lets only a status's creator update it: post with the credential that created "
                "this key, or use another key."
            )
        return (
            "The credential lacks permission on the repository (it needs read:repository:bitbucket), or the key "
            "was created by another user or token: Bitbucket Cloud lets only a status's creator update it, so "
            "post with that credential or use another key."
        )
    if status == 404:
        return (
            "Check bitbucket-workspace and bitbucket-repo, and that the credential can see that repository "
            "(and the commit is in it)."
        )
    if status == 429:
        return (
            "Bitbucket Cloud's rate limit (about 1,000 requests an hour per user or access token) held for the "
            "whole timeout; raise timeout, or give the jobs their own access token."
        )
    if status >= 500:
        return "Bitbucket Cloud had trouble on its side and it did not pass within the timeout; try again later."
    return ""


def _not_api(response: requests.Response, data: Any) -> str:
    """What answered instead of Cloud's REST API, and what to do: a sentence ending in a full stop."""
    shown = answers.describe(response)
    if answers.is_html(response):
        return (
            f"{shown}: bitbucket-url reaches a login page or gateway, not Bitbucket Cloud's REST API. Use "
            "https://api.bitbucket.org (the default), or a token the gateway accepts."
        )
    if isinstance(data, dict) and "error" in data:
        return f"an error document ({answers.one_line(str(data.get('error')), 300)}). Check bitbucket-url."
    return f"{shown}. Check that bitbucket-url is Bitbucket Cloud's API (https://api.bitbucket.org)."


def _unreadable(response: requests.Response) -> str:
    return (
        f"Bitbucket Cloud's answer ({response.status_code}) could not be understood: {answers.describe(response)} "
        "is not a page of commit statuses. Check that bitbucket-url is Bitbucket Cloud's API."
    )
