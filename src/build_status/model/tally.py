"""The gate's decision: the statuses read back tallied as Bitbucket does, and the result over every commit.

The result is the first of these that applies:

- red: some key is FAILED (as Bitbucket makes the commit red);
- missing: a commit has no status at all, or a ``check-keys`` pattern matches no key;
- pending: some key is still INPROGRESS;
- green: none of those.

Pure: no I/O and nothing of the package but the states and one duration format.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from .naming import format_duration
from .states import CANCELLED, FAILED, INPROGRESS, STOPPED, SUCCESSFUL, UNKNOWN

GREEN, RED, PENDING, MISSING = "green", "red", "pending", "missing"
#: The results a wait goes on for.
WAITING = (MISSING, PENDING)

#: Bitbucket's stats words, the state each counts and how the log says it, in Bitbucket's order.
WORDS = (
    ("successful", SUCCESSFUL, "successful"),
    ("failed", FAILED, "failed"),
    ("inProgress", INPROGRESS, "in progress"),
    ("cancelled", CANCELLED, "cancelled"),
    ("unknown", UNKNOWN, "unknown"),
)
#: Bitbucket Cloud's STOPPED is counted where Data Center counts CANCELLED: an ended build that is not red.
WORD_OF = {**{state: word for word, state, _ in WORDS}, STOPPED: "cancelled"}
#: Failures first, then running builds, then the rest (Bitbucket's orderBy=STATUS).
ORDER = {FAILED: 0, INPROGRESS: 1, SUCCESSFUL: 2, CANCELLED: 3, STOPPED: 3, UNKNOWN: 4}


# -- records -------------------------------------------------------------------------------------------
class Status(NamedTuple):
    """One build status as read back."""

    key: str
    state: str
    name: str = ""
    url: str = ""
    build_number: str = ""
    duration_ms: int | None = None
    #: ``(successful, failed, skipped)`` where the server gives test results.
    tests: tuple[int, int, int] | None = None

    def details(self) -> str:
        """Test results, duration and build number, where known: ``10 passed, 1 failed, 0 skipped · 1m 30s``."""
        parts = []
        if self.tests is not None:
            passed, failed, skipped = self.tests
            parts.append(f"{passed} passed, {failed} failed, {skipped} skipped")
        if self.duration_ms is not None:
            parts.append(format_duration(self.duration_ms))
        if self.build_number:
            parts.append(f"build {self.build_number}")
        return " · ".join(parts)


class Reading(NamedTuple):
    """One commit's statuses as read in one round."""

    sha: str
    #: The listed statuses but the step's own, failures first.
    statuses: tuple[Status, ...]
    #: The step's own status, when it was listed (left out of everything else).
    own: Status | None
    #: Counts in Bitbucket's words, own key left out; the server's counts where it lists fewer.
    tally: dict[str, int]
    #: How many statuses Bitbucket counts but does not list (it lists the 100 newest).
    unlisted: int = 0
    #: The check-keys patterns that no key matches.
    missing: tuple[str, ...] = ()
    #: Keys named by check-keys that the list leaves out, found by asking for them by key.
    found: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """No status at all but (maybe) the step's own."""
        return not self.statuses and not self.unlisted


class Verdict(NamedTuple):
    """The decision over every commit."""

    result: str
    tally: dict[str, int]
    #: ``(sha, status)`` of every listed FAILED key, and of every INPROGRESS one.
    failed: tuple[tuple[str, Status], ...]
    running: tuple[tuple[str, Status], ...]
    #: FAILED / INPROGRESS statuses the server counts beyond those listed.
    unlisted_failed: int = 0
    unlisted_running: int = 0
    #: ``(sha, pattern)`` of every check-keys pattern that no key matches on a commit with statuses.
    missing: tuple[tuple[str, str], ...] = ()
    #: The commits without any status (but the step's own).
    empty: tuple[str, ...] = ()
    #: The commits where an unmatched pattern may be among the statuses Bitbucket does not list.
    crowded: tuple[str, ...] = ()

    @property
    def failed_keys(self) -> list[str]:
        return _unique(status.key for _, status in self.failed)

    @property
    def missing_keys(self) -> list[str]:
        """The unmatched patterns, once each (a commit without statuses matches none of them)."""
        return _unique(pattern for _, pattern in self.missing)

    @property
    def running_keys(self) -> list[str]:
        return _unique(status.key for _, status in self.running)


# -- pure parts ----------------------------------------------------------------------------------------
def count(states: Iterable[str]) -> dict[str, int]:
    """``{"successful": …, "failed": …, "inProgress": …, "cancelled": …, "unknown": …}``."""
    tally = dict.fromkeys(WORD_OF.values(), 0)
    for state in states:
        tally[WORD_OF.get(state, "unknown")] += 1
    return tally


@functools.lru_cache(maxsize=256)
def key_pattern(pattern: str) -> re.Pattern[str]:
    """A check-keys pattern as a regular expression: ``*`` any characters, ``?`` one, the rest itself."""
    return re.compile("".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern), re.S)


def is_literal(pattern: str) -> bool:
    """A pattern without wildcards: it names one key."""
    return "*" not in pattern and "?" not in pattern


def unmatched(statuses: Iterable[Status], patterns: Sequence[str]) -> tuple[str, ...]:
    """The patterns that none of the keys matches (the whole key, case-sensitive)."""
    keys = [status.key for status in statuses]
    return tuple(p for p in patterns if not any(key_pattern(p).fullmatch(key) for key in keys))


def combine(statuses: Sequence[Status], own: Status | None, stats: dict[str, int]) -> tuple[dict[str, int], int]:
    """The tally of a commit, and how many statuses the server counts beyond those listed.

    Where the server counts more than it lists, each count is the larger of the two (the list has the
    exact states of the newest, the counts have every status), so a FAILED key among the unlisted still
    makes the commit red.  The own key is taken out of the server's counts too, when it was listed.
    """
    listed = count(status.state for status in statuses)
    counted = {word: max(0, int(stats.get(word, 0))) for word in listed}
    if own is not None:
        word = WORD_OF.get(own.state, "unknown")
        counted[word] = max(0, counted[word] - 1)
    unlisted = sum(counted.values()) - sum(listed.values())
    if unlisted <= 0:
        return listed, 0
    return {word: max(listed[word], counted[word]) for word in listed}, unlisted


def decide(readings: Sequence[Reading]) -> Verdict:
    """red: any key FAILED; else missing: a commit without statuses, or a pattern that no key matches; else
    pending: some key INPROGRESS; else green."""
    tally = dict.fromkeys(WORD_OF.values(), 0)
    for reading in readings:
        for word, value in reading.tally.items():
            tally[word] += value
    failed = tuple((r.sha, s) for r in readings for s in r.statuses if s.state == FAILED)
    running = tuple((r.sha, s) for r in readings for s in r.statuses if s.state == INPROGRESS)
    empty = tuple(r.sha for r in readings if r.empty)
    missing = tuple((r.sha, p) for r in readings if not r.empty for p in r.missing)
    if tally["failed"]:
        result = RED
    elif empty or missing:
        result = MISSING
    else:
        result = PENDING if tally["inProgress"] else GREEN
    return Verdict(
        result,
        tally,
        failed,
        running,
        unlisted_failed=max(0, tally["failed"] - len(failed)),
        unlisted_running=max(0, tally["inProgress"] - len(running)),
        missing=missing,
        empty=empty,
        crowded=tuple(r.sha for r in readings if r.unlisted and r.missing),
    )


def sort_statuses(statuses: Iterable[Status]) -> tuple[Status, ...]:
    return tuple(sorted(statuses, key=lambda status: (ORDER.get(status.state, len(ORDER)), status.key)))


# -- helpers -------------------------------------------------------------------------------------------
def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def text_of(value: object) -> str:
    """A field of a status as read back, as text (``""`` for none)."""
    return value if isinstance(value, str) else "" if value is None else str(value)
