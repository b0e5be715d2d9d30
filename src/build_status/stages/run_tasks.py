"""One run of a step's tasks: check everything, then run each task with its own session and deadline.

Every input is checked before the first request (what only Bitbucket's capabilities can tell, after that
one GET).  Each task (a status post, a relay, a Coveralls close, a gate) has its own HTTP session and its
own deadline of ``timeout`` seconds, so a slow or dead server for one part cannot use up the others' time;
a relay, which waits for minutes, restarts its deadline for each exchange, and a gate for each reading.
A failure of one task does not keep the others from running.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import requests

from ..config.coveralls import CoverallsConfig
from ..config.selection import Config
from ..context import Context
from ..model.states import INPROGRESS
from ..remotes.interface import Endpoint
from ..report import Report
from ..transport import session as transport
from ..transport.deadline import Deadline
from ..workflow import Console

if TYPE_CHECKING:
    from ..model.insights import InsightReport
    from ..tasks.post import Posting
    from ..tasks.results import Results


class PostHooks(NamedTuple):
    """What the stage around a post does at its edges (report-job-end)."""

    #: The post stage's own status (the job's end), instead of the one the inputs describe, and the results
    #: it read for it.
    posting: Posting | None = None
    results: Results | None = None
    #: The endpoint when it is known already (the post stage has it from the main stage).
    endpoint: Endpoint | None = None
    #: Called before the first post once the endpoint is known: "" to go on, else why nothing may be posted.
    before_post: Callable[[Endpoint | None, str], str] | None = None
    #: Called with the state posted and the commits it landed on, when the state is final.
    after_final: Callable[[str, list[str]], None] | None = None
    #: Called with the endpoint a dry run showed.
    after_dry_run: Callable[[Endpoint], None] | None = None


def run_tasks(config: Config, context: Context, console: Console, hooks: PostHooks | None = None) -> int:
    """Run the tasks; returns the exit code. Raises InputError before anything is sent."""
    hooks = hooks or PostHooks()
    report = Report(console)
    # Each task is imported only by the runs that need it (start-up time).
    posting = endpoint = None
    reports: list[InsightReport] = []
    if config.relay:
        from ..tasks import relay, relay_status

        endpoint = hooks.endpoint or relay_status.check_relay(config.relay, context)
    elif config.post:
        from ..tasks import post
        from ..tasks.results import read_results

        results = hooks.results or read_results(
            config.post.status.test_results, config.post.insights.coverage_results, console
        )
        posting = hooks.posting or post.posting_for(config.post, results.counts)
        known = post.check_posting(posting, context)  # every rule checked, even when the endpoint is given
        post.say_ignored(posting, console)
        endpoint = hooks.endpoint or known
        if results.tests is None and results.coverage is None:
            pass  # no report to think of (and no report task loaded)
        elif hooks.before_post is None and posting.status.state != INPROGRESS:  # reports go with a final state
            reports = _job_reports(config, posting, results, report)
        else:
            from ..tasks import insights

            insights.report_coverage(config.post.insights, results, report)
            read = (results.counts is not None) or bool(results.coverage and results.coverage.totals is not None)
            if config.post.insights.mode == insights.ON and read:
                report.notice_once(
                    "No Code Insights report was published: reports go with a final state, not INPROGRESS.",
                    title=insights.TITLE,
                )
    if config.coveralls:
        from ..tasks import coveralls_result

        coveralls_result.check_coverage_result(config.coveralls, context)
    if config.gate:
        from ..tasks import gate
    if config.run.insecure:
        console.warning(
            "insecure: true — TLS certificates are NOT verified; anyone on the network path can read the "
            "credentials and fake the servers' answers. Give the CA in ca-cert instead.",
            title="TLS verification is off",
        )
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    code = 0
    dry_run = config.run.dry_run
    with tempfile.TemporaryDirectory(prefix="build-status-") as workdir:
        verify = transport.tls_verify(config.run.ca_cert, config.run.insecure, console.env, workdir)

        def part() -> tuple[Deadline, requests.Session]:
            """A deadline and a session of one task's own."""
            deadline = Deadline(config.run.timeout)
            return deadline, transport.build_session(deadline, verify=verify, say=console.info)

        if config.relay:
            deadline, session = part()
            with session, transport.build_session(deadline, verify=verify, once=True, say=console.info) as once:
                if dry_run:
                    relay_status.show_relay(config.relay, context, report, session, endpoint)
                else:
                    relay.relay_run(config.relay, context, report, session, once, deadline, endpoint)
        elif posting is not None:
            deadline, session = part()
            with session:
                landed = _post(posting, context, report, session, deadline, endpoint, hooks, dry_run)
            if reports:
                deadline, session = part()
                with session, transport.build_session(deadline, verify=verify, once=True, say=console.info) as once:
                    mode = config.post.insights.mode if config.post else ""
                    _publish(posting, landed, reports, report, (session, once), deadline, dry_run, mode)
        if config.coveralls:
            _close_coveralls(config.coveralls, context, report, part, dry_run, verify)
        if config.gate:  # after closing Coveralls: a fan-in job's gate comes last
            deadline, session = part()
            with session:
                if dry_run:
                    gate.show_gate(config.gate, report)
                else:
                    code = gate.run_gate(config.gate, report, session, deadline)
    return report.exit_code(code)


def _close_coveralls(
    config: CoverallsConfig,
    context: Context,
    report: Report,
    part: Callable[[], tuple[Deadline, requests.Session]],
    dry_run: bool,
    verify: str | bool,
) -> None:
    """Close the build; then its coverage, read and taken to Bitbucket (a status, a report), each part with
    its own deadline."""
    from ..tasks import close_coverage, coveralls_result

    deadline, session = part()
    with session:
        if dry_run:
            close_coverage.show_close(config, report)
            coveralls_result.show_coverage_read(config, report)
            return
        closed = close_coverage.close_build(config, report, session, deadline)
        if closed is None or not config.reads_coverage:
            return
        coverage = coveralls_result.read_build_coverage(config, closed, report, session, deadline)
    if coverage is None or config.bitbucket is None:
        return
    deadline, session = part()
    with session:
        landed = coveralls_result.post_coverage_status(config, coverage, context, report, session, deadline)
    deadline, session = part()
    with session, transport.build_session(deadline, verify=verify, once=True, say=report.console.info) as once:
        coveralls_result.publish_coveralls_report(config, coverage, landed, report, (session, once), deadline)


def _job_reports(config: Config, posting: Posting, results: Results, report: Report) -> list[InsightReport]:
    """The reports to publish with the job's final status (checked now), after the coverage is reported."""
    from ..tasks import insights

    assert config.post is not None
    settings = config.post.insights
    found = insights.job_reports(settings, posting, results)
    if not insights.will_publish(settings.mode, posting.remote, found, report):
        found = []
    insights.check_reports(posting.remote, posting.commits, found)
    insights.report_coverage(settings, results, report)
    return found


def _publish(
    posting: Posting,
    landed: list[str],
    reports: list[InsightReport],
    report: Report,
    sessions: tuple[requests.Session, requests.Session],
    deadline: Deadline,
    dry_run: bool,
    mode: str,
) -> None:
    """The reports, on the commits where the status landed (``sessions``: one that retries everything, one
    that never sends a request twice)."""
    from ..tasks import insights

    remote = posting.remote
    if dry_run:
        insights.show_reports(remote, posting.commits, reports, report)
        return
    commits = [sha for sha in posting.commits if sha in landed]
    if not commits:
        report.console.info("No Code Insights report was published: the build status landed on no commit.")
        return
    connections = insights.Connections(*(remote.connect(session, deadline) for session in sessions))
    insights.publish_reports(remote, connections, commits, reports, report, deadline, mode)


def _post(
    posting: Posting,
    context: Context,
    report: Report,
    session: requests.Session,
    deadline: Deadline,
    endpoint: Endpoint | None,
    hooks: PostHooks,
    dry_run: bool,
) -> list[str]:
    """The post task with the stage's hooks around it; returns the commits the status landed on."""
    from ..tasks import post

    console = report.console
    if dry_run:
        shown = post.show_posting(posting, context, console, report, endpoint)
        if hooks.after_dry_run:
            hooks.after_dry_run(shown)
        return list(posting.commits)
    connection = posting.remote.connect(session, deadline)
    delivery = post.deliver(posting, context, console, connection, deadline, endpoint, before_post=hooks.before_post)
    state = delivery.state or posting.status.state
    if hooks.before_post is not None:
        if delivery.saved:
            console.info("The job's final state will be posted when the job ends (report-job-end).")
    elif state != INPROGRESS and hooks.after_final:
        hooks.after_final(state, delivery.landed)
    post.report_delivery(posting, report, delivery)
    return delivery.landed
