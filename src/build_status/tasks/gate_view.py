"""What the gate shows: the log's tables, the step summary, the changes while waiting, and the verdict's
messages (one ``::error::`` per problem)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import EXIT_OK, EXIT_REMOTE
from ..model.naming import format_duration
from ..model.states import BADGE, FAILED
from ..model.tally import GREEN, MISSING, PENDING, RED, WORDS, Reading, Status, Verdict
from ..redaction import cut
from ..workflow import Console, markdown_cell, markdown_link

#: How the tables show a check-keys pattern that no key matches.
MISSING_ROW = ("MISSING", "⚠️", "no key matches this check-keys pattern")
TITLE = "Bitbucket build statuses"
RESULT_BADGE = {GREEN: "✅", RED: "❌", PENDING: "🔵", MISSING: MISSING_ROW[1]}
#: An annotation names at most this many keys ("… and N more").
NAMED_KEYS = 10
#: Log table columns (key, name, details) are cut to these widths; the URL, last, is not.
WIDTHS = (40, 40, 60)


def tally_text(tally: dict[str, int]) -> str:
    """``3 successful, 1 failed, 1 in progress, 0 cancelled, 0 unknown`` (stable wording)."""
    return ", ".join(f"{tally.get(word, 0)} {label}" for word, _, label in WORDS)


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


def gate_summary(readings: Sequence[Reading], verdict: Verdict, note: str = "") -> str:
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


def announce_verdict(
    verdict: Verdict,
    wait: float,
    keys: tuple[str, ...],
    console: Console,
    *,
    several: bool,
    own: set[str] | None = None,
) -> int:
    """Say the result, one ``::error::`` per problem; the exit code: 0 for green only.

    ``wait`` and ``keys`` are the check-wait (seconds) and check-keys inputs.

    Red says only what FAILED: with check-wait a failure ends the wait at once, so what is still missing or
    running then may yet come.  Missing and pending say every problem left: each fails the gate.
    """
    if verdict.result == GREEN:
        matched = ", every check-keys pattern matched" if keys else ""
        console.info(f"Green: nothing FAILED or INPROGRESS{matched} ({tally_text(verdict.tally)}).")
        return EXIT_OK
    if verdict.result == RED:
        failed = _listing(named(verdict.failed, several), verdict.unlisted_failed)
        console.error(f"{verdict.tally['failed']} build(s) FAILED: {failed}.", title=TITLE)
        return EXIT_REMOTE
    waited = f" when check-wait ({format_seconds(wait)}) ran out" if wait > 0 else ""
    later = "" if wait > 0 else ", or set check-wait to wait for them"
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
        if wait > 0:
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


# -- helpers -------------------------------------------------------------------------------------------
def _cell(text: str) -> str:
    return " ".join(text.split())


def _fit(text: str, width: int) -> str:
    return cut(text, width).ljust(width)


def _shorten(keys: Sequence[str], limit: int = NAMED_KEYS) -> str:
    """``a, b, c`` — at most ``limit`` keys, then ``… and N more``."""
    more = [f"… and {len(keys) - limit} more"] if len(keys) > limit else []
    return ", ".join([*keys[:limit], *more])
