"""Bitbucket Data Center as a :class:`~build_status.remotes.interface.StatusRemote`.

Two endpoints: the commit-only one (``/rest/build-status/1.0/commits/<sha>``, every version) and the
repository-scoped one (7.4+: build number, ref, parent, duration, test results; CANCELLED and UNKNOWN on
8.0+). Which one is used is decided here: from the inputs when they leave no choice, else from the
server's ``build/capabilities`` (asked once).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ...errors import InputError
from ...model.states import CANCELLED, FAILED, INPROGRESS, SUCCESSFUL, UNKNOWN
from ...model.status import BuildStatus
from ...redaction import cut
from ..interface import Endpoint, Request, StatusConnection, StatusReader, StatusRemote
from . import paths
from .contract import BUILDS, COMMITS, ENDPOINT_LABEL, LEGACY_REQUEST
from .paths import PAGE
from .target import Target

if TYPE_CHECKING:
    import requests

    from ...transport.deadline import Deadline
    from .api import Api

#: Where the REST API starts under the base URL.
API_ROOT = "/rest"
#: bitbucket-api's words.
APIS = ("auto", COMMITS, BUILDS)
#: States that exist only on Bitbucket 8.0+ (repository-scoped endpoint with ``cancelledStatus``).
NEWER_STATES = frozenset({CANCELLED, UNKNOWN})
#: States the commit-only endpoint takes.
LEGACY_STATES = frozenset({SUCCESSFUL, FAILED, INPROGRESS})
#: What a state falls back to where the server does not take it.
FALLBACK = {CANCELLED: FAILED, UNKNOWN: FAILED}


class BitbucketDataCenter(StatusRemote):
    product = "Bitbucket Data Center"
    key_limit = LEGACY_REQUEST["properties"]["key"]["maxLength"]  # type: ignore[index]
    name_limit = LEGACY_REQUEST["properties"]["name"]["maxLength"]  # type: ignore[index]
    description_limit = LEGACY_REQUEST["properties"]["description"]["maxLength"]  # type: ignore[index]
    asking = "asking for the build capabilities"

    def __init__(self, target: Target) -> None:
        super().__init__(target.base_url, target.auth)
        self.target = target

    # -- before any request --------------------------------------------------------------------------
    def known_endpoint(self, state: str) -> Endpoint | None:
        chosen = self.target.api
        if chosen == COMMITS or (chosen == "auto" and not self.target.repository_scoped):
            why = "bitbucket-api: commits" if chosen == COMMITS else "no bitbucket-project/-repo given"
            return _endpoint(COMMITS, why, newer_states=False)
        if chosen == BUILDS and state not in NEWER_STATES:
            return _endpoint(BUILDS, "bitbucket-api: builds", newer_states=True)
        return None

    def assumed_endpoint(self) -> Endpoint:
        return _endpoint(BUILDS, "", newer_states=True)

    def unasked_endpoint(self) -> tuple[Endpoint, str]:
        endpoint = _endpoint(BUILDS, "dry run: capabilities not asked; assuming Bitbucket 8.0+", newer_states=True)
        return endpoint, (
            "dry-run: build/capabilities is not asked; showing the repository-scoped endpoint of "
            "Bitbucket 8.0+ (an older server gets the commit-only endpoint instead)."
        )

    def saved_endpoint(self, name: str, newer_states: bool, why: str) -> Endpoint | None:
        return _endpoint(name, why, newer_states=newer_states) if name in ENDPOINT_LABEL else None

    def check_state(self, state: str, explicit: bool) -> None:
        chosen = self.target.api
        if explicit and state in NEWER_STATES and (chosen == COMMITS or (chosen == "auto" and not self.target.project)):
            raise InputError(
                "state",
                f"{state} is taken only by the repository-scoped endpoint (Bitbucket 8.0+); set bitbucket-project "
                f"and bitbucket-repo, or use one of {', '.join(sorted(LEGACY_STATES))}.",
            )

    def fit_state(self, state: str, explicit: bool, endpoint: Endpoint) -> str:
        fitted = FALLBACK[state] if state in NEWER_STATES and not endpoint.newer_states else state
        if fitted != state and explicit:
            raise InputError(
                "state",
                f"{state} is not accepted here ({endpoint.label}; {endpoint.why}): it needs the "
                "repository-scoped endpoint of Bitbucket 8.0 or later. Use SUCCESSFUL, FAILED or INPROGRESS.",
            )
        return fitted

    def status_requests(self, endpoint: Endpoint, status: BuildStatus, commits: Sequence[str]) -> list[Request]:
        if endpoint.name == COMMITS and not status.description_given:
            status = status._replace(description=cut(status.description, self.description_limit))
        from . import payload  # loaded by the runs that post

        body = payload.build(status, endpoint.name)
        payload.validate(body, endpoint.name)
        return self._posts(lambda sha: self._status_url(endpoint.name, sha), body, status, commits, endpoint)

    def read_requests(self, commit: str) -> tuple[list[Request], str]:
        shown = (f"Authorization: {self.auth.shown}", "Accept: application/json")
        first_page = {"start": 0, "limit": PAGE}
        reads = [
            Request("GET", paths.commits_url(self.base_url, commit), params=first_page,
                    shown_query=urlencode(first_page), shown_lines=shown, commit=commit),
            Request("GET", paths.stats_url(self.base_url, commit), shown_lines=shown, commit=commit),
        ]  # fmt: skip
        note = ""
        if self.reads_by_key:
            url = paths.builds_url(self.base_url, self.target.project, self.target.repo, commit)
            note = (
                f"then GET {url}?key=<key> for each key listed (Bitbucket 7.14+; an older server's list is used "
                "as it is)."
            )
        return reads, note

    @property
    def takes_reports(self) -> bool:  # type: ignore[override]
        """Code Insights is repository-scoped: it needs bitbucket-project and bitbucket-repo."""
        return self.target.repository_scoped

    reports_optional = True  # Code Insights came with 5.15
    why_no_reports = (
        "Code Insights on Bitbucket Data Center is repository-scoped (5.15+): it needs bitbucket-project and "
        "bitbucket-repo, and this step posts to the commit-only endpoint."
    )

    def report_requests(self, commit: str, report: Any) -> list[Request]:
        from .insights import dc_report_requests

        return dc_report_requests(self.target, self.auth.shown, commit, report)

    @property
    def reads_by_key(self) -> bool:
        return self.target.repository_scoped and self.target.api != COMMITS

    def _status_url(self, name: str, sha: str) -> str:
        if name == BUILDS:
            return paths.builds_url(self.base_url, self.target.project, self.target.repo, sha)
        return paths.commits_url(self.base_url, sha)

    # -- talking -------------------------------------------------------------------------------------
    def connect(self, session: requests.Session, deadline: Deadline) -> Connection:
        from .api import Api  # the HTTP stack, loaded by the runs that talk

        return Connection(self, Api(session, deadline, self.base_url, self.auth))


class Connection(StatusConnection):
    def __init__(self, remote: BitbucketDataCenter, calls: Api) -> None:
        self.remote = remote
        self.api = calls

    def ask_endpoint(self, state: str) -> Endpoint:
        """Ask ``build/capabilities`` once and choose from the answer."""
        caps = self.api.capabilities()
        if self.remote.target.api == BUILDS:
            return _endpoint(BUILDS, "bitbucket-api: builds", newer_states=caps.newer_states)
        if caps.builds:
            return _endpoint(BUILDS, "the server offers richBuildStatus", newer_states=caps.newer_states)
        return _endpoint(
            COMMITS, "the server has no repository-scoped endpoint (Bitbucket older than 7.4)", newer_states=False
        )

    def send(self, request: Request) -> None:
        if request.method == "POST" and request.endpoint != "insights":
            self.api.post(request.url, request.body, what=request.what, api=request.endpoint)
        else:
            self.api.exchange(request.method, request.url, request.body, what=request.what)

    def reader(self, own_key: str, patterns: Sequence[str], console: Any) -> StatusReader:
        from .reading import Reader

        return Reader(self.api, self.remote.target, own_key, patterns, console, by_key=self.remote.reads_by_key)


def _endpoint(name: str, why: str, *, newer_states: bool) -> Endpoint:
    return Endpoint(name, ENDPOINT_LABEL[name], why, newer_states)
