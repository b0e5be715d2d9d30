"""Build statuses as Bitbucket keeps them: one per (commit, key), the latest post replacing the last."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any, Callable

#: Fields of a stored status that Bitbucket answers as a RestBuildStatus.
REST_FIELDS = (
    "key",
    "state",
    "name",
    "url",
    "description",
    "buildNumber",
    "ref",
    "parent",
    "duration",
    "testResults",
    "createdDate",
    "updatedDate",
)

#: Keys of the stats document, and the state each one counts.
STATS_KEYS = (
    ("successful", "SUCCESSFUL"),
    ("failed", "FAILED"),
    ("inProgress", "INPROGRESS"),
    ("cancelled", "CANCELLED"),
    ("unknown", "UNKNOWN"),
)

#: orderBy=STATUS: failures first, then running builds, then the rest.
STATUS_ORDER = {"FAILED": 0, "INPROGRESS": 1, "SUCCESSFUL": 2, "CANCELLED": 3, "UNKNOWN": 4}


def now_millis() -> int:
    return int(time.time() * 1000)


def rest_view(status: dict[str, Any]) -> dict[str, Any]:
    """The RestBuildStatus fields of a stored status."""
    return {name: status[name] for name in REST_FIELDS if name in status}


class BuildStatusStore:
    """Thread-safe store of build statuses, keyed by lower-case commit SHA then build key."""

    def __init__(self, clock: Callable[[], int] = now_millis) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._sequence = itertools.count(1)
        self._commits: dict[str, dict[str, dict[str, Any]]] = {}

    def put(self, sha: str, fields: dict[str, Any], **origin: Any) -> dict[str, Any]:
        """Store ``fields`` (state, key, ...) for ``sha``; ``origin`` (endpoint, project, repository)
        is kept alongside.  A status with the same key is replaced; its createdDate is kept."""
        sha = sha.lower()
        with self._lock:
            statuses = self._commits.setdefault(sha, {})
            previous = statuses.get(fields["key"])
            now = self._clock()
            status = dict(fields)
            status.update(origin)
            status["commit"] = sha
            status["createdDate"] = previous["createdDate"] if previous else now
            status["updatedDate"] = now
            status["_sequence"] = next(self._sequence)
            statuses[fields["key"]] = status
            return _public(status)

    def get(self, sha: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            status = self._commits.get(sha.lower(), {}).get(key)
            return None if status is None else _public(status)

    def delete(self, sha: str, key: str) -> bool:
        sha = sha.lower()
        with self._lock:
            statuses = self._commits.get(sha, {})
            if key not in statuses:
                return False
            del statuses[key]
            if not statuses:
                del self._commits[sha]
            return True

    def statuses(self, sha: str) -> list[dict[str, Any]]:
        """Every status of the commit, newest first (copies)."""
        with self._lock:
            statuses = list(self._commits.get(sha.lower(), {}).values())
        return [_public(status) for status in _newest_first(statuses)]

    def page_source(self, sha: str, order_by: str = "NEWEST", visible: int = 100) -> list[dict[str, Any]]:
        """The ``visible`` newest statuses of a commit in the order asked (NEWEST, OLDEST, STATUS)."""
        with self._lock:
            statuses = _newest_first(list(self._commits.get(sha.lower(), {}).values()))[:visible]
        if order_by == "OLDEST":
            statuses.reverse()
        elif order_by == "STATUS":
            statuses.sort(key=lambda status: STATUS_ORDER.get(status["state"], len(STATUS_ORDER)))
        return [_public(status) for status in statuses]

    def tally(self, sha: str) -> dict[str, int]:
        """``{"successful", "failed", "inProgress", "cancelled", "unknown"}`` counts for a commit."""
        with self._lock:
            states = [status["state"] for status in self._commits.get(sha.lower(), {}).values()]
        return {name: states.count(state) for name, state in STATS_KEYS}

    def has(self, sha: str) -> bool:
        with self._lock:
            return bool(self._commits.get(sha.lower()))

    def commits(self) -> dict[str, list[dict[str, Any]]]:
        """Every commit with statuses, most recently updated commit first."""
        with self._lock:
            commits = {sha: list(statuses.values()) for sha, statuses in self._commits.items() if statuses}
        ordered = sorted(commits.items(), key=lambda item: -max(s["_sequence"] for s in item[1]))
        return {sha: [_public(status) for status in _newest_first(statuses)] for sha, statuses in ordered}

    def clear(self) -> None:
        with self._lock:
            self._commits.clear()


def _newest_first(statuses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(statuses, key=lambda status: status["_sequence"], reverse=True)


def _public(status: dict[str, Any]) -> dict[str, Any]:
    copy = {name: value for name, value in status.items() if not name.startswith("_")}
    if isinstance(copy.get("testResults"), dict):
        copy["testResults"] = dict(copy["testResults"])
    return copy
