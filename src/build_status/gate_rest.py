"""A Bitbucket Data Center RestBuildStatus as a :class:`~build_status.tasks.gate_tally.Status`.

A temporary home: this parsing belongs with the Bitbucket remote.
"""

from __future__ import annotations

from typing import Any

from .states import STATES, UNKNOWN
from .tasks.gate_tally import Status


def status_from_rest(data: dict[str, Any]) -> Status:
    """From a RestBuildStatus; a state this version does not know counts as UNKNOWN."""
    state = str(data.get("state") or "").strip().upper()
    return Status(
        key=_text(data.get("key")),
        state=state if state in STATES else UNKNOWN,
        name=_text(data.get("name")),
        url=_text(data.get("url")),
        build_number=_text(data.get("buildNumber")),
        duration_ms=_count(data.get("duration")),
        tests=_tests(data.get("testResults")),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


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
