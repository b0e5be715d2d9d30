"""``check: true``, the gate of a fan-in job: read back every build status of the commits, tally them as
Bitbucket does, and pass only when the result is green.

Its result is the first of these that applies (see :func:`~build_status.model.tally.decide`): red (some key
FAILED), missing (a commit without statuses, or a ``check-keys`` pattern that no key matches), pending (some
key still INPROGRESS), green.  A fan-in job runs after the jobs it needs, so a key still INPROGRESS then is
stuck or reported by something else: it fails the gate too.  With ``check-wait`` it reads again while the
result is missing or pending, until it is not or the wait runs out (a key turning FAILED ends the wait at
once).  The step's own key is left out: a fan-in job that reports its own status must not wait for itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

import requests

from ..config.gate import GateConfig, Waiting
from ..errors import DeadlineExceeded, RemoteError
from ..model.tally import MISSING, WAITING, Reading, decide
from ..remotes.interface import StatusReader
from ..report import Report
from ..transport.deadline import Deadline
from ..workflow import Console, markdown_cell
from .gate_view import TITLE, announce_verdict, changes, format_seconds, gate_summary, table, tally_text, waiting_for


def run_gate(config: GateConfig, report: Report, session: requests.Session, deadline: Deadline) -> int:
    """Read back, tally, gate (and wait, with check-wait); returns the exit code."""
    console = report.console
    connection = config.remote.connect(session, deadline)
    reader = connection.reader(config.own_key, config.waiting.keys, console)
    try:
        readings, note = watch(reader, config.commits, config.waiting, console, deadline)
    except RemoteError as exc:
        return not_read(config, report, exc.message)
    return report_verdict(config, report, readings, note)


def read_round(reader: StatusReader, commits: Sequence[str], deadline: Deadline) -> list[Reading]:
    """One reading of every commit, bounded by the ``timeout`` input (restarted for each round)."""
    deadline.restart()
    try:
        with deadline.enforced():
            return [reader.read(sha) for sha in commits]
    except DeadlineExceeded as exc:
        raise RemoteError(
            f"Gave up reading the build statuses: {exc.message}; raise timeout if Bitbucket is slow."
        ) from None


def watch(
    reader: StatusReader, commits: Sequence[str], waiting: Waiting, console: Console, deadline: Deadline
) -> tuple[list[Reading], str]:
    """Read, and with check-wait read again every interval while the result is missing or pending (some key
    INPROGRESS or missing, none FAILED).

    Returns the last reading and a note on the wait ("" without one).  The wait has its own clock: each
    pause is cut to what is left of it, so the last reading comes at its end, not an interval later.
    """
    readings = read_round(reader, commits, deadline)
    verdict = decide(readings)
    if verdict.result not in WAITING or waiting.wait <= 0:
        return readings, ""
    started = time.monotonic()
    wait = Deadline(waiting.wait)
    console.group("Build statuses before waiting")
    for reading in readings:
        for line in table(reading):
            console.info(line)
    console.endgroup()
    console.info(
        f"Waiting up to {format_seconds(waiting.wait)} for {waiting_for(verdict)}; reading again every "
        f"{format_seconds(waiting.interval)}."
    )
    rounds = 1
    while verdict.result in WAITING and not wait.expired():
        time.sleep(min(waiting.interval, wait.remaining()))
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


def report_verdict(config: GateConfig, report: Report, readings: list[Reading], note: str) -> int:
    """The tables, outputs, summary and the annotations of the decision; the exit code."""
    console = report.console
    verdict = decide(readings)
    if note:
        console.info(note)
    for reading in readings:
        for line in table(reading):
            console.info(line)
    if len(readings) > 1:
        console.info(f"All {len(readings)} commits: {tally_text(verdict.tally)}")
    report.outputs(
        {
            "check-result": verdict.result,
            "check-tally": json.dumps(verdict.tally),
            "failed-keys": "\n".join(verdict.failed_keys),
            "missing-keys": "\n".join(verdict.missing_keys),
            "commits": ",".join(config.commits),
        }
    )
    report.summary(gate_summary(readings, verdict, note))
    own = {reading.sha for reading in readings if reading.own is not None}
    waiting = config.waiting
    return announce_verdict(verdict, waiting.wait, waiting.keys, console, several=len(readings) > 1, own=own)


def not_read(config: GateConfig, report: Report, message: str) -> int:
    """A remote failure: the server's own message in one annotation (a warning with fail-on-error false)."""
    report.outputs({"check-result": "", "commits": ",".join(config.commits)})
    report.section(TITLE, f"Not read: {markdown_cell(message)}")
    report.failure(f"The build statuses could not be read. {message}", title=TITLE)
    return report.exit_code()


def show_gate(config: GateConfig, report: Report) -> None:
    """The dry run: the GETs a check would send (credentials masked); nothing is sent."""
    console, waiting = report.console, config.waiting
    for sha in config.commits:
        reads, note = config.remote.read_requests(sha)
        for request in reads:
            report.show_request(request)
        if note:
            console.info(f"dry-run: {note}")
    if waiting.keys:
        console.info(
            f"dry-run: each of {len(waiting.keys)} check-keys pattern(s) must match a key: {', '.join(waiting.keys)}."
        )
    if waiting.wait > 0:
        console.info(
            f"dry-run: while any is INPROGRESS or missing (and none FAILED), read again every "
            f"{format_seconds(waiting.interval)} for up to {format_seconds(waiting.wait)}."
        )
    console.info(f"dry-run: nothing was sent; this step's own key {config.own_key} would be left out.")
    report.outputs({"commits": ",".join(config.commits)})
    report.section(TITLE, f"Dry run: nothing was read ({len(config.commits)} commit(s)).")
