"""Coveralls builds and jobs as the service groups them: one build per (repository, CI build number).

Repositories are known by a digest of their repo token, so no token is ever kept here.  Each job's lines
are kept apart from the job (two bit masks per file: relevant and covered lines), so copies of builds stay
small; a build's figures are computed from them when it closes (see :mod:`.coveralls_coverage`).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import threading
import time
from typing import Any, Callable, Optional

from .coveralls_coverage import GIT_FIELDS, coverage_change, covered_percent, merge

Lines = dict[str, tuple[int, int]]


def repo_key(token: str) -> str:
    """The name a repository is stored under: a digest of its repo token, never the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class BuildClosed(Exception):
    """A job was sent to a build that is already closed."""

    def __init__(self, build: dict[str, Any]) -> None:
        super().__init__(f"build {build['number']} is closed")
        self.build = build


class NoBuild(Exception):
    """The webhook named a build number that no job of this repository used."""


class CoverallsStore:
    """Thread-safe store of builds (with their jobs), newest first when listed."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._build_ids = itertools.count(1)
        self._job_ids = itertools.count(1)
        self._builds: dict[int, dict[str, Any]] = {}
        self._by_number: dict[tuple[str, str], int] = {}
        self._jobs: dict[int, dict[str, Any]] = {}
        self._lines: dict[int, Lines] = {}
        #: The percentage of the build of each (repository, branch) that closed last.
        self._last_percent: dict[tuple[str, Optional[str]], float] = {}

    # -- changes -------------------------------------------------------------------------------
    def add_job(
        self, repo: str, number: Optional[str], job: dict[str, Any], parallel: bool, lines: Optional[Lines] = None
    ) -> dict[str, Any]:
        """Add a job (its summary fields, and its lines per file) to the build ``number`` of ``repo``, creating
        the build if needed; a job that is not parallel closes its build.  Raises :class:`BuildClosed`.

        Jobs without a build number each get a build of their own (which can never be closed by the
        webhook, as on Coveralls).  Returns a copy of the stored job.
        """
        with self._lock:
            build = None
            if number is not None:
                build_id = self._by_number.get((repo, number))
                build = None if build_id is None else self._builds[build_id]
            if build is not None and build["closed"]:
                raise BuildClosed(_public(build))
            now = self._clock()
            if build is None:
                build = {
                    "id": next(self._build_ids),
                    "number": number,
                    "closed": False,
                    "jobs": [],
                    "carryforward": [],
                    "carried": [],
                    "closes": 0,
                    "created_at": now,
                    "closed_at": None,
                    **{name: None for name in GIT_FIELDS},
                    "repo_name": job.get("repo_name") or f"sandbox/repo-{repo[:8]}",
                    "relevant_lines": None,
                    "covered_lines": None,
                    "covered_percent": None,
                    "coverage_change": None,
                    "_repo": repo,
                }
                self._builds[build["id"]] = build
                if number is not None:
                    self._by_number[(repo, number)] = build["id"]
            stored = dict(job)
            stored.update(
                id=next(self._job_ids),
                build_id=build["id"],
                build_num=number,
                number=len(build["jobs"]) + 1,
                parallel=parallel,
                created_at=now,
            )
            self._jobs[stored["id"]] = stored
            self._lines[stored["id"]] = dict(lines or {})
            build["jobs"].append(stored)
            for name, job_name in GIT_FIELDS.items():
                if build[name] is None:
                    build[name] = stored.get(job_name)
            if not parallel:
                self._finish(build, now)
            return copy.deepcopy(stored)

    def close(self, repo: str, number: str, carryforward: list[str]) -> dict[str, Any]:
        """Close the build ``number`` of ``repo`` (the parallel build webhook) and record the
        carried-forward flags.  Raises :class:`NoBuild` or :class:`BuildClosed`."""
        with self._lock:
            build_id = self._by_number.get((repo, number))
            if build_id is None:
                raise NoBuild(number)
            build = self._builds[build_id]
            if build["closed"]:
                raise BuildClosed(_public(build))
            uploaded = {job.get("flag_name") for job in build["jobs"]}
            build["carryforward"] = list(carryforward)
            build["carried"] = [
                {"flag_name": flag, "from_build": self._last_with_flag(repo, flag, build_id)}
                for flag in carryforward
                if flag not in uploaded
            ]
            self._finish(build, self._clock())
            build["closes"] += 1
            return _public(build)

    def _finish(self, build: dict[str, Any], now: float) -> None:
        """Close ``build`` and compute its figures: its jobs' lines and its carried-forward flags' merged."""
        parts = [self._lines.get(job["id"], {}) for job in build["jobs"]]
        for item in build["carried"]:
            parts += self._carried_lines(build["_repo"], item["flag_name"], item["from_build"])
        relevant, covered = merge(parts)
        percent = covered_percent(relevant, covered)
        branch = (build["_repo"], build["branch"])
        build.update(
            closed=True,
            closed_at=now,
            relevant_lines=relevant,
            covered_lines=covered,
            covered_percent=percent,
            coverage_change=coverage_change(percent, self._last_percent.get(branch)),
        )
        self._last_percent[branch] = percent

    def _carried_lines(self, repo: str, flag: str, number: Optional[str]) -> list[Lines]:
        """The lines of the jobs of ``flag`` in build ``number`` of ``repo``, or in the build that one carried
        the flag from (and so on)."""
        seen: set[str] = set()
        while number is not None and number not in seen:
            seen.add(number)
            build = self._builds[self._by_number[(repo, number)]]
            jobs = [job for job in build["jobs"] if job.get("flag_name") == flag]
            if jobs:
                return [self._lines.get(job["id"], {}) for job in jobs]
            number = next((item["from_build"] for item in build["carried"] if item["flag_name"] == flag), None)
        return []

    def _last_with_flag(self, repo: str, flag: str, before: int) -> Optional[str]:
        """The number of the newest earlier build of ``repo`` with a job (or carried result) of ``flag``."""
        for build_id in sorted(self._builds, reverse=True):
            build = self._builds[build_id]
            if build_id >= before or build["_repo"] != repo:
                continue
            if any(job.get("flag_name") == flag for job in build["jobs"]) or any(
                carried["flag_name"] == flag for carried in build["carried"]
            ):
                return build["number"]
        return None

    def clear(self) -> None:
        with self._lock:
            self._builds.clear()
            self._by_number.clear()
            self._jobs.clear()
            self._lines.clear()
            self._last_percent.clear()

    # -- reading -------------------------------------------------------------------------------
    def find(self, repo: str, number: str) -> dict[str, Any] | None:
        with self._lock:
            build_id = self._by_number.get((repo, number))
            return None if build_id is None else _public(self._builds[build_id])

    def build(self, build_id: int) -> dict[str, Any] | None:
        with self._lock:
            build = self._builds.get(build_id)
            return None if build is None else _public(build)

    def job(self, job_id: int) -> dict[str, Any] | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else copy.deepcopy(job)

    def lookup(self, key: tuple[str, Any], repo: Optional[str] = None) -> dict[str, Any] | None:
        """The build of ``("id", <build id>)``, or the newest of ``("commit", <lower-case sha>)``; only of
        ``repo`` when given."""
        kind, value = key
        with self._lock:
            for build_id in [value] if kind == "id" else sorted(self._builds, reverse=True):
                build = self._builds.get(build_id)
                if build is None or repo not in (None, build["_repo"]):
                    continue
                if kind == "id" or (build["commit_sha"] or "").lower() == value:
                    return _public(build)
            return None

    def builds(self) -> list[dict[str, Any]]:
        """Every build, newest first (copies)."""
        with self._lock:
            return [_public(self._builds[build_id]) for build_id in sorted(self._builds, reverse=True)]


def _public(build: dict[str, Any]) -> dict[str, Any]:
    """A copy without the private fields, with ``job_count``: the jobs as Coveralls counts them, the uploads
    and the carried-forward flags (what the webhook answers as ``jobs`` and the pages show)."""
    public = copy.deepcopy({name: value for name, value in build.items() if not name.startswith("_")})
    public["job_count"] = len(build["jobs"]) + len(build["carried"])
    return public
