"""Bitbucket Server / Data Center's build-status REST API: capabilities, posting, reading back."""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import quote, urljoin, urlsplit

import requests

from .contract import BUILDS
from .errors import RemoteError
from .settings import Auth
from .transport import answers
from .transport import session as transport
from .transport.deadline import Deadline
from .transport.failures import no_answer, redirect_base, redirect_target
from .workflow import cut

RICH = "richBuildStatus"
CANCELLED_CAPABILITY = "cancelledStatus"
#: ``exceptionName`` of the 404s that a GET by key gives on a server that has the endpoint.
NO_BUILD_STATUS = "com.atlassian.bitbucket.build.status.NoSuchBuildStatusException"
NO_COMMIT = "com.atlassian.bitbucket.commit.NoSuchCommitException"
#: A wrong bitbucket-project/-repo: the user's mistake, reported like a post's.
NO_REPOSITORY = (
    "com.atlassian.bitbucket.project.NoSuchProjectException",
    "com.atlassian.bitbucket.repository.NoSuchRepositoryException",
)
#: Never ask for more pages than this (a server that keeps saying there is another page).
MAX_PAGES = 1000


class Capabilities(NamedTuple):
    """What the server said of itself: None for a server too old to answer (404)."""

    builds: bool
    newer_states: bool

    @classmethod
    def from_answer(cls, answer: Any) -> Capabilities:
        items = answer.get("buildStatus") if isinstance(answer, dict) else None
        names = {str(item) for item in items} if isinstance(items, list) else set()
        return cls(builds=RICH in names, newer_states=CANCELLED_CAPABILITY in names)


OLD_SERVER = Capabilities(builds=False, newer_states=False)


class NoEndpoint(RemoteError):
    """The server has no ``GET …/builds?key=`` (Bitbucket older than 7.14): read the commit-only list instead."""


class NotInRepository(RemoteError):
    """The commit is not in bitbucket-project/-repo (a commit-only status can sit on a fork's commit)."""


class Bitbucket:
    def __init__(self, session: requests.Session, deadline: Deadline, base_url: str, auth: Auth) -> None:
        self.session = session
        self.deadline = deadline
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.host = urlsplit(base_url).netloc

    # -- addresses -------------------------------------------------------------------------------
    def commits_url(self, sha: str) -> str:
        return f"{self.base_url}/rest/build-status/1.0/commits/{sha}"

    def builds_url(self, project: str, repo: str, sha: str) -> str:
        return (
            f"{self.base_url}/rest/api/latest/projects/{quote(project, safe='~')}"
            f"/repos/{quote(repo, safe='')}/commits/{sha}/builds"
        )

    def capabilities_url(self) -> str:
        return f"{self.base_url}/rest/api/latest/build/capabilities"

    def stats_url(self, sha: str) -> str:
        return f"{self.base_url}/rest/build-status/latest/commits/stats/{sha}"

    # -- calls -----------------------------------------------------------------------------------
    def capabilities(self) -> Capabilities:
        """Ask the server once which build-status features it has (404: a server older than 7.4).

        Anything but the contract's JSON (``{"buildStatus": [...]}``) is an error naming what answered:
        a login page or a gateway must not pass for an old server and switch the endpoint silently.
        """
        what = "asking for the build capabilities"
        response = self._send("GET", self.capabilities_url(), what)
        if response.status_code == 404 and not answers.is_html(response):
            return OLD_SERVER
        self._check(response, what)
        data = answers.parse_json(response)
        if isinstance(data, dict) and isinstance(data.get("buildStatus"), list) and not answers.error_messages(data):
            return Capabilities.from_answer(data)
        raise RemoteError(
            f"Bitbucket's answer to GET …/build/capabilities ({response.status_code}) is not the capabilities "
            f"JSON of its REST API but {self._not_rest(response, data)}",
            status=response.status_code,
        )

    def post(self, url: str, body: dict[str, Any], *, what: str, api: str) -> None:
        """Post a build status; it counts as landed only on the contract's answer (204, or an empty 2xx)."""
        response = self._send("POST", url, what, json=body)
        self._check(response, what, api=api)
        if response.status_code == 204 or not response.content.strip():
            return
        data = answers.parse_json(response)
        raise RemoteError(
            f"Bitbucket answered {response.status_code} while {what}, but not as its REST API does (204, no "
            f"body): it sent {self._not_rest(response, data)} The status did not land.",
            status=response.status_code,
        )

    def _not_rest(self, response: requests.Response, data: Any) -> str:
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

    def statuses(self, sha: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """Every build status of a commit, as the commit-only GET pages them (the 100 newest at most)."""
        values: list[dict[str, Any]] = []
        start = 0
        what = f"reading the build statuses of {sha[:12]}"
        for _ in range(MAX_PAGES):
            response = self._send("GET", self.commits_url(sha), what, params={"start": start, "limit": limit})
            self._check(response, what)
            page = _json(response)
            listed = page.get("values")
            if isinstance(listed, list):
                values.extend(v for v in listed if isinstance(v, dict))
            following = page.get("nextPageStart")
            if page.get("isLastPage", True) or not isinstance(following, int) or following <= start:
                return values
            start = following
        return values

    def build(self, sha: str, project: str, repo: str, key: str) -> dict[str, Any] | None:
        """One build status by key, with everything the server keeps (7.14+); None when the commit has none
        with that key.

        Raises :class:`NoEndpoint` when the server has no such GET (older than 7.14: a 404 that is none of
        the "no such ..." answers, or a 405), and :class:`NotInRepository` when the commit is not in that
        repository.
        """
        what = f"reading build {key} of {sha[:12]}"
        response = self._send("GET", self.builds_url(project, repo, sha), what, params={"key": key})
        if response.status_code in (404, 405):
            names = exception_names(response)
            if NO_BUILD_STATUS in names:
                return None
            if NO_COMMIT in names:
                raise NotInRepository(server_message(response) or f"{sha} is not in {project}/{repo}.", status=404)
            if response.status_code == 405 or not any(name in NO_REPOSITORY for name in names):
                raise NoEndpoint(
                    f"Bitbucket answered {response.status_code} to GET …/builds?key= (older than 7.14).",
                    status=response.status_code,
                )
        self._check(response, what, api=BUILDS)
        return _json(response)

    def stats(self, sha: str) -> dict[str, int]:
        what = f"reading the build counts of {sha[:12]}"
        response = self._send("GET", self.stats_url(sha), what)
        self._check(response, what)
        page = _json(response)
        return {k: int(v) for k, v in page.items() if isinstance(v, int)}

    # -- plumbing --------------------------------------------------------------------------------
    def _send(self, method: str, url: str, what: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": self.auth.header, "Accept": "application/json"}
        try:
            return transport.request(self.session, self.deadline, method, url, headers=headers, **kwargs)
        except requests.RequestException as exc:
            landed = "The status may have landed; the answer could not be read." if method == "POST" else ""
            raise RemoteError(no_answer("Bitbucket", url, what, exc, "bitbucket-url", landed=landed)) from None

    def _check(self, response: requests.Response, what: str, *, api: str = "") -> None:
        if 200 <= response.status_code < 300:
            return
        raise RemoteError(self._failure(response, what, api), status=response.status_code)

    def _failure(self, response: requests.Response, what: str, api: str) -> str:
        status = response.status_code
        text = f"Bitbucket answered {status} {response.reason or ''}".rstrip() + f" while {what}"
        detail = server_message(response)
        if detail:
            text += f": {detail}"
        hint = self._hint(response, api)
        text = text if text.endswith((".", "!", "?")) else text + "."  # the server's message may end a sentence
        return f"{text} {hint}".rstrip() if hint else text

    def _hint(self, response: requests.Response, api: str) -> str:
        status = response.status_code
        if 300 <= status < 400:
            target = redirect_target(response)
            base = redirect_base(response, self.base_url) or rest_base(response)
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
            if self.auth.scheme == "Basic":
                return (
                    "Check bitbucket-username and bitbucket-password. A project or repository HTTP access "
                    "token works only as Bearer: pass it as bitbucket-token instead of bitbucket-password."
                )
            return (
                "Check that bitbucket-token is a valid, unexpired HTTP access or personal access token with "
                "at least read permission on the repository."
            )
        if status == 403:
            return (
                "The credentials are valid but lack permission: the user or token needs read access to the repository."
            )
        if status == 404:
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


def _json(response: requests.Response) -> dict[str, Any]:
    """The JSON object of a successful read; anything else: the server's answer could not be understood."""
    data = answers.parse_json(response)
    if not isinstance(data, dict) or answers.error_messages(data):
        raise RemoteError(
            f"Bitbucket's answer ({response.status_code}) could not be understood: {answers.describe(response)} is "
            "not the JSON object of its REST API. Check that bitbucket-url is Bitbucket's own base URL.",
            status=response.status_code,
        )
    return data
