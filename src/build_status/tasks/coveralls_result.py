"""A closed Coveralls build's aggregate coverage: read it, say it (outputs, summary, a warning below
coverage-min) and take it to Bitbucket, as a build status (coveralls-status) and as a "Coveralls" Code
Insights report.

The build JSON is not documented by Coveralls, so a failure to read it is a warning: the build was closed,
and that is what the step was for. Nothing that follows can undo the close.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import requests

from ..config.coveralls import CoverallsConfig
from ..context import Context
from ..errors import RemoteError
from ..model.coverage import CoverallsCoverage, below_minimum
from ..remotes.coveralls import Closed, CoverageNotReady, Coveralls, coverage_request
from ..report import Report
from ..transport.deadline import Deadline

if TYPE_CHECKING:  # the parts that take the coverage to Bitbucket are loaded when they do
    from ..model.insights import InsightReport
    from .post import Posting

TITLE = "Coveralls coverage"
#: How long to wait before asking again while Coveralls has not computed the coverage (bounded by the deadline).
NOT_READY_WAITS = (1.0, 2.0, 4.0)
#: What the checks before the first request fill the coverage with (the real one is read after the close).
SAMPLE = CoverallsCoverage(87.35, 0.42, "https://coveralls.io/builds/1")


def check_coverage_result(config: CoverallsConfig, context: Context) -> None:
    """What Bitbucket would refuse of the status and the report, as an InputError, before any request."""
    bitbucket = config.bitbucket
    if bitbucket is None:
        return

    from . import insights, post

    posting = coverage_posting(config, SAMPLE)
    if posting is not None:
        post.check_posting(posting, context)
    if bitbucket.insights.publishing and bitbucket.remote.takes_reports:
        insights.check_reports(bitbucket.remote, bitbucket.commits, [coveralls_insight(config, SAMPLE)])


def show_coverage_read(config: CoverallsConfig, report: Report) -> None:
    """The dry run: the read that follows the close, and what is done with it."""
    if not config.reads_coverage:
        return
    report.show_request(coverage_request(config.endpoint, config.repo_token, "", config.commit))
    bitbucket = config.bitbucket
    then = []
    if bitbucket and bitbucket.status:
        then.append(f"posted as the build status '{bitbucket.status.key}' (FAILED below coverage-min)")
    if bitbucket and bitbucket.insights.publishing and bitbucket.remote.takes_reports:
        then.append("published as the Code Insights report 'Coveralls'")
    if then:
        report.console.info(f"dry-run: the build's coverage would then be {' and '.join(then)}.")


def read_build_coverage(
    config: CoverallsConfig, closed: Closed, report: Report, session: requests.Session, deadline: Deadline
) -> CoverallsCoverage | None:
    """The closed build's coverage, with its outputs and summary; None (and a warning) when it cannot be read."""
    console = report.console
    if not closed.url and not config.commit:
        console.warning("The build's coverage was not read: neither a build page nor a commit is known.", title=TITLE)
        return None
    client = Coveralls(session, deadline, config.endpoint, config.repo_token)
    try:
        with deadline.enforced():
            coverage = _read(client, closed, config.commit, deadline, report)
    except RemoteError as exc:  # the deadline's too
        console.warning(
            f"The Coveralls build was closed, but its coverage could not be read: {exc.message} (Coveralls does not "
            "document this API; the build itself is closed).",
            title=TITLE,
        )
        return None
    report.outputs({"coverage-percent": coverage.shown, "coverage-change": coverage.change_shown})
    console.info(f"Coveralls coverage: {coverage.describe()}.")
    text = f"Aggregate coverage {coverage.describe()}."
    if below_minimum(coverage.percent, config.coverage_min):
        console.warning(
            f"The Coveralls build's coverage {coverage.shown}% is below coverage-min ({config.coverage_min:g}%).",
            title=TITLE,
        )
        text += f" **Below coverage-min** ({config.coverage_min:g}%)."
    report.section(TITLE, text)
    return coverage


def _read(client: Coveralls, closed: Closed, commit: str, deadline: Deadline, report: Report) -> CoverallsCoverage:
    """The coverage, asked again (after 1, 2 and 4 s, within the deadline) while Coveralls has not computed it."""
    for wait in (*NOT_READY_WAITS, None):
        try:
            return client.coverage(closed.url, commit)
        except CoverageNotReady:
            if wait is None or deadline.remaining() <= wait:
                raise
            report.console.info(f"Coveralls has not computed the build's coverage yet; asking again in {wait:g} s.")
            time.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def coverage_posting(config: CoverallsConfig, coverage: CoverallsCoverage) -> Posting | None:
    """The coveralls-status build status (None when it is off)."""
    from ..model.states import FAILED, SUCCESSFUL
    from ..model.status import BuildStatus
    from .post import Posting

    bitbucket = config.bitbucket
    inputs = bitbucket.status if bitbucket else None
    if bitbucket is None or inputs is None:
        return None
    status = BuildStatus(
        state=FAILED if below_minimum(coverage.percent, config.coverage_min) else SUCCESSFUL,
        key=inputs.key,
        name=inputs.name,
        url=inputs.url if inputs.url_given or not coverage.url else coverage.url,
        description=inputs.description or coverage.describe(),
        build_number=inputs.build_number,
        ref=inputs.ref,
    )
    return Posting(bitbucket.remote, inputs.commits, status, explicit=False)


def post_coverage_status(
    config: CoverallsConfig,
    coverage: CoverallsCoverage,
    context: Context,
    report: Report,
    session: requests.Session,
    deadline: Deadline,
) -> list[str]:
    """Post the coveralls-status; returns the commits it landed on (every commit when there is none)."""

    from . import post

    posting = coverage_posting(config, coverage)
    if posting is None:
        return list(config.bitbucket.commits) if config.bitbucket else []
    connection = posting.remote.connect(session, deadline)
    known = posting.remote.known_endpoint(posting.status.state)  # None: the server is asked
    delivery = post.deliver(posting, context, report.console, connection, deadline, known)
    post.report_delivery(posting, report, delivery)
    return delivery.landed


def coveralls_insight(config: CoverallsConfig, coverage: CoverallsCoverage) -> InsightReport:

    bitbucket = config.bitbucket
    assert bitbucket is not None
    from .insight_reports import COVERALLS_KIND, report_key, report_of_coveralls

    build_key = bitbucket.status.key if bitbucket.status else "coveralls"
    key = report_key(bitbucket.insights.key, build_key, COVERALLS_KIND)
    return report_of_coveralls(key, coverage, config.coverage_min)


def publish_coveralls_report(
    config: CoverallsConfig,
    coverage: CoverallsCoverage,
    commits: list[str],
    report: Report,
    sessions: tuple[requests.Session, requests.Session],
    deadline: Deadline,
) -> None:
    """The "Coveralls" report on the commits (where insights are on and the remote takes reports); ``sessions``:
    one that retries everything, one that never sends a request twice."""
    bitbucket = config.bitbucket
    if bitbucket is None:
        return

    from . import insights

    item = coveralls_insight(config, coverage)
    if not insights.will_publish(bitbucket.insights.mode, bitbucket.remote, [item], report) or not commits:
        return
    connections = insights.Connections(*(bitbucket.remote.connect(session, deadline) for session in sessions))
    insights.publish_reports(bitbucket.remote, connections, commits, [item], report, deadline, bitbucket.insights.mode)
