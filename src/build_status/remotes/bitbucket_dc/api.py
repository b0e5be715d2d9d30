"""Bitbucket Server / Data Center's build-status REST API: its addresses, and the calls over a session."""

from __future__ import annotations

from typing import Any, NamedTuple

import requests

from ...errors import RemoteError
from ...model.auth import Auth
from ...transport import answers
from ...transport.deadline import Deadline
from ...transport.failures import no_answer
from ...transport.session import request
from . import failures
from .contract import BUILDS
from .paths import builds_url, capabilities_url, commits_url, stats_url

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
    """What the server said of itself (a server too old to answer has neither)."""

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


class Api:
    """The calls, over one session and within one deadline."""

    def __init__(self, session: requests.Session, deadline: Deadline, base_url: str, auth: Auth) -> None:
        self.session = session
        self.deadline = deadline
        self.base_url = base_url.rstrip("/")
        self.auth = auth

    def capabilities(self) -> Capabilities:
        """Ask the server once which build-status features it has (404: a server older than 7.4).

        Anything but the contract's JSON (``{"buildStatus": [...]}``) is an error naming what answered:
        a login page or a gateway must not pass for an old server and switch the endpoint silently.
        """
        what = "asking for the build capabilities"
        response = self._send("GET", capabilities_url(self.base_url), what)
        if response.status_code == 404 and not answers.is_html(response):
            return OLD_SERVER
        self._check(response, what)
        data = answers.parse_json(response)
        if isinstance(data, dict) and isinstance(data.get("buildStatus"), list) and not answers.error_messages(data):
            return Capabilities.from_answer(data)
        raise RemoteError(
            f"Bitbucket's answer to GET …/build/capabilities ({response.status_code}) is not the capabilities "
            f"JSON of its REST API but {failures.not_rest(response, data)}",
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
            f"body): it sent {failures.not_rest(response, data)} The status did not land.",
            status=response.status_code,
        )

    def exchange(self, method: str, url: str, body: Any, *, what: str) -> None:
        """A Code Insights request: landed on a 2xx that is the REST API's (a report's JSON for a PUT,
        nothing for a POST or DELETE of annotations)."""
        landed = "It may have been carried out; the answer could not be read." if method == "POST" else ""
        response = self._send(method, url, what, landed=landed, **({"json": body} if body is not None else {}))
        self._check(response, what, api=failures.INSIGHTS)
        data = answers.parse_json(response)
        if method == "PUT":
            if isinstance(data, dict) and not answers.error_messages(data) and "title" in data:
                return
        elif response.status_code == 204 or not response.content.strip():
            return
        raise RemoteError(
            f"Bitbucket answered {response.status_code} while {what}, but not as its REST API does: it sent "
            f"{failures.not_rest(response, data)}",
            status=response.status_code,
        )

    def statuses(self, sha: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """Every build status of a commit, as the commit-only GET pages them (the 100 newest at most)."""
        values: list[dict[str, Any]] = []
        start = 0
        what = f"reading the build statuses of {sha[:12]}"
        for _ in range(MAX_PAGES):
            params = {"start": start, "limit": limit}
            response = self._send("GET", commits_url(self.base_url, sha), what, params=params)
            self._check(response, what)
            page = self._json(response)
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
        url = builds_url(self.base_url, project, repo, sha)
        response = self._send("GET", url, what, params={"key": key})
        if response.status_code in (404, 405):
            names = failures.exception_names(response)
            if NO_BUILD_STATUS in names:
                return None
            if NO_COMMIT in names:
                message = failures.server_message(response) or f"{sha} is not in {project}/{repo}."
                raise NotInRepository(message, status=404)
            if response.status_code == 405 or not any(name in NO_REPOSITORY for name in names):
                raise NoEndpoint(
                    f"Bitbucket answered {response.status_code} to GET …/builds?key= (older than 7.14).",
                    status=response.status_code,
                )
        self._check(response, what, api=BUILDS)
        return self._json(response)

    def stats(self, sha: str) -> dict[str, int]:
        what = f"reading the build counts of {sha[:12]}"
        response = self._send("GET", stats_url(self.base_url, sha), what)
        self._check(response, what)
        page = self._json(response)
        return {k: int(v) for k, v in page.items() if isinstance(v, int)}

    # -- plumbing ------------------------------------------------------------------------------------
    def _send(self, method: str, url: str, what: str, landed: str | None = None, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": self.auth.header, "Accept": "application/json"}
        try:
            return request(self.session, self.deadline, method, url, headers=headers, **kwargs)
        except requests.RequestException as exc:
            if landed is None:
                landed = "The status may have landed; the answer could not be read." if method == "POST" else ""
            raise RemoteError(no_answer("Bitbucket", url, what, exc, "bitbucket-url", landed=landed)) from None

    def _check(self, response: requests.Response, what: str, *, api: str = "") -> None:
        if 200 <= response.status_code < 300:
            return
        message = failures.failure(response, what, api=api, scheme=self.auth.scheme, base_url=self.base_url)
        raise RemoteError(message, status=response.status_code)

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        """The JSON object of a successful read; anything else: the server's answer could not be understood."""
        data = answers.parse_json(response)
        if not isinstance(data, dict) or answers.error_messages(data):
            raise RemoteError(failures.unreadable(response), status=response.status_code)
        return data
