"""The webapp.io step: find (or start) a webapp.io run, follow it, and relay its state to Bitbucket.

INPROGRESS is posted as soon as the run is seen going (again when its calculated status moves on), the
final state when it ends.  Waiting is bounded by ``webappio-timeout``; each exchange with a server (a
poll, a post) by ``timeout``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

import requests

from . import naming, post_status
from .bitbucket import Bitbucket
from .context import Context
from .contract import LEGACY_REQUEST
from .errors import DeadlineExceeded, RemoteError
from .settings import BitbucketSettings, Settings, WebappioSettings
from .states import BADGE, SUCCESSFUL, from_webappio, is_final
from .transport.deadline import Deadline
from .webappio import Run, Runner, Webappio, quote
from .workflow import Console, cut, markdown_cell, markdown_link

T = TypeVar("T")
SHA_LENGTH = 40
#: The longest description a relayed run can add, for checking the inputs before the first request.
LONGEST_STATUS = "RUNNER_CANCELLED"
#: The longest description Bitbucket takes (the commit-only endpoint's limit; the other has none).
DESCRIPTION_LIMIT: int = LEGACY_REQUEST["properties"]["description"]["maxLength"]  # type: ignore[index]
#: Layerfile runner statuses as webapp.io shows them.
RUNNER_BADGE = {"SUCCESS": "✅", "FAILURE": "❌", "ERROR": "❌", "CANCELLED": "⚪", "RUNNING": "🔵", "NEW": "🔵"}


def check(settings: BitbucketSettings, context: Context) -> post_status.Plan | None:
    """:func:`post_status.check` for the statuses a relay posts (longest description, some URL)."""
    sample = settings._replace(
        description=naming.webappio_description(10**18, LONGEST_STATUS, settings.description),
        url=settings.url or "https://webapp.io",
    )
    return post_status.check(sample, context)


def run(
    settings: Settings,
    context: Context,
    console: Console,
    session: requests.Session,
    create_session: requests.Session,
    deadline: Deadline,
    plan: post_status.Plan | None,
) -> bool:
    """Relay the run; True when it succeeded (or is still going, with ``webappio-wait: false``) and every
    status landed."""
    assert settings.webappio is not None
    ws = settings.webappio
    client = Webappio(session, deadline, ws.endpoint, ws.token, ws.repo, create_session=create_session)
    bitbucket = None
    if settings.bitbucket:
        bb = settings.bitbucket
        bitbucket = Bitbucket(session, deadline, bb.base_url, bb.auth)
    relay = Relay(settings, context, console, client, bitbucket, deadline, plan)
    if settings.dry_run:
        relay.dry_run()
        return True
    return relay.go()


class Relay:
    def __init__(
        self,
        settings: Settings,
        context: Context,
        console: Console,
        client: Webappio,
        bitbucket: Bitbucket | None,
        deadline: Deadline,
        plan: post_status.Plan | None,
    ) -> None:
        assert settings.webappio is not None
        self.settings = settings
        self.ws: WebappioSettings = settings.webappio
        self.context = context
        self.console = console
        self.client = client
        self.bitbucket = bitbucket
        self.deadline = deadline
        self.plan = plan
        self.wait = Deadline(self.ws.wait_timeout)
        self.run: Run | None = None
        #: The run page from webapp.io's answer to starting it (as text, and as a link when it is one).
        self.created_url = ""
        self.created_link = ""
        self.problem = ""
        self.timed_out = False
        self.warned_unknown = False
        self.posted: tuple[str, str] | None = None
        self.progress: post_status.Progress | None = None
        self.posted_settings: BitbucketSettings | None = None

    # -- the whole relay ---------------------------------------------------------------------------
    def go(self) -> bool:
        try:
            self.run = self._locate()
            self._follow()
        except RemoteError as exc:
            self.problem = exc.message
        runners = self._runners()
        return self._report(runners)

    def _follow(self) -> None:
        assert self.run is not None
        seen = self.run.calculated_status
        while True:
            if self.run.calculated_status != seen:
                seen = self.run.calculated_status
                self.console.info(f"webapp.io run #{self.run.id} is now {seen}.")
            self._check_commit(self.run)
            state = self._state(self.run)
            self._post(state)
            if is_final(state) or not self.ws.wait:
                return
            if self.wait.expired():
                self.timed_out = True
                return
            time.sleep(min(self.ws.poll_interval, self.wait.remaining()))
            self.run = self._refresh(self.run)

    # -- finding the run ---------------------------------------------------------------------------
    def _locate(self) -> Run:
        ws = self.ws
        if not ws.trigger:
            found = self._exchange(lambda: self.client.find(ws.query), "looking for the run")
            if found is None:
                raise RemoteError(
                    f"No webapp.io run in {ws.repo} matches '{ws.query}'; webapp.io says: \"{self.client.no_runs}\" "
                    "Check webappio-job-id, webappio-branch and webappio-query (a run on a branch is found only "
                    "once webapp.io has started it)."
                )
            self.console.info(f"Found webapp.io run #{found.id} ({found.calculated_status}) in {ws.repo}.")
            return found
        branch_query = f"branch:{quote(ws.branch)}"
        before = self._exchange(lambda: self.client.find(branch_query), "looking for earlier runs")
        newest_before = before.id if before else 0
        created = self._exchange(
            lambda: self.client.create(ws.branch, ws.ref, ws.accept_buttons, ws.extra), "starting a run"
        )
        self.created_url, self.created_link = created.url, created.link
        if created.run is not None:
            found = created.run
        elif created.run_id is not None:
            found = self._await(f"id:{created.run_id}", lambda candidate: candidate.id == created.run_id)
        else:
            # The answer names no run: take the newest run on that branch (and commit) that appeared since.
            found = self._await(
                branch_query,
                lambda candidate: candidate.id > newest_before and self._same_commit(candidate, ws.ref),
            )
        where = f"branch {ws.branch}" + (f" at {ws.ref[:12]}" if ws.ref else "")
        self.console.info(f"Started webapp.io run #{found.id} on {where}: {self._run_page(found) or '(no page given)'}")
        return found

    def _await(self, query: str, accept: Callable[[Run], bool]) -> Run:
        """Poll until a run matching ``query`` that ``accept`` takes shows up (within webappio-timeout)."""
        while True:
            found = self._exchange(lambda: self.client.find(query), "looking for the run just started")
            if found is not None and accept(found):
                return found
            if self.wait.expired():
                raise RemoteError(
                    f"webapp.io accepted the new run but it did not show up in {self.ws.repo} (searching "
                    f"'{query}') within webappio-timeout ({self.ws.wait_timeout:g} s)."
                )
            time.sleep(min(self.ws.poll_interval, self.wait.remaining()))

    def _refresh(self, current: Run) -> Run:
        found = self._exchange(lambda: self.client.find(f"id:{current.id}"), f"asking for run #{current.id}")
        if found is None:
            raise RemoteError(f"webapp.io no longer finds run #{current.id} in {self.ws.repo}.")
        return found

    @staticmethod
    def _same_commit(run: Run, ref: str) -> bool:
        return len(ref) != SHA_LENGTH or not run.commit_sha or run.commit_sha == ref.lower()

    def _check_commit(self, run: Run) -> None:
        bb = self.settings.bitbucket
        if bb is None or not run.commit_sha or run.commit_sha in bb.commits:
            return
        reported = bb.commits[0] if len(bb.commits) == 1 else ", ".join(bb.commits)
        raise RemoteError(
            f"Refusing to relay webapp.io run #{run.id}: it ran commit {run.commit_sha}, not the commit being "
            f"reported ({reported}). Point webappio-job-id/-branch/-query at the run of this commit, or set "
            "commit to the run's commit."
        )

    def _state(self, run: Run) -> str:
        state, known = from_webappio(run.calculated_status)
        if not known and not self.warned_unknown:
            self.warned_unknown = True
            self.console.warning(
                f"webapp.io run #{run.id} has calculated_status '{run.calculated_status}', which this version "
                f"does not know; it is reported as {state} (FAILED where Bitbucket has no {state}).",
                title="webapp.io",
            )
        return state

    # -- Bitbucket ---------------------------------------------------------------------------------
    def _post(self, state: str) -> None:
        bb = self.settings.bitbucket
        run = self.run
        if bb is None or self.bitbucket is None or run is None:
            return
        if self.posted == (state, run.calculated_status):
            return
        url = bb.url if bb.url_given else (self._run_link(run) or bb.url or _origin(self.ws.endpoint))
        settings = bb._replace(state=state, description=_description(run, bb.description), url=url)
        self.deadline.restart()
        progress = post_status.deliver(settings, self.context, self.console, self.bitbucket, self.deadline, self.plan)
        self.plan = progress.plan or self.plan
        self.progress, self.posted_settings = progress, settings
        self.posted = (state, run.calculated_status)

    def _run_page(self, run: Run) -> str:
        """The run's page as webapp.io gave it (text for the log)."""
        return self.created_url or run.url

    def _run_link(self, run: Run) -> str:
        """The run's page when it can be a link (http(s), within Bitbucket's limit), else ""."""
        return self.created_link or run.link

    # -- exchanges -----------------------------------------------------------------------------------
    def _exchange(self, call: Callable[[], T], what: str) -> T:
        """One exchange with webapp.io, bounded by ``timeout`` (restarted for each)."""
        self.deadline.restart()
        try:
            with self.deadline.enforced():
                return call()
        except DeadlineExceeded as exc:
            raise RemoteError(f"Gave up {what} on webapp.io: {exc.message}; raise timeout if it is slow.") from None

    def _runners(self) -> list[Runner] | None:
        run = self.run
        if run is None or not run.uuid or self.problem:
            # After a failure the run's state is not what is reported; webapp.io may be down, too.
            return None
        try:
            return self._exchange(lambda: self.client.runners(run.uuid), "reading the runners")
        except RemoteError as exc:
            self.console.warning(f"The runners of webapp.io run #{run.id} could not be read: {exc.message}")
            return None

    # -- reporting -----------------------------------------------------------------------------------
    def _report(self, runners: list[Runner] | None) -> bool:
        run = self.run
        ok = True
        if self.progress is not None and self.posted_settings is not None:
            ok = post_status.report(self.posted_settings, self.settings.fail_on_error, self.console, self.progress)
        if run is not None:
            self.console.set_output("webappio-job-id", str(run.id))
            self.console.set_output("webappio-status", run.calculated_status)
            link = self._run_link(run)
            if link:
                self.console.set_output("webappio-url", link)
        failure = self._failure()
        if failure:
            ok = False
            if self.settings.fail_on_error:
                self.console.error(failure, title="webapp.io")
            else:
                self.console.warning(failure + " (fail-on-error is false)", title="webapp.io")
        self._summary(runners, failure)
        return ok

    def _failure(self) -> str:
        run = self.run
        left = ""
        if self.posted and not is_final(self.posted[0]):
            left = " Bitbucket still shows INPROGRESS for it;"
        if self.problem:
            text = f"The webapp.io run was not relayed. {self.problem}"
            return text + (f"{left} re-run this step to relay the result." if left else "")
        assert run is not None
        state, _ = from_webappio(run.calculated_status)
        if self.timed_out:
            return (
                f"Gave up waiting for webapp.io run #{run.id} after webappio-timeout ({self.ws.wait_timeout:g} s); "
                f"last seen: {run.calculated_status}.{left} re-run with webappio-job-id: {run.id} to relay its "
                "result, or raise webappio-timeout."
            )
        if is_final(state) and state != SUCCESSFUL:
            shown = self.progress.state if self.progress and self.progress.state else ""
            return f"webapp.io run #{run.id} ended {run.calculated_status}" + (
                f" (posted to Bitbucket as {shown})." if shown else "."
            )
        return ""

    def _summary(self, runners: list[Runner] | None, failure: str) -> None:
        run = self.run
        lines = ["### webapp.io run", ""]
        if run is None:
            lines.append(f"No run relayed from {markdown_cell(self.ws.repo)}: {markdown_cell(failure)}")
        else:
            title = markdown_link(f"#{run.id}", self._run_link(run))
            badge = BADGE[from_webappio(run.calculated_status)[0]]
            lines.append(
                f"Run {title} of {markdown_cell(self.ws.repo)}: {badge} **{markdown_cell(run.calculated_status)}**"
                + (f" · branch `{markdown_cell(run.branch)}`" if run.branch else "")
                + (f" · commit `{run.commit_sha[:12]}`" if run.commit_sha else "")
            )
            if failure:
                lines += ["", markdown_cell(failure)]
            if runners:
                lines += ["", "| Runner | Layerfile | Status | Retried |", "| --- | --- | --- | --- |"]
                for runner in sorted(runners, key=lambda item: (item.index is None, item.index or 0, item.id)):
                    lines.append(
                        f"| {markdown_cell(runner.id)} | `{markdown_cell(runner.path)}` | "
                        f"{RUNNER_BADGE.get(runner.status, '❔')} {markdown_cell(runner.status)} | "
                        f"{'yes' if runner.was_retried else 'no'} |"
                    )
            elif runners is not None:
                lines += ["", "No Layerfile runners."]
        self.console.summary("\n".join(lines) + "\n\n")

    # -- dry run -------------------------------------------------------------------------------------
    def dry_run(self) -> None:
        ws = self.ws
        if ws.trigger:
            self.console.group(f"dry-run: POST {self.client.run_url}?token=***")
            self.console.info("Content-Type: application/json")
            body = self.client.create_body(ws.branch, ws.ref, ws.accept_buttons, ws.extra)
            self.console.info(json.dumps(body, indent=2, ensure_ascii=False))
        else:
            self.console.group(f"dry-run: GET {self.client.search_url}?search=…&token=***")
            self.console.info(f"search: {ws.query}")
        self.console.endgroup()
        wait = f"then poll every {ws.poll_interval:g} s for up to {ws.wait_timeout:g} s" if ws.wait else "no waiting"
        self.console.info(f"dry-run: {wait}; INPROGRESS and the final state would be posted to Bitbucket.")
        bb = self.settings.bitbucket
        if bb is not None and self.bitbucket is not None:
            sample = bb._replace(
                description=naming.webappio_description("N", "RUNNING", bb.description),
                url=bb.url or _origin(ws.endpoint),
            )
            post_status.dry_run(sample, self.context, self.console, self.bitbucket, self.plan)


def _description(run: Run, given: str) -> str:
    """The description of a relayed run, within Bitbucket's limit whatever webapp.io's status says: the
    status is cut to fit (the inputs were checked with LONGEST_STATUS, which always fits)."""
    text = naming.webappio_description(run.id, run.calculated_status, given)
    over = len(text) - DESCRIPTION_LIMIT
    if over > 0:
        status = run.calculated_status
        text = naming.webappio_description(run.id, cut(status, max(len(status) - over, len(LONGEST_STATUS))), given)
    return cut(text, DESCRIPTION_LIMIT)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
