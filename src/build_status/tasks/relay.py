"""Relay a webapp.io run: find (or start) it, follow it, and post its state to Bitbucket.

INPROGRESS is posted as soon as the run is seen going (again when its calculated status moves on), the
final state when it ends.  Waiting is bounded by ``webappio-timeout``; each exchange with a server (a
poll, a post) by ``timeout``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import requests

from ..config.selection import RelayConfig
from ..context import Context
from ..errors import DeadlineExceeded, RemoteError
from ..model.states import SUCCESSFUL, from_webappio, is_final
from ..remotes.interface import Endpoint, StatusConnection
from ..remotes.webappio import Run, Runner, Webappio, quote
from ..report import Report
from ..transport.deadline import Deadline
from . import relay_view
from .post import Delivery, Posting, deliver, report_delivery
from .relay_status import relay_posting, run_description, run_origin

T = TypeVar("T")
SHA_LENGTH = 40


class Relay:
    def __init__(
        self,
        config: RelayConfig,
        context: Context,
        report: Report,
        client: Webappio,
        connection: StatusConnection | None,
        deadline: Deadline,
        endpoint: Endpoint | None,
    ) -> None:
        self.config = config
        self.ws = config.webappio
        self.context = context
        self.report = report
        self.console = report.console
        self.client = client
        self.connection = connection
        self.deadline = deadline
        self.endpoint = endpoint
        self.limit = config.remote.description_limit if config.remote else 0
        self.wait = Deadline(self.ws.wait_timeout)
        self.run: Run | None = None
        #: The run page from webapp.io's answer to starting it (as text, and as a link when it is one).
        self.created_url = ""
        self.created_link = ""
        self.problem = ""
        self.timed_out = False
        self.warned_unknown = False
        self.posted: tuple[str, str] | None = None
        self.delivery: Delivery | None = None
        self.posting: Posting | None = None

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
        inputs = self.config.status
        if inputs is None or not run.commit_sha or run.commit_sha in inputs.commits:
            return
        reported = inputs.commits[0] if len(inputs.commits) == 1 else ", ".join(inputs.commits)
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
        inputs, run = self.config.status, self.run
        if inputs is None or self.connection is None or run is None:
            return
        if self.posted == (state, run.calculated_status):
            return
        url = inputs.url if inputs.url_given else (self._run_link(run) or inputs.url or run_origin(self.ws.endpoint))
        posting = relay_posting(self.config, state, run_description(run, inputs.description, self.limit), url)
        self.deadline.restart()
        delivery = deliver(posting, self.context, self.console, self.connection, self.deadline, self.endpoint)
        self.endpoint = delivery.endpoint or self.endpoint
        self.delivery, self.posting = delivery, posting
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
        if self.delivery is not None and self.posting is not None:
            ok = report_delivery(self.posting, self.report, self.delivery)
        if run is not None:
            outputs = {"webappio-job-id": str(run.id), "webappio-status": run.calculated_status}
            link = self._run_link(run)
            if link:
                outputs["webappio-url"] = link
            self.report.outputs(outputs)
        failure = self._failure()
        if failure:
            ok = False
            self.report.failure(failure, title="webapp.io")
        self.report.summary(
            relay_view.relay_summary(self.ws.repo, run, self._run_link(run) if run else "", runners, failure)
        )
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
            shown = self.delivery.state if self.delivery and self.delivery.state else ""
            return f"webapp.io run #{run.id} ended {run.calculated_status}" + (
                f" (posted to Bitbucket as {shown})." if shown else "."
            )
        return ""


def relay_run(
    config: RelayConfig,
    context: Context,
    report: Report,
    session: requests.Session,
    create_session: requests.Session,
    deadline: Deadline,
    endpoint: Endpoint | None,
) -> bool:
    """Relay the run (or, on a dry run, show what would be sent); True when it succeeded (or is still going,
    with ``webappio-wait: false``) and every status landed."""
    ws = config.webappio
    client = Webappio(session, deadline, ws.endpoint, ws.token, ws.repo, create_session=create_session)
    connection = config.remote.connect(session, deadline) if config.remote else None
    return Relay(config, context, report, client, connection, deadline, endpoint).go()
