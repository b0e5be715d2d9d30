"""``check: true``: read back every build status of the commits, tally them as Bitbucket does, and gate on them.

This is the gate of a fan-in job: it is red when any key is FAILED (as Bitbucket makes the commit red),
pending while some key is INPROGRESS, green otherwise.  With ``check-wait`` it reads again until nothing
is running any more.

- The commit-only GET lists at most the 100 newest statuses, while ``commits/stats`` counts them all: when
  the counts are larger, the decision uses them and the log says that some are not listed.
- The repository-scoped GET by key (Bitbucket 7.14+) gives what the list leaves out or flattens: the exact
  state (CANCELLED/UNKNOWN on 8.0+), test results, duration and build number.  An older server lacks it;
  then the list's data is used, without failing.
- The step's own key is left out: a fan-in job that reports its own status must not wait for itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlencode

from . import http
from .bitbucket import Bitbucket, NoEndpoint, NotInRepository
from .context import Context
from .contract import COMMITS
from .errors import EXIT_OK, EXIT_REMOTE, DeadlineExceeded, RemoteError
from .naming import format_duration
from .settings import BitbucketSettings, CheckSettings, Settings
from .states import BADGE, CANCELLED, FAILED, INPROGRESS, STATES, SUCCESSFUL, UNKNOWN
from .workflow import Console, cut, markdown_cell, markdown_link

GREEN, RED, PENDING = "green", "red", "pending"
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
RESULT_BADGE = {GREEN: "✅", RED: "❌", PENDING: "🔵"}
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

    @property
    def failed_keys(self) -> list[str]:
        return _unique(status.key for _, status in self.failed)

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
    """red: any key FAILED; pending: none FAILED but some INPROGRESS; green otherwise."""
    tally = dict.fromkeys(WORD_OF.values(), 0)
    for reading in readings:
        for word, value in reading.tally.items():
            tally[word] += value
    failed = tuple((r.sha, s) for r in readings for s in r.statuses if s.state == FAILED)
    running = tuple((r.sha, s) for r in readings for s in r.statuses if s.state == INPROGRESS)
    result = RED if tally["failed"] else PENDING if tally["inProgress"] else GREEN
    return Verdict(
        result,
        tally,
        failed,
        running,
        unlisted_failed=max(0, tally["failed"] - len(failed)),
        unlisted_running=max(0, tally["inProgress"] - len(running)),
    )


def tally_text(tally: dict[str, int]) -> str:
    """``3 successful, 1 failed, 1 in progress, 0 cancelled, 0 unknown`` (stable wording)."""
    return ", ".join(f"{tally.get(word, 0)} {label}" for word, _, label in WORDS)


def sort_statuses(statuses: Iterable[Status]) -> tuple[Status, ...]:
    return tuple(sorted(statuses, key=lambda status: (ORDER.get(status.state, len(ORDER)), status.key)))


def table(reading: Reading) -> list[str]:
    """The log's table of one commit: state, key, name, details (where any), URL; then its tally."""
    lines = [f"Build statuses of {reading.sha}:"]
    if not reading.statuses:
        lines.append("  (none)")
    rows = [(s.state, _cell(s.key), _cell(s.name), _cell(s.details()), _cell(s.url)) for s in reading.statuses]
    widths = [max(len(row[0]) for row in rows)] if rows else []
    widths += [min(cap, max((len(row[i]) for row in rows), default=0)) for i, cap in enumerate(WIDTHS, 1)]
    for row in rows:
        cells = [_fit(text, width) for text, width in zip(row[:4], widths) if width] + [row[4]]
        lines.append("  " + "  ".join(cells).rstrip())
    lines.append("  " + tally_text(reading.tally))
    if reading.unlisted:
        shown = len(reading.statuses) + (reading.own is not None)
        lines.append(
            f"  Bitbucket counts {shown + reading.unlisted} statuses but lists only the {shown} newest: the "
            f"tally takes its counts ({reading.unlisted} not shown above)."
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
        if reading.statuses:
            lines += ["| State | Key | Name | Details |", "| --- | --- | --- | --- |"]
            for status in reading.statuses:
                name = markdown_link(markdown_cell(status.name or status.key), status.url)
                lines.append(
                    f"| {BADGE.get(status.state, '')} {status.state} | `{markdown_cell(status.key)}` | {name} | "
                    f"{markdown_cell(status.details())} |"
                )
        else:
            lines.append("No build statuses.")
        if reading.unlisted:
            lines += ["", f"{reading.unlisted} more counted by Bitbucket but not listed (it lists the 100 newest)."]
        if reading.own is not None:
            lines += ["", f"This step's own key `{markdown_cell(reading.own.key)}` is left out."]
    return "\n".join(lines) + "\n\n"


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

    def __init__(self, client: Bitbucket, settings: BitbucketSettings, console: Console) -> None:
        self.client = client
        self.settings = settings
        self.console = console
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
        return Reading(sha, sort_statuses(others), own, tally, unlisted)

    def _exact(self, sha: str, listed: dict[str, Any]) -> Status:
        """The status of a listed key, as exactly as the server tells it."""
        status = Status.from_rest(listed)
        if not self.by_key or sha in self.outside:
            return status
        fingerprint = json.dumps(listed, sort_keys=True, default=str)
        known = self.known.get((sha, status.key))
        if known is not None and known[0] == fingerprint:
            return known[1]
        bb = self.settings
        try:
            data = self.client.build(sha, bb.project, bb.repo, status.key)
        except NoEndpoint:
            self.by_key = False
            self.console.debug(
                "Bitbucket has no GET …/builds?key= (older than 7.14): the statuses are shown as the "
                "commit-only list gives them."
            )
            return status
        except NotInRepository as exc:
            self.outside.add(sha)
            self.console.info(
                f"Commit {sha[:12]} is not in {bb.project}/{bb.repo} ({exc.message}); its statuses are shown as "
                "the commit-only list gives them."
            )
            return status
        if data is not None:
            status = Status.from_rest({**listed, **data})
        self.known[(sha, status.key)] = (fingerprint, status)
        return status


def read_round(reader: Reader, commits: Sequence[str], deadline: http.Deadline) -> list[Reading]:
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
    session: http.requests.Session,
    deadline: http.Deadline,
) -> int:
    """Read back, tally, gate (and wait, with check-wait); returns the exit code."""
    del context  # the commits and the own key are in the settings already
    bb, check = settings.bitbucket, settings.check
    assert bb is not None and check is not None
    client = Bitbucket(session, deadline, bb.base_url, bb.auth)
    if settings.dry_run:
        dry_run(bb, check, console, client)
        return EXIT_OK
    reader = Reader(client, bb, console)
    try:
        readings, note = watch(reader, bb.commits, check, console, deadline)
    except RemoteError as exc:
        return not_read(bb, settings.fail_on_error, console, exc.message)
    return report(bb, check, console, readings, note)


def watch(
    reader: Reader, commits: Sequence[str], check: CheckSettings, console: Console, deadline: http.Deadline
) -> tuple[list[Reading], str]:
    """Read, and with check-wait read again every interval while some key is INPROGRESS and none FAILED.

    Returns the last reading and a note on the wait ("" without one).  The wait has its own clock: each
    pause is cut to what is left of it, so the last reading comes at its end, not an interval later.
    """
    readings = read_round(reader, commits, deadline)
    verdict = decide(readings)
    if verdict.result != PENDING or check.wait <= 0:
        return readings, ""
    started = time.monotonic()
    wait = http.Deadline(check.wait)
    console.group("Build statuses before waiting")
    for reading in readings:
        for line in table(reading):
            console.info(line)
    console.endgroup()
    console.info(
        f"Waiting up to {format_seconds(check.wait)} for {len(verdict.running_keys) + verdict.unlisted_running} "
        f"build(s) in progress ({_shorten(verdict.running_keys) or 'not listed'}); reading again every "
        f"{format_seconds(check.interval)}."
    )
    rounds = 1
    while verdict.result == PENDING and not wait.expired():
        time.sleep(min(check.interval, wait.remaining()))
        later = read_round(reader, commits, deadline)
        rounds += 1
        for line in changes(readings, later):
            console.info(line)
        readings, verdict = later, decide(later)
    waited = format_seconds(time.monotonic() - started)
    if verdict.result == PENDING:
        return readings, f"Still in progress after waiting {waited} (check-wait, {rounds} readings)."
    return readings, f"Waited {waited} ({rounds} readings)."


def report(bb: BitbucketSettings, check: CheckSettings, console: Console, readings: list[Reading], note: str) -> int:
    """The tables, warnings, outputs, summary and the one annotation of the decision; the exit code."""
    verdict = decide(readings)
    if note:
        console.info(note)
    for reading in readings:
        for line in table(reading):
            console.info(line)
    if len(readings) > 1:
        console.info(f"All {len(readings)} commits: {tally_text(verdict.tally)}")
    for reading in readings:
        if not reading.statuses and not reading.unlisted:
            own = " other than this step's own" if reading.own is not None else ""
            console.warning(
                f"Commit {reading.sha} has no build statuses{own}: nothing to check. Is it the commit the other "
                "jobs report on, and have they reported yet?",
                title=TITLE,
            )
    console.set_output("check-result", verdict.result)
    console.set_output("check-tally", json.dumps(verdict.tally))
    console.set_output("failed-keys", "\n".join(verdict.failed_keys))
    console.set_output("commits", ",".join(bb.commits))
    console.summary(summary(readings, verdict, note))
    return decision(verdict, check, console, several=len(readings) > 1)


def decision(verdict: Verdict, check: CheckSettings, console: Console, *, several: bool) -> int:
    """Say the result: one ``::error::`` for red, or for pending at the end of a wait; the exit code."""
    if verdict.result == RED:
        failed = _listing(named(verdict.failed, several), verdict.unlisted_failed)
        console.error(f"{verdict.tally['failed']} build(s) FAILED: {failed}.", title=TITLE)
        return EXIT_REMOTE
    if verdict.result == PENDING:
        running = _listing(named(verdict.running, several), verdict.unlisted_running)
        if check.wait > 0:
            console.error(
                f"Still INPROGRESS when check-wait ({format_seconds(check.wait)}) ran out: {running}.", title=TITLE
            )
            return EXIT_REMOTE
        console.notice(
            f"Pending: {verdict.tally['inProgress']} build(s) still INPROGRESS ({running}); nothing FAILED so far. "
            "Not a failure: set check-wait to wait for them.",
            title=TITLE,
        )
        return EXIT_OK
    console.info(f"Green: nothing FAILED ({tally_text(verdict.tally)}).")
    return EXIT_OK


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
    if check.wait > 0:
        console.info(
            f"dry-run: while any is INPROGRESS (and none FAILED), read again every {format_seconds(check.interval)} "
            f"for up to {format_seconds(check.wait)}."
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
