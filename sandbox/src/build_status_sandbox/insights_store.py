"""Code Insights reports and their annotations as Bitbucket keeps them (Data Center and Cloud alike).

A report lives at ``where`` (a tuple naming the repository and commit: ``(project, slug, sha)`` on Data Center,
``(workspace, slug, sha)`` on Cloud) under its key, with the identity that created it and its annotations in the
order they were added.  Data Center adds annotations without de-duplication; Cloud upserts them by external id.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any, Callable, Optional

Where = tuple[str, ...]


class NoReport(KeyError):
    """No report with that key at that commit."""


class NotCreator(Exception):
    """The report exists and was created by someone else."""


class TooManyAnnotations(Exception):
    """The request would leave the report with more annotations than allowed (nothing was changed)."""

    def __init__(self, total: int, limit: int) -> None:
        super().__init__(total, limit)
        self.total = total
        self.limit = limit


def _copy(report: dict[str, Any]) -> dict[str, Any]:
    copy = {name: value for name, value in report.items() if not name.startswith("_")}
    copy["annotations"] = [dict(item) for item in report["_annotations"]]
    return copy


class InsightsStore:
    """Thread-safe store of reports keyed by ``where`` (lower-case) then report key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sequence = itertools.count(1)
        self._reports: dict[Where, dict[str, dict[str, Any]]] = {}

    @staticmethod
    def _where(where: Where) -> Where:
        return tuple(part.lower() for part in where)

    def _find(self, where: Where, key: str) -> dict[str, Any]:
        report = self._reports.get(self._where(where), {}).get(key)
        if report is None:
            raise NoReport(key)
        return report

    # -- reports ---------------------------------------------------------------------------------
    def put_report(
        self, where: Where, key: str, fields: dict[str, Any], creator: str, may_replace: bool = False
    ) -> tuple[dict[str, Any], bool]:
        """Create the report ``key`` or replace it (its annotations are kept; ``_``-prefixed fields of the old
        report survive).  Raises :class:`NotCreator` unless ``creator`` made it or ``may_replace``.  Returns
        the report and whether it was created."""
        with self._lock:
            reports = self._reports.setdefault(self._where(where), {})
            previous = reports.get(key)
            if previous is not None and previous["_creator"] != creator and not may_replace:
                raise NotCreator(key)
            report = dict(fields)
            report["_creator"] = previous["_creator"] if previous else creator
            report["_annotations"] = previous["_annotations"] if previous else []
            report["_created"] = previous["_created"] if previous else next(self._sequence)
            report["_sequence"] = next(self._sequence)
            reports[key] = report
            return _copy(report), previous is None

    def get_report(self, where: Where, key: str) -> Optional[dict[str, Any]]:
        with self._lock:
            report = self._reports.get(self._where(where), {}).get(key)
            return None if report is None else _copy(report)

    def creator(self, where: Where, key: str) -> str:
        with self._lock:
            return self._find(where, key)["_creator"]

    def delete_report(self, where: Where, key: str) -> bool:
        """Delete the report and its annotations; False when there was none."""
        where = self._where(where)
        with self._lock:
            reports = self._reports.get(where, {})
            if reports.pop(key, None) is None:
                return False
            if not reports:
                del self._reports[where]
            return True

    def reports(self, where: Where) -> list[dict[str, Any]]:
        """The commit's reports, oldest first (copies, with their annotations)."""
        with self._lock:
            reports = list(self._reports.get(self._where(where), {}).values())
        return [_copy(report) for report in sorted(reports, key=lambda report: report["_created"])]

    # -- annotations -----------------------------------------------------------------------------
    def add_annotations(
        self,
        where: Where,
        key: str,
        annotations: list[dict[str, Any]],
        limit: int,
        upsert_by: Optional[str] = None,
        on_update: Optional[Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]] = None,
    ) -> list[dict[str, Any]]:
        """Add ``annotations`` to the report, all or none.  ``upsert_by`` (Cloud: ``"external_id"``): an
        annotation whose value of that field is already there replaces it (``on_update(old, new)`` gives the
        stored one); None (Data Center): every one is added, duplicates too.  Raises :class:`NoReport`, or
        :class:`TooManyAnnotations` when the report would hold more than ``limit``.  Returns what was stored."""
        with self._lock:
            stored = self._find(where, key)["_annotations"]
            result = list(stored)
            saved = []
            for annotation in annotations:
                value = annotation.get(upsert_by) if upsert_by else None
                index = next(
                    (i for i, old in enumerate(result) if value is not None and old.get(upsert_by) == value), None
                )
                if index is None:
                    result.append(dict(annotation))
                    saved.append(result[-1])
                else:
                    result[index] = dict(on_update(result[index], annotation) if on_update else annotation)
                    saved.append(result[index])
            if len(result) > limit:
                raise TooManyAnnotations(len(result), limit)
            stored[:] = result
            return [dict(item) for item in saved]

    def replace_annotation(
        self, where: Where, key: str, field: str, value: str, annotation: dict[str, Any], limit: int
    ) -> None:
        """Data Center's PUT of one annotation: every annotation whose ``field`` is ``value`` gives way to
        ``annotation`` (in the first one's place, else at the end)."""
        with self._lock:
            stored = self._find(where, key)["_annotations"]
            positions = [index for index, old in enumerate(stored) if old.get(field) == value]
            if not positions and len(stored) + 1 > limit:
                raise TooManyAnnotations(len(stored) + 1, limit)
            kept = [old for old in stored if old.get(field) != value]
            kept.insert(positions[0] if positions else len(kept), dict(annotation))
            stored[:] = kept

    def delete_annotations(self, where: Where, key: str, field: str, values: Optional[list[str]]) -> int:
        """Delete the annotations whose ``field`` is one of ``values`` (every one when None); how many went."""
        with self._lock:
            stored = self._find(where, key)["_annotations"]
            kept = [] if values is None else [old for old in stored if old.get(field) not in values]
            removed = len(stored) - len(kept)
            stored[:] = kept
            return removed

    def annotations(self, where: Where, key: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(item) for item in self._find(where, key)["_annotations"]]

    # -- the whole store -------------------------------------------------------------------------
    def commits(self) -> dict[Where, list[dict[str, Any]]]:
        """Every ``where`` with reports, most recently changed first; reports oldest first."""
        with self._lock:
            groups = [(where, list(reports.values())) for where, reports in self._reports.items() if reports]
        groups.sort(key=lambda group: -max(report["_sequence"] for report in group[1]))
        return {
            where: [_copy(report) for report in sorted(reports, key=lambda report: report["_created"])]
            for where, reports in groups
        }

    def touch(self, where: Where, key: str) -> None:
        """Mark the report as just changed (the overview lists recently changed commits first)."""
        with self._lock:
            self._find(where, key)["_sequence"] = next(self._sequence)

    def clear(self) -> None:
        with self._lock:
            self._reports.clear()
