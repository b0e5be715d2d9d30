"""Reading a commit's statuses back from Bitbucket Cloud, for the gate: every page, tallied as Cloud shows them
(STOPPED is an ended build, not a red one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...model.states import FAILED, INPROGRESS, STOPPED, SUCCESSFUL, UNKNOWN
from ...model.tally import Reading, Status, combine, sort_statuses, text_of, unmatched
from ..interface import StatusReader

if TYPE_CHECKING:
    from .api import CloudConnection

CLOUD_STATES = (SUCCESSFUL, FAILED, INPROGRESS, STOPPED)


def status_from_cloud(data: dict[str, Any]) -> Status:
    """A Cloud status object; a state this version does not know counts as UNKNOWN."""
    state = str(data.get("state") or "").strip().upper()
    return Status(
        key=text_of(data.get("key")),
        state=state if state in CLOUD_STATES else UNKNOWN,
        name=text_of(data.get("name")),
        url=text_of(data.get("url")),
    )


class CloudReader(StatusReader):
    def __init__(self, connection: CloudConnection, own_key: str, patterns: Sequence[str]) -> None:
        self.connection = connection
        self.own_key = own_key
        self.patterns = tuple(patterns)

    def read(self, sha: str) -> Reading:
        statuses = [status_from_cloud(value) for value in self.connection.pages(sha)]
        statuses = [status for status in statuses if status.key]
        own = next((status for status in statuses if status.key == self.own_key), None)
        others = [status for status in statuses if status.key != self.own_key]
        tally, _ = combine(others, own, {})
        return Reading(sha, sort_statuses(others), own, tally, 0, unmatched(others, self.patterns))
