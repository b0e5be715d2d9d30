"""webapp.io jobs in memory, behind one lock.

A job record is a dict: the job's fields (``repository_name``, ``id``, ``uuid``, ``branch``...), what free text is
searched in (``author``, ``title``, ``body``), its ``script`` (the calculated statuses it goes through), ``polls``
(search answers that returned it), ``step`` (the index in the script it shows now), ``calculated_status``,
``status_changed`` (epoch seconds), ``runners`` and ``runner_statuses``, ``hidden`` (searches of its repository
it is still left out of), ``sequence`` (global creation order) and ``request`` (the options of a POST that made
it, or None).  The store hands out copies only.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from typing import Any, Callable

Predicate = Callable[[dict[str, Any]], bool]


class WebappioStore:
    """Thread-safe store of jobs, numbered 1, 2, 3... per repository."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._jobs: dict[str, dict[int, dict[str, Any]]] = {}
        self._sequence = 0

    # -- changes -------------------------------------------------------------------------------
    def add(self, repo: str, fields: dict[str, Any], script: tuple[str, ...], hidden: int = 0) -> dict[str, Any]:
        """Store a new job of ``repo`` with the next id; ``fields`` are the rest of its record
        (``branch``, ``runners``, ``request``...).  Returns a copy of the record."""
        if not script:
            raise ValueError("a job's script needs at least one calculated status")
        with self._lock:
            jobs = self._jobs.setdefault(repo, {})
            self._sequence += 1
            record = dict(fields)
            record.update(
                repository_name=repo,
                id=max(jobs, default=0) + 1,
                uuid=str(uuid.uuid4()),
                script=tuple(script),
                step=0,
                polls=0,
                calculated_status=script[0],
                status_changed=self._clock(),
                hidden=max(0, int(hidden)),
                sequence=self._sequence,
            )
            jobs[record["id"]] = record
            return copy.deepcopy(record)

    def search(self, repo: str, matches: Predicate) -> dict[str, Any] | None:
        """One search of ``repo``: every job still hidden is left out (and has one search fewer to wait);
        of the others, the one with the highest id whose *next* view satisfies ``matches`` is returned,
        advanced one step of its script.  ``matches`` sees the record with the calculated status it would
        show.  Returns a copy of the advanced record, or None."""
        with self._lock:
            jobs = self._jobs.get(repo, {})
            visible = []
            for job_id in sorted(jobs, reverse=True):
                record = jobs[job_id]
                if record["hidden"] > 0:
                    record["hidden"] -= 1
                else:
                    visible.append(record)
            for record in visible:
                step = min(record["polls"], len(record["script"]) - 1)
                if not matches({**record, "calculated_status": record["script"][step]}):
                    continue
                status = record["script"][step]
                if status != record["calculated_status"]:
                    record["calculated_status"] = status
                    record["status_changed"] = self._clock()
                record["step"] = step
                record["polls"] += 1
                return copy.deepcopy(record)
            return None

    def clear(self) -> None:
        """Forget every job; ids start at 1 again."""
        with self._lock:
            self._jobs.clear()
            self._sequence = 0

    # -- reading -------------------------------------------------------------------------------
    def get(self, repo: str, job_id: int) -> dict[str, Any] | None:
        with self._lock:
            record = self._jobs.get(repo, {}).get(job_id)
            return None if record is None else copy.deepcopy(record)

    def by_uuid(self, repo: str, job_uuid: str) -> dict[str, Any] | None:
        wanted = job_uuid.strip().lower()
        with self._lock:
            for record in self._jobs.get(repo, {}).values():
                if record["uuid"] == wanted:
                    return copy.deepcopy(record)
            return None

    def records(self, repo: str | None = None) -> list[dict[str, Any]]:
        """Every job (of ``repo``, or of every repository), newest first (copies)."""
        with self._lock:
            found = [
                record for name, jobs in self._jobs.items() if repo is None or name == repo for record in jobs.values()
            ]
            return copy.deepcopy(sorted(found, key=lambda record: record["sequence"], reverse=True))
