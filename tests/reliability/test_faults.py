"""Faults of every kind, for each of Bitbucket (Data Center and Cloud), Coveralls and webapp.io, through the real
entry point.

Transient faults are retried (capped exponential backoff with jitter, ``Retry-After`` honoured) and the
result lands; permanent ones are not retried and end with the server's own message; and whatever the
server does, the run ends within its ``timeout``.
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Callable

import pytest
from pytest_httpserver import HTTPServer

from build_status_sandbox import FaultRule, Sandbox
from build_status_sandbox.messages import Outcome, Response

from .conftest import (
    CLOUD_REPO,
    CLOUD_WORKSPACE,
    COVERALLS_TOKEN,
    SHA,
    STARTUP_SLACK,
    TIMEOUT,
    WEBAPPIO_REPO,
    Checked,
    bitbucket_inputs,
    cloud_inputs,
    coveralls_inputs,
    webappio_inputs,
)
from .report import record
from .resolver import Nameserver, resolving_with

BUILD = "77"
HUGE = 2 * 1024 * 1024


# -- the four services ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Service:
    name: str
    #: Regex of the paths its faults apply to (and its requests are counted by).
    path: str
    prepare: Callable[[Sandbox], dict]
    inputs: Callable[[Sandbox, str, dict], dict]
    base_url: Callable[[Sandbox], str]
    landed: Callable[[Sandbox, dict], bool]
    error_body: Callable[[str], Any]

    @property
    def section(self) -> str:
        return f"Faults: {self.name}"


def _bitbucket_landed(sandbox: Sandbox, _: dict) -> bool:
    return [status["state"] for status in sandbox.bitbucket.statuses(SHA)] == ["SUCCESSFUL"]


def _cloud_landed(sandbox: Sandbox, _: dict) -> bool:
    statuses = sandbox.bitbucket_cloud.statuses(CLOUD_WORKSPACE, CLOUD_REPO, SHA)
    return [status["state"] for status in statuses] == ["SUCCESSFUL"]


def _coveralls_prepare(sandbox: Sandbox) -> dict:
    sandbox.coveralls.register_job(BUILD, flag_name="unit", repo_token=COVERALLS_TOKEN)
    return {}


def _coveralls_landed(sandbox: Sandbox, _: dict) -> bool:
    build = sandbox.coveralls.build(BUILD, repo_token=COVERALLS_TOKEN)
    return bool(build and build["closed"])


def _webappio_prepare(sandbox: Sandbox) -> dict:
    return sandbox.webappio.add_job(WEBAPPIO_REPO, commit_sha=SHA, script=("SUCCEEDED",))


def _webappio_landed(sandbox: Sandbox, job: dict) -> bool:
    statuses = sandbox.bitbucket.statuses(SHA)
    return [(s["state"], s["key"]) for s in statuses] == [("SUCCESSFUL", f"webapp.io/{WEBAPPIO_REPO}")]


SERVICES = [
    Service(
        "Bitbucket",
        r"^/rest/",
        lambda sandbox: {},
        lambda sandbox, url, prepared: bitbucket_inputs(url),
        lambda sandbox: sandbox.url,
        _bitbucket_landed,
        lambda message: {"errors": [{"context": None, "message": message, "exceptionName": None}]},
    ),
    Service(
        "Bitbucket Cloud",
        r"^/2\.0/",
        lambda sandbox: {},
        lambda sandbox, url, prepared: cloud_inputs(url),
        lambda sandbox: sandbox.url,
        _cloud_landed,
        lambda message: {"type": "error", "error": {"message": message}},
    ),
    Service(
        "Coveralls",
        r"^/webhook",
        _coveralls_prepare,
        lambda sandbox, url, prepared: coveralls_inputs(url),
        lambda sandbox: sandbox.url,
        _coveralls_landed,
        lambda message: {"error": message},
    ),
    Service(
        "webapp.io",
        r"^/webappio/api/v1/run/",
        _webappio_prepare,
        lambda sandbox, url, job: webappio_inputs(url, sandbox.url, **{"webappio-job-id": str(job["id"])}),
        lambda sandbox: sandbox.webappio_url,
        _webappio_landed,
        lambda message: {"status": "error", "error": message},
    ),
]
BY_NAME = {service.name: service for service in SERVICES}


def attempts(sandbox: Sandbox, service: Service) -> int:
    pattern = re.compile(service.path)
    return sum(1 for entry in sandbox.requests() if pattern.search(entry["path"]))


def one_error_line(checked: Checked) -> str:
    lines = checked.error_lines
    assert len(lines) == 1, checked.text
    return lines[0]


def within_timeout(checked: Checked) -> None:
    assert checked.seconds < TIMEOUT + STARTUP_SLACK, f"took {checked.seconds:.1f} s"


# -- transient faults: retried, and the result lands ----------------------------------------------------
def _http_date_in(seconds: float) -> str:
    return formatdate(time.time() + seconds, usegmt=True)


TRANSIENT = [
    ("500 twice", {"status": 500, "times": 2}, 3),
    ("502 twice", {"status": 502, "times": 2}, 3),
    ("503 twice", {"status": 503, "times": 2}, 3),
    ("504 twice", {"status": 504, "times": 2}, 3),
    ("429 with Retry-After in seconds (1)", {"status": 429, "times": 1, "retry_after": "1"}, 2),
    ("429 with Retry-After as an HTTP date", {"status": 429, "times": 1, "retry_after": "DATE"}, 2),
    ("connection closed without an answer, twice", {"action": "close", "times": 2}, 3),
    ("connection reset in the middle of the answer (request carried out)", {"action": "truncate", "times": 1}, 2),
    ("no answer at all, once (read timeout)", {"action": "hang", "times": 1, "delay": 8}, 2),
]


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
@pytest.mark.parametrize(("scenario", "rule", "expected_attempts"), TRANSIENT, ids=[row[0] for row in TRANSIENT])
def test_transient_fault_is_retried_and_lands(sandbox, run_step_checked, service, scenario, rule, expected_attempts):
    prepared = service.prepare(sandbox)
    rule = dict(rule)
    if rule.get("retry_after") == "DATE":
        rule["retry_after"] = _http_date_in(1)
    sandbox.add_fault(path=service.path, **rule)
    checked = run_step_checked(service.inputs(sandbox, service.base_url(sandbox), prepared))
    assert checked.returncode == 0, checked.text
    assert service.landed(sandbox, prepared)
    seen = attempts(sandbox, service)
    assert seen == expected_attempts
    within_timeout(checked)
    observed = f"landed after {seen} attempts; exit 0"
    if "truncate" in rule.values() and service.name == "Coveralls":
        # The first attempt closed the build; its answer was lost; the retry hears "already closed".
        assert "closed by an earlier attempt of this request" in checked.text
        observed += "; the retry's 'already closed' is recognised (warning)"
    if "truncate" in rule.values() and service.name == "Bitbucket":
        observed += "; still one result for the key"
    record(service.section, scenario, "retried; the result lands", observed, f"{checked.seconds:.1f} s")


# -- permanent faults: not retried, the server's message quoted ------------------------------------------
PERMANENT = [
    ("400 with the service's error JSON", 400, "json", "The build key is malformed (sandbox fault)."),
    ("401 Unauthorized", 401, "json", "Authentication failed (sandbox fault)."),
    ("403 Forbidden", 403, "json", "You are not permitted to do this (sandbox fault)."),
    ("404 Not Found", 404, "json", "No such thing here (sandbox fault)."),
    ("400 with a non-JSON body", 400, "text", "Proxy says no: request blocked"),
    ("400 with a huge body (2 MiB)", 400, "huge", "Huge answer begins"),
]


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
@pytest.mark.parametrize(("scenario", "status", "kind", "message"), PERMANENT, ids=[row[0] for row in PERMANENT])
def test_permanent_fault_is_not_retried_and_quotes_the_server(
    sandbox, run_step_checked, service, scenario, status, kind, message
):
    prepared = service.prepare(sandbox)
    if kind == "json":
        body: Any = service.error_body(message)
    elif kind == "text":
        body = message
    else:
        body = message + " " + "x" * HUGE
    sandbox.add_fault(path=service.path, status=status, times=None, body=body)
    checked = run_step_checked(service.inputs(sandbox, service.base_url(sandbox), prepared))
    assert checked.returncode == 1
    line = one_error_line(checked)
    assert message in line, line
    assert len(line) < 2000, "the error line quotes a cut of the body, not all of it"
    assert attempts(sandbox, service) == 1
    assert not service.landed(sandbox, prepared)
    within_timeout(checked)
    record(
        service.section,
        scenario,
        "not retried; exit 1 quoting the server's message",
        "1 attempt; exit 1; one error line quoting it" + (" (cut short)" if kind == "huge" else ""),
        f"{checked.seconds:.1f} s" + (f", error line {len(line)} characters" if kind == "huge" else ""),
    )


class Redirect(FaultRule):
    """A fault answering 302 with a Location (plain rules only set Retry-After)."""

    def __init__(self, location: str, **fields: Any) -> None:
        super().__init__(**fields)
        self.location = location

    def outcome(self, owner: Any = None) -> Outcome:
        return Outcome(Response(302, "", {"Location": self.location}), "respond", 0.0, fault="respond")


@pytest.fixture
def other_host():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_redirect_to_another_host_is_not_followed(sandbox, run_step_checked, service, other_host):
    prepared = service.prepare(sandbox)
    target = other_host.url_for("/elsewhere") + "?token=abc"
    sandbox.add_fault(Redirect(target, status=302, times=None, path=service.path))
    checked = run_step_checked(service.inputs(sandbox, service.base_url(sandbox), prepared))
    assert checked.returncode == 1
    line = one_error_line(checked)
    assert other_host.url_for("/elsewhere") in line and "token=abc" not in line
    assert len(other_host.log) == 0, "credentials must not follow a redirect"
    assert attempts(sandbox, service) == 1
    within_timeout(checked)
    record(
        service.section,
        "302 redirect to another host",
        "not followed (credentials stay); exit 1 naming the Location",
        "not followed: the other host got no request; exit 1 naming the Location without its query",
        f"{checked.seconds:.1f} s",
    )


# -- faults that never end: the run still ends within its timeout ----------------------------------------
def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


ENDLESS = [
    ("503 forever", "rule", {"status": 503, "times": None}, "503"),
    ("no answer ever (the server hangs)", "rule", {"action": "hang", "times": None, "delay": 10}, "timed out"),
    ("connection refused (nothing listens)", "refused", {}, "connection refused"),
    ("host name does not resolve (a name server the test runs answers NXDOMAIN)", "nxdomain", {}, "does not resolve"),
]


@contextlib.contextmanager
def endless_fault(sandbox: Sandbox, request: Any, how: str, rule: dict, path: str, base: str) -> Iterator[tuple]:
    """One ENDLESS scenario set up: yields the base URL the step is to use and the wrapper of its command
    (a rule on ``path``, a port nothing listens on, or a name our own name server answers NXDOMAIN for)."""
    wrap = None
    if how == "rule":
        sandbox.add_fault(path=path, **rule)
    elif how == "refused":
        base = base.replace(f":{sandbox.port}", f":{_closed_port()}")
    else:
        request.getfixturevalue("own_resolver")
        base = base.replace("127.0.0.1", "nowhere.build-status.test")
        wrap = resolving_with
    with contextlib.ExitStack() as stack:
        if how == "nxdomain":
            stack.enter_context(Nameserver(answer=True))
        yield base, wrap


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
@pytest.mark.parametrize(("scenario", "how", "rule", "cause"), ENDLESS, ids=[row[0] for row in ENDLESS])
def test_endless_fault_ends_within_the_timeout(sandbox, run_step_checked, service, scenario, how, rule, cause, request):
    prepared = service.prepare(sandbox)
    with endless_fault(sandbox, request, how, rule, service.path, service.base_url(sandbox)) as (base, wrap):
        checked = run_step_checked(service.inputs(sandbox, base, prepared), wrap=wrap)
    assert checked.returncode == 1
    line = one_error_line(checked)
    assert cause in line, line
    assert not service.landed(sandbox, prepared)
    within_timeout(checked)
    tried = attempts(sandbox, service) if how == "rule" else None
    record(
        service.section,
        scenario,
        f"gives up within the {TIMEOUT:g} s timeout; exit 1 naming the cause",
        f"exit 1 within the timeout; the error names it ({cause})",
        f"{checked.seconds:.1f} s" + (f", {tried} attempts" if tried is not None else ""),
    )


# -- starting a webapp.io run: never twice ---------------------------------------------------------------
CREATE_PATH = rf"^/webappio/api/v1/run/{WEBAPPIO_REPO}$"
CREATE = [
    ("503 once", {"status": 503, "times": 1, "retry_after": "0"}, True),
    ("429 once, with Retry-After", {"status": 429, "times": 1, "retry_after": "1"}, True),
    ("500 once", {"status": 500, "times": 1}, False),
    ("502 once", {"status": 502, "times": 1}, False),
    ("connection closed without an answer", {"action": "close", "times": 1}, False),
    ("connection reset in the middle of the answer (run started)", {"action": "truncate", "times": 1}, False),
    ("no answer (read timeout)", {"action": "hang", "times": 1, "delay": 8}, False),
]


@pytest.mark.parametrize(("scenario", "rule", "retried"), CREATE, ids=[row[0] for row in CREATE])
def test_starting_a_run_never_happens_twice(sandbox, run_step_checked, scenario, rule, retried):
    service = BY_NAME["webapp.io"]
    sandbox.add_fault(path=CREATE_PATH, method="POST", **rule)
    inputs = webappio_inputs(sandbox.webappio_url, sandbox.url, **{"webappio-trigger": "true"})
    checked = run_step_checked(inputs)
    creates = [entry for entry in sandbox.requests() if entry["method"] == "POST" and "/webappio/" in entry["path"]]
    started = sandbox.webappio.created()
    within_timeout(checked)
    if retried:
        assert checked.returncode == 0, checked.text
        assert len(creates) == 2 and len(started) == 1
        assert service.landed(sandbox, {})
        expected, observed = "retried (the server did not start it); one run", "2 attempts; one run started; relayed"
    else:
        assert checked.returncode == 1
        assert len(creates) == 1 and len(started) <= 1
        line = one_error_line(checked)
        if rule.get("action") in ("close", "truncate", "hang"):
            assert "may have arrived and started a run" in line, line
        expected = "not retried (it may have started); exit 1"
        observed = f"1 attempt; {len(started)} run(s) started; exit 1"
        if rule.get("action") in ("close", "truncate", "hang"):
            observed += "; the error says a run may have started"
    record("Faults: webapp.io (starting a run)", scenario, expected, observed, f"{checked.seconds:.1f} s")
