"""Reading a commit's build statuses back from Bitbucket Data Center, for the gate.

- The commit-only GET lists at most the 100 newest statuses, while ``commits/stats`` counts them all: when
  the counts are larger, the tally uses them and the reading says how many are not listed.
- The repository-scoped GET by key (Bitbucket 7.14+) gives what the list leaves out or flattens: the exact
  state (CANCELLED/UNKNOWN on 8.0+), test results, duration and build number.  An older server lacks it;
  then the list's data is used, without failing.
- When a commit has more statuses than Bitbucket lists, a ``check-keys`` pattern without wildcards is asked
  for by key before it counts as missing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ...model.states import STATES, UNKNOWN
from ...model.tally import Reading, Status, combine, is_literal, sort_statuses, text_of, unmatched
from ..interface import StatusReader
from .api import Api, NoEndpoint, NotInRepository
from .paths import PAGE
from .target import Target


def status_from_rest(data: dict[str, Any]) -> Status:
    """A RestBuildStatus; a state this version does not know counts as UNKNOWN."""
    state = str(data.get("state") or "").strip().upper()
    return Status(
        key=text_of(data.get("key")),
        state=state if state in STATES else UNKNOWN,
        name=text_of(data.get("name")),
        url=text_of(data.get("url")),
        build_number=text_of(data.get("buildNumber")),
        duration_ms=_count(data.get("duration")),
        tests=_tests(data.get("testResults")),
    )


class Reader(StatusReader):
    """Reads the commits' statuses, one round at a time.

    It remembers what the repository-scoped GET said for each key, so that while waiting a key is asked
    for again only when its entry in the list changed: a fan-in gate over many keys would otherwise
    spend Bitbucket's per-user rate limit on answers it already has.
    """

    def __init__(
        self, calls: Api, target: Target, own_key: str, patterns: Sequence[str], console: Any, *, by_key: bool
    ) -> None:
        self.api = calls
        self.target = target
        self.own_key = own_key
        self.console = console
        self.patterns = tuple(patterns)
        self.by_key = by_key
        self.known: dict[tuple[str, str], tuple[str, Status]] = {}
        self.outside: set[str] = set()

    def read(self, sha: str) -> Reading:
        values = [value for value in self.api.statuses(sha, limit=PAGE) if text_of(value.get("key"))]
        stats = self.api.stats(sha)
        own = next((status_from_rest(value) for value in values if value.get("key") == self.own_key), None)
        others = [self._exact(sha, value) for value in values if value.get("key") != self.own_key]
        tally, unlisted = combine(others, own, stats)
        missing = unmatched(others, self.patterns)
        found: list[Status] = []
        if unlisted and missing:
            # Bitbucket lists only the newest: a key named exactly may be among the others.
            asked = [self._unlisted(sha, key) for key in missing if is_literal(key)]
            found = [status for status in asked if status is not None]
            others += found
            tally, unlisted = combine(others, own, stats)
            missing = unmatched(others, self.patterns)
        return Reading(sha, sort_statuses(others), own, tally, unlisted, missing, tuple(status.key for status in found))

    def _exact(self, sha: str, listed: dict[str, Any]) -> Status:
        """The status of a listed key, as exactly as the server tells it."""
        status = status_from_rest(listed)
        if not self.by_key or sha in self.outside:
            return status
        fingerprint = json.dumps(listed, sort_keys=True, default=str)
        known = self.known.get((sha, status.key))
        if known is not None and known[0] == fingerprint:
            return known[1]
        asked, data = self._ask(sha, status.key)
        if not asked:
            return status
        if data is not None:
            status = status_from_rest({**listed, **data})
        self.known[(sha, status.key)] = (fingerprint, status)
        return status

    def _unlisted(self, sha: str, key: str) -> Status | None:
        """The status of a key the list leaves out, when the server has it (and can be asked)."""
        _, data = self._ask(sha, key)
        return None if data is None else status_from_rest({**data, "key": key})

    def _ask(self, sha: str, key: str) -> tuple[bool, dict[str, Any] | None]:
        """``(asked, answer)``: the repository-scoped GET by key, where there is one for this commit."""
        if not self.by_key or sha in self.outside:
            return False, None
        target = self.target
        try:
            return True, self.api.build(sha, target.project, target.repo, key)
        except NoEndpoint:
            self.by_key = False
            self.console.debug(
                "Bitbucket has no GET …/builds?key= (older than 7.14): the statuses are shown as the "
                "commit-only list gives them."
            )
        except NotInRepository as exc:
            self.outside.add(sha)
            self.console.info(
                f"Commit {sha[:12]} is not in {target.project}/{target.repo} ({exc.message}); its statuses are "
                "shown as the commit-only list gives them."
            )
        return False, None


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return int(value)


def _tests(value: Any) -> tuple[int, int, int] | None:
    if not isinstance(value, dict):
        return None
    counts = [_count(value.get(name)) for name in ("successful", "failed", "skipped")]
    if all(number is None for number in counts):
        return None
    return (counts[0] or 0, counts[1] or 0, counts[2] or 0)
