"""Bitbucket Cloud commit statuses as Bitbucket keeps them: one per (repository, commit, key), overwritten only
by the identity that created it or by a repository admin."""

from __future__ import annotations

import datetime
import itertools
import threading
from typing import Any, Callable

from .bitbucket_cloud_config import Identity, braced_uuid

#: The fields ``sort`` may name (``-`` in front: descending).
SORT_FIELDS = ("created_on", "updated_on", "key", "state", "name", "refname")


class NotCreator(Exception):
    """The status exists and the identity may not overwrite it (neither its creator nor an admin)."""


class NoStatus(KeyError):
    """No status with that key (an update needs one)."""


def now_iso() -> str:
    """Now as Bitbucket writes times: ``2026-06-09T12:34:56.789012+00:00``."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


class CloudStatusStore:
    """Thread-safe store of commit statuses, keyed by ``(workspace, slug)``, lower-case commit, then key."""

    def __init__(self, clock: Callable[[], str] = now_iso) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._sequence = itertools.count(1)
        self._statuses: dict[tuple[str, str], dict[str, dict[str, dict[str, Any]]]] = {}

    def save(
        self,
        where: tuple[str, str, str],
        key: str,
        fields: dict[str, Any],
        identity: Identity,
        admin: bool = False,
        update: bool = False,
    ) -> tuple[dict[str, Any], bool]:
        """Create or overwrite the status ``key`` of commit ``where`` = (workspace, slug, sha), or with
        ``update`` change the fields given of an existing one (:class:`NoStatus` if there is none).  Returns
        the status and whether it was created.  :class:`NotCreator` when it exists and ``identity`` neither
        created it nor is ``admin``."""
        workspace, slug, sha = where
        with self._lock:
            commits = self._statuses.setdefault((workspace, slug), {})
            statuses = commits.setdefault(sha.lower(), {})
            previous = statuses.get(key)
            if previous is None and update:
                if not statuses:
                    del commits[sha.lower()]
                raise NoStatus(key)
            if previous is not None and previous["_creator"] != identity.key and not admin:
                raise NotCreator(key)
            now = self._clock()
            sequence = next(self._sequence)
            if previous is None:
                status = {
                    "uuid": braced_uuid("status", workspace, slug, sha.lower(), key),
                    "created_on": now,
                    "creator": identity.account(),
                    "_creator": identity.key,
                    "_created": sequence,
                }
            elif update:
                status = dict(previous)
            else:
                status = {name: previous[name] for name in ("uuid", "created_on", "creator", "_creator", "_created")}
            status.update(fields)
            status.update(
                key=key, workspace=workspace, repository=slug, commit=sha.lower(), updated_on=now, _sequence=sequence
            )
            statuses[key] = status
            return _public(status), previous is None

    def get(self, where: tuple[str, str, str], key: str) -> dict[str, Any] | None:
        workspace, slug, sha = where
        with self._lock:
            status = self._statuses.get((workspace, slug), {}).get(sha.lower(), {}).get(key)
            return None if status is None else _public(status)

    def listing(
        self, where: tuple[str, str, str], refname: str | None = None, sort: str = "created_on"
    ) -> list[dict[str, Any]]:
        """The statuses of a commit; with ``refname``, those with no refname or that one; ordered by ``sort``
        (one of :data:`SORT_FIELDS`, ``-`` for descending; ties in the order they were created)."""
        workspace, slug, sha = where
        with self._lock:
            statuses = list(self._statuses.get((workspace, slug), {}).get(sha.lower(), {}).values())
        if refname is not None:
            statuses = [status for status in statuses if status.get("refname") in (None, "", refname)]
        name = sort.lstrip("-")
        statuses.sort(key=lambda status: status["_created"])
        statuses.sort(key=lambda status: _sort_value(status, name), reverse=sort.startswith("-"))
        return [_public(status) for status in statuses]

    def repositories(self) -> frozenset:
        """``workspace/slug`` of every repository with statuses."""
        with self._lock:
            return frozenset(f"{workspace}/{slug}" for (workspace, slug), commits in self._statuses.items() if commits)

    def commits(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """``{"workspace/slug": {sha: [statuses, newest first]}}``, the most recently updated first."""
        with self._lock:
            groups = [
                (f"{workspace}/{slug}", sha, list(statuses.values()))
                for (workspace, slug), commits in self._statuses.items()
                for sha, statuses in commits.items()
                if statuses
            ]
        groups.sort(key=lambda group: -max(status["_sequence"] for status in group[2]))
        result: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for repository, sha, statuses in groups:
            newest = sorted(statuses, key=lambda status: status["_sequence"], reverse=True)
            result.setdefault(repository, {})[sha] = [_public(status) for status in newest]
        return result

    def statuses(self, workspace: str, slug: str, sha: str) -> list[dict[str, Any]]:
        """Every status of a commit, newest first."""
        return self.commits().get(f"{workspace.lower()}/{slug.lower()}", {}).get(sha.lower(), [])

    def clear(self) -> None:
        with self._lock:
            self._statuses.clear()


def _sort_value(status: dict[str, Any], name: str) -> tuple[int, Any]:
    value = status.get(name)
    if name in ("created_on", "updated_on"):  # times of the same clock: the sequence orders them exactly
        return (0, status["_created"] if name == "created_on" else status["_sequence"])
    return (0, value) if isinstance(value, str) else (1, "")


def _public(status: dict[str, Any]) -> dict[str, Any]:
    copy = {name: value for name, value in status.items() if not name.startswith("_")}
    copy["creator"] = dict(copy["creator"])
    return copy
