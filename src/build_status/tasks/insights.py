"""Publish Code Insights reports on the commits a final state went to: decide whether they can go, check
them before the first request, send them (a dry run shows them), and say how it went.

A report's failure is reported like any remote failure (it fails the step unless fail-on-error is false)
but never touches the build status that landed: reports go after it, each on its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from ..config.insights import AUTO, OFF, ON, InsightsConfig
from ..errors import DeadlineExceeded, RemoteError
from ..model.coverage import below_minimum
from ..model.insights import InsightReport
from ..remotes.interface import StatusConnection, StatusRemote
from ..report import Report
from ..transport.deadline import Deadline
from ..workflow import markdown_cell
from .insight_reports import COVERAGE_KIND, TESTS_KIND, report_key, report_of_coverage, report_of_tests
from .results import Results

if TYPE_CHECKING:
    from .post import Posting

TITLE = "Code Insights"


class Published(NamedTuple):
    report: InsightReport
    sha: str
    ok: bool
    message: str = ""
    #: The server may have no Code Insights at all (404 to the report from a remote whose reports are
    #: optional: Data Center older than 5.15): with insights: auto, a warning rather than a failure.
    missing: bool = False


def will_publish(mode: str, remote: StatusRemote, reports: Sequence[InsightReport], report: Report) -> bool:
    """Whether ``reports`` go to ``remote``: there is something to report, insights is not false, and the
    remote takes reports (insights: auto on one that takes none says why once, as a notice)."""
    if mode == ON and not reports:
        report.notice_once(
            "No Code Insights report was published: test-results and coverage-results matched no file.", title=TITLE
        )
    if not reports or mode == OFF:
        return False
    if remote.takes_reports:
        return True
    if mode == AUTO:
        report.notice_once(
            f"No Code Insights report was published: {remote.why_no_reports} Set insights: false to say nothing.",
            title=TITLE,
        )
    return False


def check_reports(remote: StatusRemote, commits: Sequence[str], reports: Sequence[InsightReport]) -> None:
    """Everything the remote would refuse, as an InputError, before the first request."""
    for item in reports:
        remote.report_requests(commits[0], item)


def show_reports(
    remote: StatusRemote, commits: Sequence[str], reports: Sequence[InsightReport], report: Report
) -> None:
    """The dry run: every request that would publish the reports."""
    count = 0
    for sha in commits:
        for item in reports:
            for request in remote.report_requests(sha, item):
                report.show_request(request)
                count += 1
    report.console.info(f"dry-run: {len(reports)} Code Insights report(s), {count} request(s) shown, none sent.")
    _show(report, [Published(item, sha, True) for sha in commits for item in reports], "dry run")


class Connections(NamedTuple):
    """The remote over a session that retries everything, and over one that never sends a request twice
    when it may have arrived (for a request that adds rather than replaces)."""

    any: StatusConnection
    once: StatusConnection


def publish_reports(
    remote: StatusRemote,
    connections: Connections,
    commits: Sequence[str],
    reports: Sequence[InsightReport],
    report: Report,
    deadline: Deadline,
    mode: str = AUTO,
) -> bool:
    """Send each report (and its annotations) to each commit; True when all landed. With ``mode`` auto, a
    server without Code Insights (404 to the report) is a warning, not a failure."""
    console = report.console
    done: list[Published] = []
    try:
        with deadline.enforced():
            for sha in commits:
                for item in reports:
                    done.append(_publish(remote, connections, sha, item, report))
                    if done[-1].ok:
                        console.info(
                            f"✓ {sha} report '{item.title}': {_result(item)}, {len(item.annotations)} annotation(s)"
                        )
    except DeadlineExceeded as exc:
        message = f"Gave up publishing Code Insights reports: {exc.message}; raise timeout if Bitbucket is slow."
        sent = {(p.sha, p.report.key) for p in done}
        done += [
            Published(item, sha, False, message) for sha in commits for item in reports if (sha, item.key) not in sent
        ]
    failed: dict[tuple[str, bool], list[Published]] = {}
    for published in done:
        if not published.ok:
            failed.setdefault((published.message, published.missing and mode == AUTO), []).append(published)
    for (message, missing), items in failed.items():
        which = ", ".join(sorted({f"'{p.report.title}'" for p in items}))
        shas = sorted({p.sha[:12] for p in items})
        text = (
            f"Code Insights report {which} was not published on {', '.join(shas)}. {message} The build status "
            "is not affected."
        )
        if missing:  # insights: auto, and this Bitbucket shows no Code Insights there
            report.console.warning(f"{text} (insights: auto; insights: true would make this an error.)", title=TITLE)
        else:
            report.failure(text, title=TITLE)
    _show(report, done, "published")
    return not failed


def _publish(
    remote: StatusRemote, connections: Connections, sha: str, item: InsightReport, report: Report
) -> Published:
    """The report's requests in order; the first that fails ends it (annotations need their report). When
    the answer to a request that must not be sent twice is lost, the whole sequence is sent once more (its
    deletion of the old annotations makes that safe)."""
    requests = remote.report_requests(sha, item)
    for attempt in (1, 2):
        for index, request in enumerate(requests):
            try:
                (connections.any if request.repeatable else connections.once).send(request)
            except DeadlineExceeded:
                raise
            except RemoteError as exc:
                if request.repeatable or exc.status is not None or attempt == 2:
                    return Published(
                        item,
                        sha,
                        False,
                        exc.message,
                        missing=index == 0 and exc.status == 404 and remote.reports_optional,
                    )
                report.console.info(
                    f"The answer to {request.what} was lost; publishing the report again from the start, so that "
                    "no annotation is doubled."
                )
                break
        else:
            return Published(item, sha, True)
    raise AssertionError("unreachable")  # pragma: no cover


def _result(item: InsightReport) -> str:
    return "PASS" if item.passed else "FAIL"


def _show(report: Report, done: Sequence[Published], label: str) -> None:
    """The ``reports`` output and the summary's section."""
    landed = {}
    for published in done:
        if published.ok:
            landed[published.report.key] = published.report
    report.outputs(
        {
            "reports": json.dumps(
                [
                    {"key": r.key, "title": r.title, "result": _result(r), "annotations": len(r.annotations)}
                    for r in landed.values()
                ],
                ensure_ascii=False,
            )
        }
    )
    lines = ["| Commit | Report | Result | Annotations | Outcome |", "| --- | --- | --- | --- | --- |"]
    for published in done:
        item = published.report
        annotated = f"{len(item.annotations)}" + (f" (+{item.left_out} not annotated)" if item.left_out else "")
        outcome = label if published.ok else "**not published**: " + markdown_cell(published.message)
        lines.append(
            f"| `{published.sha[:12]}` | {markdown_cell(item.title)} | {_result(item)} | {annotated} | {outcome} |"
        )
    report.section(TITLE, "\n".join(lines))


def job_reports(config: InsightsConfig, posting: Posting, results: Results) -> list[InsightReport]:
    """The reports that go with a job's final status: tests (when test-results matched), coverage (when
    coverage-results matched)."""
    status = posting.status
    found: list[InsightReport] = []
    if results.tests is not None and results.tests.counts is not None:
        key = report_key(config.key, status.key, TESTS_KIND)
        found.append(report_of_tests(key, status.name, results.tests, status.url, status.duration_ms))
    if results.coverage is not None and results.coverage.totals is not None:
        key = report_key(config.key, status.key, COVERAGE_KIND)
        found.append(report_of_coverage(key, status.name, results.coverage, status.url, config.coverage_min))
    return found


def report_coverage(config: InsightsConfig, results: Results, report: Report) -> None:
    """The coverage-percent output, the summary's line and, below coverage-min, a warning."""
    coverage = results.coverage
    if coverage is None or coverage.totals is None:
        return
    totals = coverage.totals
    report.outputs({"coverage-percent": totals.shown})
    text = f"Line coverage {totals.describe()} from {len(coverage.files)} file(s)."
    if below_minimum(totals.percent, config.coverage_min):
        warning = f"Line coverage {totals.describe()} is below coverage-min ({config.coverage_min:g}%)."
        report.console.warning(warning, title="Coverage")
        text += f" **Below coverage-min** ({config.coverage_min:g}%)."
    report.section("Coverage", text)
