"""The faults of ``test_faults.py`` against the Code Insights endpoints (Data Center and Cloud), through the real
entry point: a final status with ``test-results`` (a JUnit file with 2 failed tests in the step's workspace)
posts the status, then the tests report and its 2 annotations, with a deadline of their own.

A fault on a report's request never touches the build status that landed before it: transient ones are retried
and the report lands; permanent ones end with one ``Code Insights`` error line quoting the server, exit 1, the
status still stored.  Connection refused and a name that does not resolve cannot hit the reports alone (the
status goes to the same host first): for them the test asserts that the status's error is the only one and that
no report was tried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pytest

from build_status_sandbox import Sandbox

from .conftest import CLOUD_REPO, CLOUD_WORKSPACE, SHA, TIMEOUT, Checked, bitbucket_inputs, cloud_inputs
from .report import record
from .test_faults import (
    ENDLESS,
    HUGE,
    PERMANENT,
    TRANSIENT,
    Redirect,
    Service,
    _http_date_in,
    attempts,
    endless_fault,
    one_error_line,
    other_host,  # noqa: F401 - the fixture
    within_timeout,
)

PROJECT, REPO = "PRJ", "app"
JUNIT = "reports/junit.xml"
FAILED = ("test_total", "test_rounding")
JUNIT_XML = f"""<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="unit" tests="3" failures="2" errors="0" skipped="0" time="0.5">
<testcase classname="tests.test_cart" name="test_empty" file="tests/test_cart.py" line="3" time="0.1"/>
<testcase classname="tests.test_cart" name="{FAILED[0]}" file="tests/test_cart.py" line="9" time="0.2">
<failure message="assert 41 == 42">tests/test_cart.py:11: AssertionError</failure></testcase>
<testcase classname="tests.test_cart" name="{FAILED[1]}" file="tests/test_cart.py" line="17" time="0.2">
<failure message="assert 0.1 + 0.2 == 0.3">tests/test_cart.py:19: AssertionError</failure></testcase>
</testsuite></testsuites>
"""
ANNOTATIONS = len(FAILED)


@dataclass(frozen=True)
class InsightsService(Service):
    #: Whether the job's build status is stored (the status went before the report).
    status_stored: Callable[[Sandbox], bool] = lambda sandbox: False
    #: The commit's stored reports, each with its ``annotations``.
    stored: Callable[[Sandbox], list] = lambda sandbox: []
    #: How many requests publish one report with its annotations.
    requests: int = 0


def _dc_status_stored(sandbox: Sandbox) -> bool:
    return [status["state"] for status in sandbox.bitbucket.statuses(SHA)] == ["SUCCESSFUL"]


def _cloud_status_stored(sandbox: Sandbox) -> bool:
    return [s["state"] for s in sandbox.bitbucket_cloud.statuses(CLOUD_WORKSPACE, CLOUD_REPO, SHA)] == ["SUCCESSFUL"]


def _landed(stored: Callable[[Sandbox], list], failed: str) -> Callable[[Sandbox, dict], bool]:
    def landed(sandbox: Sandbox, _: dict) -> bool:
        reports = stored(sandbox)
        return (
            len(reports) == 1
            and reports[0]["result"] == failed
            and len(reports[0]["annotations"]) == ANNOTATIONS
            and status_of(sandbox)
        )

    status_of = _dc_status_stored if failed == "FAIL" else _cloud_status_stored
    return landed


def _dc_reports(sandbox: Sandbox) -> list:
    return sandbox.bitbucket.reports(PROJECT, REPO, SHA)


def _cloud_reports(sandbox: Sandbox) -> list:
    return sandbox.bitbucket_cloud.reports(CLOUD_WORKSPACE, CLOUD_REPO, SHA)


SERVICES = [
    InsightsService(
        "Code Insights (Data Center)",
        r"^/rest/insights/",
        lambda sandbox: {},
        lambda sandbox, url, prepared: bitbucket_inputs(
            # insights: true, so that a 404 is an error too (under auto it may mean a Data Center older than
            # 5.15, which has no Code Insights: a warning, as the integration tests show)
            url,
            **{"bitbucket-project": PROJECT, "bitbucket-repo": REPO, "test-results": JUNIT, "insights": "true"},
        ),
        lambda sandbox: sandbox.url,
        _landed(_dc_reports, "FAIL"),
        lambda message: {"errors": [{"context": None, "message": message, "exceptionName": None}]},
        status_stored=_dc_status_stored,
        stored=_dc_reports,
        requests=3,  # PUT the report, DELETE its old annotations, POST the new ones
    ),
    InsightsService(
        "Code Insights (Cloud)",
        r"^/2\.0/repositories/.*/reports",
        lambda sandbox: {},
        lambda sandbox, url, prepared: cloud_inputs(url, **{"test-results": JUNIT}),
        lambda sandbox: sandbox.url,
        _landed(_cloud_reports, "FAILED"),
        lambda message: {"type": "error", "error": {"message": message}},
        status_stored=_cloud_status_stored,
        stored=_cloud_reports,
        requests=2,  # PUT the report, POST its annotations (100 a request)
    ),
]
BY_NAME = {service.name: service for service in SERVICES}


def run(run_step_checked, sandbox: Sandbox, service: InsightsService, base: str | None = None, **kw: Any) -> Checked:
    inputs = service.inputs(sandbox, base or service.base_url(sandbox), {})
    return run_step_checked(inputs, files={JUNIT: JUNIT_XML}, **kw)


def report_error_line(checked: Checked, message: str) -> str:
    """The one error line, the Code Insights one, quoting ``message`` and saying the status stands."""
    line = one_error_line(checked)
    assert line.startswith("::error title=Code Insights::Code Insights report 'Tests"), line
    assert f"was not published on {SHA[:12]}." in line, line
    assert message in line, line
    assert line.endswith("The build status is not affected."), line
    return line


# -- transient faults: retried, the report lands ----------------------------------------------------------
@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
@pytest.mark.parametrize(("scenario", "rule", "expected_attempts"), TRANSIENT, ids=[row[0] for row in TRANSIENT])
def test_transient_fault_on_a_report_is_retried_and_lands(
    sandbox, run_step_checked, service, scenario, rule, expected_attempts
):
    rule = dict(rule)
    if rule.get("retry_after") == "DATE":
        rule["retry_after"] = _http_date_in(1)
    sandbox.add_fault(path=service.path, **rule)
    checked = run(run_step_checked, sandbox, service)
    assert checked.returncode == 0, checked.text
    assert checked.error_lines == [], checked.text
    assert service.landed(sandbox, {}), service.stored(sandbox)
    seen = attempts(sandbox, service)
    # The first request (PUT the report) meets the fault; the others go through at once.
    assert seen == service.requests + expected_attempts - 1, seen
    within_timeout(checked)
    record(
        service.section,
        scenario,
        "retried; the report and its annotations land",
        f"the report's PUT landed after {expected_attempts} attempts ({seen} requests in all); "
        f"1 report, {ANNOTATIONS} annotations; the status stored; exit 0",
        f"{checked.seconds:.1f} s",
    )


ANNOTATIONS_LOST = "the annotations' answer lost: connection reset in the middle of it (annotations stored)"


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_a_retried_annotations_post_does_not_duplicate_them(sandbox, run_step_checked, service):
    sandbox.add_fault(path=service.path + r".*/annotations$", method="POST", action="truncate", times=1)
    checked = run(run_step_checked, sandbox, service)
    posts = [e for e in sandbox.requests() if e["method"] == "POST" and e["path"].endswith("/annotations")]
    deletes = [e for e in sandbox.requests() if e["method"] == "DELETE" and e["path"].endswith("/annotations")]
    (stored,) = service.stored(sandbox)
    count = len(stored["annotations"])
    within_timeout(checked)
    assert service.status_stored(sandbox)
    expected = f"1 report with its {ANNOTATIONS} annotations, never more"
    if deletes:  # Data Center: the POST is never repeated alone; the report's sequence is sent again
        observed = f"sequence sent again ({len(deletes)} deletions, {len(posts)} POSTs)"
    else:  # Cloud: upserted by external id, so the POST itself is retried
        observed = f"POST retried ({len(posts)} attempts)"
    observed += f"; exit {checked.returncode}; {count} annotations stored"
    if count > ANNOTATIONS:
        observed += " (**duplicated**)"
    record(service.section, ANNOTATIONS_LOST, expected, observed, f"{checked.seconds:.1f} s")
    assert checked.returncode == 0, checked.text
    assert count == ANNOTATIONS, stored["annotations"]


# -- permanent faults: not retried, one error line quoting the server, the status stands -------------------
@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
@pytest.mark.parametrize(("scenario", "status", "kind", "message"), PERMANENT, ids=[row[0] for row in PERMANENT])
def test_permanent_fault_on_a_report_fails_the_step_and_keeps_the_status(
    sandbox, run_step_checked, service, scenario, status, kind, message
):
    if kind == "json":
        body: Any = service.error_body(message)
    elif kind == "text":
        body = message
    else:
        body = message + " " + "x" * HUGE
    sandbox.add_fault(path=service.path, status=status, times=None, body=body)
    checked = run(run_step_checked, sandbox, service)
    assert checked.returncode == 1, checked.text
    line = report_error_line(checked, message)
    assert len(line) < 2000, "the error line quotes a cut of the body, not all of it"
    assert attempts(sandbox, service) == 1
    assert service.status_stored(sandbox), "the build status must stay posted"
    assert service.stored(sandbox) == []
    within_timeout(checked)
    record(
        service.section,
        scenario,
        "not retried; exit 1, one Code Insights error quoting the server; the status stays",
        f"1 attempt; exit 1; one error line quoting it{' (cut short)' if kind == 'huge' else ''}; "
        "the status stored, no report",
        f"{checked.seconds:.1f} s" + (f", error line {len(line)} characters" if kind == "huge" else ""),
    )


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_redirect_of_a_report_to_another_host_is_not_followed(sandbox, run_step_checked, service, other_host):  # noqa: F811
    target = other_host.url_for("/elsewhere") + "?token=abc"
    sandbox.add_fault(Redirect(target, status=302, times=None, path=service.path))
    checked = run(run_step_checked, sandbox, service)
    assert checked.returncode == 1, checked.text
    line = report_error_line(checked, other_host.url_for("/elsewhere"))
    assert "token=abc" not in line
    assert len(other_host.log) == 0, "credentials must not follow a redirect"
    assert attempts(sandbox, service) == 1
    assert service.status_stored(sandbox), "the build status must stay posted"
    within_timeout(checked)
    record(
        service.section,
        "302 redirect to another host",
        "not followed (credentials stay); exit 1 naming the Location; the status stays",
        "not followed: the other host got no request; exit 1 naming the Location without its query; the status stored",
        f"{checked.seconds:.1f} s",
    )


# -- faults that never end: the reports give up within their timeout ----------------------------------------
@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
@pytest.mark.parametrize(("scenario", "how", "rule", "cause"), ENDLESS, ids=[row[0] for row in ENDLESS])
def test_endless_fault_on_a_report_ends_within_the_timeout(
    sandbox, run_step_checked, service, scenario, how, rule, cause, request
):
    with endless_fault(sandbox, request, how, rule, service.path, service.base_url(sandbox)) as (base, wrap):
        checked = run(run_step_checked, sandbox, service, base, wrap=wrap)
    assert checked.returncode == 1, checked.text
    assert service.stored(sandbox) == []
    within_timeout(checked)
    if how == "rule":
        report_error_line(checked, cause)
        assert service.status_stored(sandbox), "the build status must stay posted"
        tried = attempts(sandbox, service)
        expected = f"the reports give up within their {TIMEOUT:g} s timeout; exit 1 naming the cause; the status stays"
        observed = f"exit 1 within the timeout; one Code Insights error naming it ({cause}); the status stored"
        measured = f"{checked.seconds:.1f} s, {tried} attempts"
    else:
        # The status goes to the same host first and fails: its error is the only one, no report is tried.
        line = one_error_line(checked)
        assert cause in line and "Code Insights" not in line, line
        assert sandbox.requests() == []
        expected = "the status fails first: its error alone, exit 1; no report tried"
        observed = f"exit 1 within the timeout; one error line, the status's ({cause}); no report tried"
        measured = f"{checked.seconds:.1f} s"
    record(service.section, scenario, expected, observed, measured)
