"""``check: true``: read back every build status of the commits, tally them as Bitbucket does, and gate on them.

This is the gate of a fan-in job.  Its result is the first of these that applies:

- red: some key is FAILED (as Bitbucket makes the commit red);
- missing: a commit has no status at all, or a ``check-keys`` pattern matches no key;
- pending: some key is still INPROGRESS;
- green: none of those.

Only green passes.  A fan-in job runs after the jobs it needs, so a key still INPROGRESS then is stuck or
reported by something else: it fails the gate too.  With ``check-wait`` it reads again while the result
is missing or pending, until it is not or the wait runs out (a key turning FAILED ends the wait at once).

- The commit-only GET lists at most the 100 newest statuses, while ``commits/stats`` counts them all: when
  the counts are larger, the decision uses them and the log says that some are not listed.
- The repository-scoped GET by key (Bitbucket 7.14+) gives what the list leaves out or flattens: the exact
  state (CANCELLED/UNKNOWN on 8.0+), test results, duration and build number.  An older server lacks it;
  then the list's data is used, without failing.
- The step's own key is left out: a fan-in job that reports its own status must not wait for itself,
  and its own status does not satisfy a ``check-keys`` pattern.
- ``check-keys`` patterns: ``*`` matches any characters (``/`` included), ``?`` one; everything else is
  itself, ``[`` and ``]`` included, since the default key of a matrix job holds them.  When a commit has
  more statuses than Bitbucket lists, a pattern without wildcards is asked for by key (7.14+) before it
  counts as missing.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlencode

import requests

from .bitbucket import Bitbucket, NoEndpoint, NotInRepository
from .context import Context
from .contract import COMMITS
from .errors import EXIT_OK, EXIT_REMOTE, DeadlineExceeded, RemoteError
from .naming import format_duration
from .settings import BitbucketSettings, CheckSettings, Settings
from .states import BADGE, CANCELLED, FAILED, INPROGRESS, STATES, SUCCESSFUL, UNKNOWN
from .transport.deadline import Deadline
from .workflow import Console, cut, markdown_cell, markdown_link

GREEN, RED, PENDING, MISSING = "green", "red", "pending", "missing"
#: The results a wait goes on for.
WAITING = (MISSING, PENDING)
#: How the tables show a check-keys pattern that no key matches.
MISSING_ROW = ("MISSING", "⚠️", "no key matches this check-keys pattern")
TITLE = "Bitbucket build statuses"

#: Bitbucket's stats words, the state each counts and how the log says it, in Bitbucket's order.
WORDS = (
    ("successful", SUCCESSFUL, "successful"),
    ("failed", FAILED, "failed"),
    ("inProgress", INPROGRESS, "in progress"),
    ("cancelled", CANCELLED, "cancelled"),
    ("unknown", UNKNOWN, "unknown"),
)
WORD_OF = {state: word for word, state, _ in WORDS}
RESULT_BADGE = {GREEN: "✅", RED: "❌", PENDING: "🔵", MISSING: MISSING_ROW[1]}
#: Failures first, then running builds, then the rest (Bitbucket's orderBy=STATUS).
ORDER = {FAILED: 0, INPROGRESS: 1, SUCCESSFUL: 2, CANCELLED: 3, UNKNOWN: 4}
#: An annotation names at most this many keys ("… and N more").
NAMED_KEYS = 10
#: Log table columns (key, name, details) are cut to these widths; the URL, last, is not.
WIDTHS = (40, 40, 60)
#: The commit-only GET's page size: Bitbucket lists at most the 100 newest anyway.
PAGE = 100


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

    @classmethod
    def from_rest(cls, data: dict[str, Any]) -> Status:
        """From a RestBuildStatus; a state this version does not know counts as UNKNOWN."""
        state = str(data.get("state") or "").strip().upper()
        return cls(
            key=_text(data.get("key")),
            state=state if state in STATES else UNKNOWN,
            name=_text(data.get("name")),
            url=_text(data.get("url")),
            build_number=_text(data.get("buildNumber")),
            duration_ms=_count(data.get("duration")),
            tests=_tests(data.get("testResults")),
        )

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


def tally_text(tally: dict[str, int]) -> str:
    """``3 successful, 1 failed, 1 in progress, 0 cancelled, 0 unknown`` (stable wording)."""
    return ", ".join(f"{tally.get(word, 0)} {label}" for word, _, label in WORDS)


def sort_statuses(statuses: Iterable[Status]) -> tuple[Status, ...]:
    return tuple(sorted(statuses, key=lambda status: (ORDER.get(status.state, len(ORDER)), status.key)))


def table(reading: Reading) -> list[str]:
    """The log's table of one commit: state, key, name, details (where any), URL, and a MISSING row for each
    check-keys pattern that no key matches; then its tally."""
    lines = [f"Build statuses of {reading.sha}:"]
    if not reading.statuses:
        lines.append("  (none)")
    rows = _rows(reading, _log_row, _log_missing_row)
    widths = [max(len(row[0]) for row in rows)] if rows else []
    widths += [min(cap, max((len(row[i]) for row in rows), default=0)) for i, cap in enumerate(WIDTHS, 1)]
    for row in rows:
        cells = [_fit(text, width) for text, width in zip(row[:4], widths) if width] + [row[4]]
        lines.append("  " + "  ".join(cells).rstrip())
    lines.append("  " + tally_text(reading.tally))
    if reading.unlisted:
        shown = len(reading.statuses) + (reading.own is not None)
        asked = f"; {_shorten(reading.found)} asked for by key" if reading.found else ""
        lines.append(
            f"  Bitbucket counts {shown + reading.unlisted} statuses but lists only the {shown - len(reading.found)} "
            f"newest: the tally takes its counts ({reading.unlisted} not shown above{asked})."
        )
    if reading.own is not None:
        lines.append(
            f"  Left out: this step's own key {reading.own.key} ({reading.own.state}); a fan-in job does not "
            "wait for itself."
        )
    return lines


def named(pairs: Sequence[tuple[str, Status]], several_commits: bool, limit: int = NAMED_KEYS) -> str:
    """``CI/test (CI › test) https://…, …`` for an annotation; ``… and N more`` beyond ``limit``."""
    items = []
    for sha, status in pairs[:limit]:
        text = status.key
        if status.name and status.name != status.key:
            text += f" ({status.name})"
        if several_commits:
            text += f" on {sha[:12]}"
        if status.url:
            text += f" {status.url}"
        items.append(text)
    if len(pairs) > limit:
        items.append(f"… and {len(pairs) - limit} more")
    return ", ".join(items)


def changes(before: Sequence[Reading], after: Sequence[Reading]) -> list[str]:
    """What changed between two rounds, one line per key: ``0123456789ab CI/test: INPROGRESS → FAILED``."""
    lines = []
    earlier = {reading.sha: {s.key: s.state for s in reading.statuses} for reading in before}
    for reading in after:
        was = earlier.get(reading.sha, {})
        now = {s.key: s.state for s in reading.statuses}
        for key, state in now.items():
            if key not in was:
                lines.append(f"{reading.sha[:12]} {key}: new, {state}")
            elif was[key] != state:
                lines.append(f"{reading.sha[:12]} {key}: {was[key]} → {state}")
        lines += [f"{reading.sha[:12]} {key}: no longer listed" for key in was if key not in now]
    return lines


def summary(readings: Sequence[Reading], verdict: Verdict, note: str = "") -> str:
    """The step summary's section: the result and tally, then a table per commit."""
    lines = [
        f"### {TITLE}",
        "",
        f"{RESULT_BADGE[verdict.result]} **{verdict.result}** · {tally_text(verdict.tally)}"
        + (f" · {len(readings)} commits" if len(readings) > 1 else ""),
    ]
    if note:
        lines += ["", markdown_cell(note)]
    for reading in readings:
        lines += ["", f"**Commit `{reading.sha[:12]}`** · {tally_text(reading.tally)}", ""]
        if not reading.statuses:
            lines += ["No build statuses.", ""] if reading.missing else ["No build statuses."]
        rows = _rows(reading, _summary_row, _summary_missing_row)
        if rows:
            lines += ["| State | Key | Name | Details |", "| --- | --- | --- | --- |", *rows]
        if reading.unlisted:
            lines += ["", f"{reading.unlisted} more counted by Bitbucket but not listed (it lists the 100 newest)."]
        if reading.own is not None:
            lines += ["", f"This step's own key `{markdown_cell(reading.own.key)}` is left out."]
    return "\n".join(lines) + "\n\n"


def _rows(reading: Reading, status_row: Any, missing_row: Any) -> list[Any]:
    """A table's rows: one per status, and one per unmatched check-keys pattern after the failures (its
    result comes after red)."""
    rows = [status_row(status) for status in reading.statuses]
    failures = sum(status.state == FAILED for status in reading.statuses)
    rows[failures:failures] = [missing_row(pattern) for pattern in reading.missing]
    return rows


def _log_row(status: Status) -> tuple[str, ...]:
    return (status.state, _cell(status.key), _cell(status.name), _cell(status.details()), _cell(status.url))


def _log_missing_row(pattern: str) -> tuple[str, ...]:
    return (MISSING_ROW[0], _cell(pattern), "", MISSING_ROW[2], "")


def _summary_row(status: Status) -> str:
    name = markdown_link(markdown_cell(status.name or status.key), status.url)
    return (
        f"| {BADGE.get(status.state, '')} {status.state} | `{markdown_cell(status.key)}` | {name} | "
        f"{markdown_cell(status.details())} |"
    )


def _summary_missing_row(pattern: str) -> str:
    state, badge, text = MISSING_ROW
    return f"| {badge} {state} | `{markdown_cell(pattern)}` |  | {text} |"


def format_seconds(seconds: float) -> str:
    """``0.2s``, ``12s``, ``20m`` for the check-wait and check-interval inputs and the time waited."""
    return f"{round(seconds, 1):g}s" if seconds < 60 else format_duration(round(seconds) * 1000)


# -- reading -------------------------------------------------------------------------------------------
class Reader:
    """Reads the commits' statuses, one round at a time.

    It remembers what the repository-scoped GET said for each key, so that while waiting a key is asked
    for again only when its entry in the list changed: a fan-in gate over many keys would otherwise
    spend Bitbucket's per-user rate limit on answers it already has.
    """

    def __init__(
        self, client: Bitbucket, settings: BitbucketSettings, console: Console, patterns: Sequence[str] = ()
    ) -> None:
        self.client = client
        self.settings = settings
        self.console = console
        self.patterns = tuple(patterns)
        self.by_key = bool(settings.project and settings.repo) and settings.api != COMMITS
        self.known: dict[tuple[str, str], tuple[str, Status]] = {}
        self.outside: set[str] = set()

    def read(self, sha: str) -> Reading:
        values = [value for value in self.client.statuses(sha, limit=PAGE) if _text(value.get("key"))]
        stats = self.client.stats(sha)
        own_key = self.settings.key
        own = next((Status.from_rest(value) for value in values if value.get("key") == own_key), None)
        others = [self._exact(sha, value) for value in values if value.get("key") != own_key]
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
        status = Status.from_rest(listed)
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
            status = Status.from_rest({**listed, **data})
        self.known[(sha, status.key)] = (fingerprint, status)
        return status

    def _unlisted(self, sha: str, key: str) -> Status | None:
        """The status of a key the list leaves out, when the server has it (and can be asked)."""
        _, data = self._ask(sha, key)
        return None if data is None else Status.from_rest({**data, "key": key})

    def _ask(self, sha: str, key: str) -> tuple[bool, dict[str, Any] | None]:
        """``(asked, answer)``: the repository-scoped GET by key, where there is one for this commit."""
        if not self.by_key or sha in self.outside:
            return False, None
        bb = self.settings
        try:
            return True, self.client.build(sha, bb.project, bb.repo, key)
        except NoEndpoint:
            self.by_key = False
            self.console.debug(
                "Bitbucket has no GET …/builds?key= (older than 7.14): the statuses are shown as the "
                "commit-only list gives them."
            )
        except NotInRepository as exc:
            self.outside.add(sha)
            self.console.info(
                f"Commit {sha[:12]} is not in {bb.project}/{bb.repo} ({exc.message}); its statuses are shown as "
                "the commit-only list gives them."
            )
        return False, None


def read_round(reader: Reader, commits: Sequence[str], deadline: Deadline) -> list[Reading]:
    """One reading of every commit, bounded by the ``timeout`` input (restarted for each round)."""
    deadline.restart()
    try:
        with deadline.enforced():
            return [reader.read(sha) for sha in commits]
    except DeadlineExceeded as exc:
        raise RemoteError(
            f"Gave up reading the build statuses: {exc.message}; raise timeout if Bitbucket is slow."
        ) from None


# -- the run -------------------------------------------------------------------------------------------
def run(
    settings: Settings,
    context: Context,
    console: Console,
    session: requests.Session,
    deadline: Deadline,
) -> int:
    """Read back, tally, gate (and wait, with check-wait); returns the exit code."""
    del context  # the commits and the own key are in the settings already
    bb, check = settings.bitbucket, settings.check
    assert bb is not None and check is not None
    client = Bitbucket(session, deadline, bb.base_url, bb.auth)
    if settings.dry_run:
        dry_run(bb, check, console, client)
        return EXIT_OK
    reader = Reader(client, bb, console, check.keys)
    try:
        readings, note = watch(reader, bb.commits, check, console, deadline)
    except RemoteError as exc:
        return not_read(bb, settings.fail_on_error, console, exc.message)
    return report(bb, check, console, readings, note)


def watch(
    reader: Reader, commits: Sequence[str], check: CheckSettings, console: Console, deadline: Deadline
) -> tuple[list[Reading], str]:
    """Read, and with check-wait read again every interval while the result is missing or pending (some key
    INPROGRESS or missing, none FAILED).

    Returns the last reading and a note on the wait ("" without one).  The wait has its own clock: each
    pause is cut to what is left of it, so the last reading comes at its end, not an interval later.
    """
    readings = read_round(reader, commits, deadline)
    verdict = decide(readings)
    if verdict.result not in WAITING or check.wait <= 0:
        return readings, ""
    started = time.monotonic()
    wait = Deadline(check.wait)
    console.group("Build statuses before waiting")
    for reading in readings:
        for line in table(reading):
            console.info(line)
    console.endgroup()
    console.info(
        f"Waiting up to {format_seconds(check.wait)} for {waiting_for(verdict)}; reading again every "
        f"{format_seconds(check.interval)}."
    )
    rounds = 1
    while verdict.result in WAITING and not wait.expired():
        time.sleep(min(check.interval, wait.remaining()))
        later = read_round(reader, commits, deadline)
        rounds += 1
        for line in changes(readings, later):
            console.info(line)
        readings, verdict = later, decide(later)
    waited = format_seconds(time.monotonic() - started)
    if verdict.result in WAITING:
        still = " and ".join(
            word
            for word, left in (("missing", verdict.result == MISSING), ("in progress", verdict.tally["inProgress"]))
            if left
        )
        return readings, f"Still {still} after waiting {waited} (check-wait, {rounds} readings)."
    return readings, f"Waited {waited} ({rounds} readings)."


def waiting_for(verdict: Verdict) -> str:
    """``1 check-keys pattern(s) to be matched (CI/lint) and 1 build(s) in progress (CI/test)``: what a wait
    is for."""
    parts = []
    if verdict.empty:
        parts.append(f"a first build status on {len(verdict.empty)} commit(s)")
    if verdict.missing:
        keys = verdict.missing_keys
        parts.append(f"{len(keys)} check-keys pattern(s) to be matched ({_shorten(keys)})")
    running = len(verdict.running_keys) + verdict.unlisted_running
    if running:
        parts.append(f"{running} build(s) in progress ({_shorten(verdict.running_keys) or 'not listed'})")
    return " and ".join(parts)


def report(bb: BitbucketSettings, check: CheckSettings, console: Console, readings: list[Reading], note: str) -> int:
    """The tables, outputs, summary and the annotations of the decision; the exit code."""
    verdict = decide(readings)
    if note:
        console.info(note)
    for reading in readings:
        for line in table(reading):
            console.info(line)
    if len(readings) > 1:
        console.info(f"All {len(readings)} commits: {tally_text(verdict.tally)}")
    console.set_output("check-result", verdict.result)
    console.set_output("check-tally", json.dumps(verdict.tally))
    console.set_output("failed-keys", "\n".join(verdict.failed_keys))
    console.set_output("missing-keys", "\n".join(verdict.missing_keys))
    console.set_output("commits", ",".join(bb.commits))
    console.summary(summary(readings, verdict, note))
    own = {reading.sha for reading in readings if reading.own is not None}
    return decision(verdict, check, console, several=len(readings) > 1, own=own)


def decision(
    verdict: Verdict, check: CheckSettings, console: Console, *, several: bool, own: set[str] | None = None
) -> int:
    """Say the result, one ``::error::`` per problem; the exit code: 0 for green only.

    Red says only what FAILED: with check-wait a failure ends the wait at once, so what is still missing or
    running then may yet come.  Missing and pending say every problem left: each fails the gate.
    """
    if verdict.result == GREEN:
        matched = ", every check-keys pattern matched" if check.keys else ""
        console.info(f"Green: nothing FAILED or INPROGRESS{matched} ({tally_text(verdict.tally)}).")
        return EXIT_OK
    if verdict.result == RED:
        failed = _listing(named(verdict.failed, several), verdict.unlisted_failed)
        console.error(f"{verdict.tally['failed']} build(s) FAILED: {failed}.", title=TITLE)
        return EXIT_REMOTE
    waited = f" when check-wait ({format_seconds(check.wait)}) ran out" if check.wait > 0 else ""
    later = "" if check.wait > 0 else ", or set check-wait to wait for them"
    for sha in verdict.empty:
        others = " other than this step's own" if sha in (own or ()) else ""
        console.error(
            f"Commit {sha} has no build statuses{others}{waited}: nothing to check. Check that it is the commit "
            f"the other jobs report on and that the gate's job needs them (needs:){later}.",
            title=TITLE,
        )
    if verdict.missing:
        patterns = [f"{p} on {sha[:12]}" if several else p for sha, p in verdict.missing]
        crowded = ""
        if verdict.crowded:
            crowded = (
                f" Bitbucket lists only the 100 newest statuses of {', '.join(sha[:12] for sha in verdict.crowded)}: "
                "a key named exactly (no * or ?) is asked for by key when bitbucket-project and bitbucket-repo are "
                "set."
            )
        console.error(
            f"No build status matches check-keys {_shorten(patterns)}{waited}. Check that the jobs with these keys "
            f"ran and reported (the table shows the keys there are){later}.{crowded}",
            title=TITLE,
        )
    if verdict.tally["inProgress"]:
        running = _listing(named(verdict.running, several), verdict.unlisted_running)
        if check.wait > 0:
            console.error(f"Still INPROGRESS{waited}: {running}.", title=TITLE)
        else:
            console.error(
                f"{verdict.tally['inProgress']} build(s) still INPROGRESS: {running}. A fan-in job runs after the "
                "jobs it needs, so a build still running now is stuck or reported by something else: find out why "
                "it did not end, or set check-wait to wait for it.",
                title=TITLE,
            )
    return EXIT_REMOTE


def _listing(names: str, unlisted: int) -> str:
    more = f"{unlisted} that Bitbucket counts but does not list" if unlisted else ""
    return "; ".join(part for part in (names, more) if part)


def not_read(bb: BitbucketSettings, fail_on_error: bool, console: Console, message: str) -> int:
    """A remote failure: the server's own message in one annotation (a warning with fail-on-error false)."""
    console.set_output("check-result", "")
    console.set_output("commits", ",".join(bb.commits))
    console.summary(f"### {TITLE}\n\nNot read: {markdown_cell(message)}\n\n")
    text = f"The build statuses could not be read. {message}"
    if fail_on_error:
        console.error(text, title=TITLE)
        return EXIT_REMOTE
    console.warning(text + " (fail-on-error is false)", title=TITLE)
    return EXIT_OK


def dry_run(bb: BitbucketSettings, check: CheckSettings, console: Console, client: Bitbucket) -> None:
    """Show the GETs a check would send (credentials masked); send nothing."""
    shown_auth = f"{bb.auth.scheme} ***"
    reader_by_key = bool(bb.project and bb.repo) and bb.api != COMMITS
    for sha in bb.commits:
        for url in (f"{client.commits_url(sha)}?{urlencode({'start': 0, 'limit': PAGE})}", client.stats_url(sha)):
            console.group(f"dry-run: GET {url}")
            console.info(f"Authorization: {shown_auth}")
            console.info("Accept: application/json")
            console.endgroup()
        if reader_by_key:
            console.info(
                f"dry-run: then GET {client.builds_url(bb.project, bb.repo, sha)}?key=<key> for each key listed "
                "(Bitbucket 7.14+; an older server's list is used as it is)."
            )
    if check.keys:
        console.info(
            f"dry-run: each of {len(check.keys)} check-keys pattern(s) must match a key: {', '.join(check.keys)}."
        )
    if check.wait > 0:
        console.info(
            f"dry-run: while any is INPROGRESS or missing (and none FAILED), read again every "
            f"{format_seconds(check.interval)} for up to {format_seconds(check.wait)}."
        )
    console.info(f"dry-run: nothing was sent; this step's own key {bb.key} would be left out.")
    console.set_output("commits", ",".join(bb.commits))
    console.summary(f"### {TITLE}\n\nDry run: nothing was read ({len(bb.commits)} commit(s)).\n\n")


# -- helpers -------------------------------------------------------------------------------------------
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


def _cell(text: str) -> str:
    return " ".join(text.split())


def _fit(text: str, width: int) -> str:
    return cut(text, width).ljust(width)


def _shorten(keys: Sequence[str], limit: int = NAMED_KEYS) -> str:
    """``a, b, c`` — at most ``limit`` keys, then ``… and N more``."""
    more = [f"… and {len(keys) - limit} more"] if len(keys) > limit else []
    return ", ".join([*keys[:limit], *more])


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
