"""Bitbucket Cloud as a :class:`~build_status.remotes.interface.StatusRemote`.

One endpoint: ``POST <base>/2.0/repositories/<workspace>/<repo>/commit/<sha>/statuses/build``. Its states are
SUCCESSFUL, FAILED, INPROGRESS and STOPPED (a cancelled job is STOPPED; it has no UNKNOWN); a key is at most
40 characters; ``refname`` (a branch name) puts the status on the pull requests of that branch; there is no
build number, parent, duration or test-results field (the default description carries the duration and the
counts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from ...errors import InputError
from ...model.states import CANCELLED, FAILED, STOPPED, UNKNOWN
from ...model.status import BuildStatus
from ...redaction import cut
from ..interface import Endpoint, Request, StatusConnection, StatusRemote
from .target import CloudTarget

if TYPE_CHECKING:
    import requests

    from ...transport.deadline import Deadline

#: Where the REST API starts under the base URL.
API_ROOT = "/2.0"
DEFAULT_BASE_URL = "https://api.bitbucket.org"
ENDPOINT = Endpoint("cloud", "Bitbucket Cloud commit statuses", "bitbucket-workspace given", newer_states=False)
#: How the job's outcomes that Cloud lacks are posted.
FITTED = {CANCELLED: STOPPED, UNKNOWN: FAILED}
#: The commit statuses' page size when reading back (Cloud's largest).
PAGE = 100
#: Cloud's limits: the key's is Bitbucket's own answer; name and URL are the caps other clients keep, "name
#: less than 255 characters", "URL less than 450" (unverified: Atlassian documents none).
KEY_LIMIT = 40
NAME_LIMIT = 254
URL_LIMIT = 449


def repository_url(target: CloudTarget) -> str:
    return (
        f"{target.base_url}{API_ROOT}/repositories/{quote(target.workspace, safe='{}')}/{quote(target.repo, safe='{}')}"
    )


def statuses_url(target: CloudTarget, sha: str) -> str:
    return f"{repository_url(target)}/commit/{sha}/statuses"


def refname(ref: str) -> str:
    """The branch a status is for (``feature/x`` of ``refs/heads/feature/x``); none for a tag or another ref."""
    return ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else ""


class BitbucketCloud(StatusRemote):
    product = "Bitbucket Cloud"
    key_limit = KEY_LIMIT
    name_limit = NAME_LIMIT
    description_limit = 255

    def __init__(self, target: CloudTarget) -> None:
        super().__init__(target.base_url, target.auth)
        self.target = target

    # -- before any request --------------------------------------------------------------------------
    def known_endpoint(self, state: str) -> Endpoint:
        return ENDPOINT

    def assumed_endpoint(self) -> Endpoint:
        return ENDPOINT

    def unasked_endpoint(self) -> tuple[Endpoint, str]:
        return ENDPOINT, ""

    def saved_endpoint(self, name: str, newer_states: bool, why: str) -> Endpoint | None:
        return ENDPOINT

    def check_state(self, state: str, explicit: bool) -> None:
        if explicit and state == UNKNOWN:
            raise InputError(
                "state",
                "UNKNOWN is not a state of Bitbucket Cloud (it has SUCCESSFUL, FAILED, INPROGRESS and STOPPED); "
                "use one of those, or CANCELLED, which is posted as STOPPED.",
            )

    def fit_state(self, state: str, explicit: bool, endpoint: Endpoint) -> str:
        self.check_state(state, explicit)
        return FITTED.get(state, state)

    def status_requests(self, endpoint: Endpoint, status: BuildStatus, commits: Sequence[str]) -> list[Request]:
        body = self._body(status)
        return self._posts(lambda sha: f"{statuses_url(self.target, sha)}/build", body, status, commits, endpoint)

    def _body(self, status: BuildStatus) -> dict[str, Any]:
        """The status object Cloud takes; InputError for what it would refuse."""
        if not status.key.strip():
            raise InputError("key", "must not be empty.")
        if len(status.key) > KEY_LIMIT:
            raise InputError("key", f"is {len(status.key)} characters; Bitbucket Cloud takes at most {KEY_LIMIT}.")
        name = status.name
        if len(name) > NAME_LIMIT:
            raise InputError("name", f"is {len(name)} characters; Bitbucket Cloud takes at most {NAME_LIMIT}.")
        parts = urlsplit(status.url)
        if parts.scheme not in ("http", "https") or not parts.netloc or any(ch.isspace() for ch in status.url):
            raise InputError("url", f"'{cut(status.url, 60)}' is not an http(s) URL, which Bitbucket Cloud requires.")
        if len(status.url) > URL_LIMIT:
            raise InputError("url", f"is {len(status.url)} characters; Bitbucket Cloud takes at most {URL_LIMIT}.")
        body: dict[str, Any] = {"key": status.key, "state": status.state, "url": status.url}
        if name:
            body["name"] = name
        description = status.description
        if not status.description_given:
            description = cut(description, self.description_limit)
        if description:
            body["description"] = description
        branch = refname(status.ref)
        if branch:
            body["refname"] = branch
        return body

    def fitted_note(self, wanted: str, state: str) -> str:
        return f"Bitbucket Cloud has no {wanted}; posting {state}, its state for that."

    def ignored(self, status: BuildStatus) -> tuple[str, ...]:
        """``parent`` has no meaning on Cloud (no Required builds): said in a debug line, not sent (the build
        number has no field either; it is in the default description's run number)."""
        return ("parent",) if status.parent else ()

    takes_reports = True

    def report_requests(self, commit: str, report: Any) -> list[Request]:
        from .insights import cloud_report_requests

        return cloud_report_requests(self.target, self.auth.shown, commit, report)

    def read_requests(self, commit: str) -> tuple[list[Request], str]:
        shown = (f"Authorization: {self.auth.shown}", "Accept: application/json")
        query = {"pagelen": PAGE}
        read = Request("GET", statuses_url(self.target, commit), params=query, shown_query=urlencode(query),
                       shown_lines=shown, commit=commit)  # fmt: skip
        return [read], "then GET each page Bitbucket Cloud names in next, until there is none."

    # -- talking -------------------------------------------------------------------------------------
    def connect(self, session: requests.Session, deadline: Deadline) -> StatusConnection:
        from .api import CloudConnection

        return CloudConnection(self, session, deadline)
