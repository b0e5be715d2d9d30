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

import json
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from . import http
from .bitbucket import Bitbucket, NoEndpoint, NotInRepository
from .context import Context
from .contract import COMMITS
from .errors import EXIT_OK, EXIT_REMOTE, DeadlineExceeded, RemoteError
from .gate_rest import _text, status_from_rest
from .settings import BitbucketSettings, CheckSettings, Settings
from .tasks.gate_tally import MISSING, WAITING, Reading, Status, combine, decide, is_literal, sort_statuses, unmatched
from .tasks.gate_view import (
    TITLE,
    announce_verdict,
    changes,
    format_seconds,
    summary,
    table,
    tally_text,
    waiting_for,
)
from .workflow import Console, markdown_cell

#: The commit-only GET's page size: Bitbucket lists at most the 100 newest anyway.
PAGE = 100


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
        own = next((status_from_rest(value) for value in values if value.get("key") == own_key), None)
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
        status = status_from_rest(listed)
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
            status = status_from_rest({**listed, **data})
        self.known[(sha, status.key)] = (fingerprint, status)
        return status

    def _unlisted(self, sha: str, key: str) -> Status | None:
        """The status of a key the list leaves out, when the server has it (and can be asked)."""
        _, data = self._ask(sha, key)
        return None if data is None else status_from_rest({**data, "key": key})

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
    reader = Reader(client, bb, console, check.keys)
    try:
        readings, note = watch(reader, bb.commits, check, console, deadline)
    except RemoteError as exc:
        return not_read(bb, settings.fail_on_error, console, exc.message)
    return report(bb, check, console, readings, note)


def watch(
    reader: Reader, commits: Sequence[str], check: CheckSettings, console: Console, deadline: http.Deadline
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
    wait = http.Deadline(check.wait)
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
    return announce_verdict(verdict, check.wait, check.keys, console, several=len(readings) > 1, own=own)


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
