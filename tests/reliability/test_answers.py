"""Answers that are not what they claim, too large, too deep or endless; resolvers that never answer; and
what the step says while it waits.  Every scenario runs the real entry point as a process.

- A status counts as posted only on the contract's answer: an HTML page (an SSO portal) or Bitbucket's
  ``errors`` document (an API gateway) behind a 2xx is a failure, and so is a capabilities answer that
  is not the contract's JSON (never a silent switch to the commit-only endpoint).
- Every answer is read streamed and capped: compression bombs (one and two layers of gzip) and endless
  bodies end with one clear error, with the step's peak memory measured (its own high-water mark).
- Name lookups are bounded by ``timeout`` (a name server the test runs that never answers).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from build_status_sandbox import Sandbox
from build_status_sandbox.runner import ENTRYPOINT, Job, default_command, step_env

from .conftest import (
    COVERALLS_TOKEN,
    SHA,
    STARTUP_SLACK,
    TIMEOUT,
    WEBAPPIO_REPO,
    assert_clean,
    bitbucket_inputs,
    cloud_inputs,
    coveralls_inputs,
    webappio_inputs,
)
from .loopback import TlsFront
from .report import record
from .resolver import Nameserver, resolving_with

SECTION = "Hostile answers"
WAITS = "Said while it happens"
BUILD = "77"
#: The step's peak memory must stay under this, whatever a server sends (KiB).
MEMORY_LIMIT_KIB = 100 * 1024
BITBUCKET_PATH = r"^/rest/build-status/"
HTML_LOGIN = (
    "<!DOCTYPE html><html><head><title>Sign in · Example SSO</title></head>"
    "<body><form action='/login'>Log in to continue</form></body></html>"
)
GATEWAY_ERRORS = {"errors": [{"message": "API key required by the gateway", "exceptionName": None}]}
#: Runs the entry point and writes the process's peak memory (KiB) to $MEASURE_FILE when it ends: VmHWM, the
#: high-water mark of this program's own memory (ru_maxrss would also count the test process it was forked
#: from, which Linux carries across exec).
MEASURED = (
    "import os, runpy, sys\n"
    "path = sys.argv[1]; sys.argv = [path]\n"
    "try:\n"
    "    runpy.run_path(path, run_name='__main__')\n"
    "finally:\n"
    "    with open('/proc/self/status') as status:\n"
    "        peak = next(line.split()[1] for line in status if line.startswith('VmHWM:'))\n"
    "    with open(os.environ['MEASURE_FILE'], 'w') as out:\n"
    "        out.write(peak)\n"
)


def within_timeout(seconds: float, parts: int = 1) -> None:
    assert seconds < TIMEOUT * parts + STARTUP_SLACK, f"took {seconds:.1f} s"


def posts(sandbox: Sandbox) -> list[dict]:
    return [entry for entry in sandbox.requests() if entry["method"] == "POST"]


def one_error(checked) -> str:
    lines = checked.error_lines
    assert len(lines) == 1, checked.text
    return lines[0]


# -- answers that are not Bitbucket's --------------------------------------------------------------------
NOT_BITBUCKET = [
    (
        "200 with an HTML login page (SSO portal) behind the status POST",
        {"status": 200, "body": HTML_LOGIN, "headers": {"Content-Type": "text/html; charset=utf-8"}},
        "an HTML page titled 'Sign in · Example SSO'",
    ),
    ("200 with Bitbucket's errors document (API gateway)", {"status": 200, "body": GATEWAY_ERRORS}, "API key required"),
    ("201 with an unexpected text body", {"status": 201, "body": "created, maybe"}, "'created, maybe'"),
]


@pytest.mark.parametrize(("scenario", "rule", "quoted"), NOT_BITBUCKET, ids=[row[0] for row in NOT_BITBUCKET])
def test_a_2xx_that_is_not_the_contracts_answer_is_not_posted(sandbox, run_step_checked, scenario, rule, quoted):
    sandbox.add_fault(path=BITBUCKET_PATH, method="POST", times=None, **rule)
    checked = run_step_checked(bitbucket_inputs(sandbox.url))
    assert checked.returncode == 1, checked.text
    line = one_error(checked)
    assert quoted in line and "did not land" in line, line
    assert "✓" not in checked.text, "the log must not say it posted"
    assert checked.result.outputs["result"] == "failed"
    assert not any(name.startswith("BUILD_STATUS_FINAL_") for name in checked.result.env), "marked posted"
    assert "not posted" in checked.result.summary
    # The same with fail-on-error: false: a warning, exit 0, and still not reported as posted.
    lenient = run_step_checked(bitbucket_inputs(sandbox.url, **{"fail-on-error": "false"}))
    assert lenient.returncode == 0 and not lenient.error_lines
    assert any(line.startswith("::warning") and quoted in line for line in lenient.text.splitlines())
    assert lenient.result.outputs["result"] == "failed"
    record(
        SECTION,
        scenario,
        "a failure naming what answered and what to do (exit 1; a warning with fail-on-error: false); "
        "not reported or marked as posted",
        "exit 1, one error line quoting it; result output 'failed'; no final-state mark; exit 0 with a warning "
        "when fail-on-error is false",
        f"{checked.seconds:.1f} s",
    )


def test_an_empty_2xx_is_the_status_landing(sandbox, run_step_checked):
    sandbox.add_fault(path=BITBUCKET_PATH, method="POST", status=200, body="", times=None)
    checked = run_step_checked(bitbucket_inputs(sandbox.url))
    assert checked.returncode == 0, checked.text
    assert checked.result.outputs["result"] == "posted"
    record(SECTION, "200 with an empty body", "posted (an empty 2xx is fine)", "exit 0; result 'posted'")


CAPABILITIES = [
    (
        "capabilities answered by an HTML login page (200)",
        {"status": 200, "body": HTML_LOGIN, "headers": {"Content-Type": "text/html"}},
        "an HTML page titled 'Sign in · Example SSO'",
    ),
    ("capabilities answered with text that is not JSON (200)", {"status": 200, "body": "OK"}, "'OK'"),
    ("capabilities answered with JSON of another shape (200)", {"status": 200, "body": {"ok": True}}, "'{"),
]


@pytest.mark.parametrize(("scenario", "rule", "quoted"), CAPABILITIES, ids=[row[0] for row in CAPABILITIES])
def test_capabilities_must_be_the_contracts_json(sandbox, run_step_checked, scenario, rule, quoted):
    sandbox.add_fault(path=r"/build/capabilities$", times=None, **rule)
    inputs = bitbucket_inputs(sandbox.url, **{"bitbucket-project": "PROJ", "bitbucket-repo": "app"})
    checked = run_step_checked(inputs)
    assert checked.returncode == 1, checked.text
    line = one_error(checked)
    assert "capabilities" in line and quoted in line, line
    assert posts(sandbox) == [], "no silent switch to the commit-only endpoint"
    record(
        SECTION,
        scenario,
        "an error naming the answer; no switch to the commit-only endpoint",
        "exit 1 quoting it; nothing posted",
        f"{checked.seconds:.1f} s",
    )


def test_the_post_stage_reports_an_end_that_did_not_land(sandbox, run_step_checked, tmp_path):
    main = run_step_checked(bitbucket_inputs(sandbox.url, state=None, **{"job-status": "success"}))
    assert main.returncode == 0, main.text
    assert main.result.state, "the main stage saved its state"
    sandbox.add_fault(path=BITBUCKET_PATH, method="POST", times=None, status=200, body=HTML_LOGIN)
    from build_status_sandbox.runner import run_step

    inputs = {name: value for name, value in bitbucket_inputs(sandbox.url).items() if name != "state"}
    (tmp_path / "post").mkdir()
    result = run_step(
        Job(sha=SHA, status="failure"),
        inputs,
        workdir=tmp_path / "post",
        stage="post",
        state=main.result.state,
    )
    assert_clean(result, tmp_path / "post")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "did not land" in "\n".join(result.error_lines)
    assert [s["state"] for s in sandbox.bitbucket.statuses(SHA)] == ["INPROGRESS"]
    record(
        SECTION,
        "post stage: the job's end answered by an HTML page",
        "a failure (exit 1); the commit is not reported as ended",
        "exit 1; Bitbucket still holds INPROGRESS, and the log says the end did not land",
    )


# -- bounded in memory and time ------------------------------------------------------------------------------
def run_measured(sandbox: Sandbox, inputs: dict, workdir: Path) -> tuple[subprocess.CompletedProcess, int, float]:
    workdir.mkdir()
    env = step_env(Job(sha=SHA), inputs, workdir)
    env["MEASURE_FILE"] = str(workdir / "peak-kib")
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", MEASURED, str(ENTRYPOINT)],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    seconds = time.monotonic() - started
    return proc, int((workdir / "peak-kib").read_text()), seconds


def _bitbucket(sandbox: Sandbox) -> tuple[dict, str]:
    return bitbucket_inputs(sandbox.url), BITBUCKET_PATH


def _cloud(sandbox: Sandbox) -> tuple[dict, str]:
    return cloud_inputs(sandbox.url), r"^/2\.0/"


def _coveralls(sandbox: Sandbox) -> tuple[dict, str]:
    sandbox.coveralls.register_job(BUILD, flag_name="unit", repo_token=COVERALLS_TOKEN)
    return coveralls_inputs(sandbox.url), r"^/webhook"


def _webappio(sandbox: Sandbox) -> tuple[dict, str]:
    job = sandbox.webappio.add_job(WEBAPPIO_REPO, commit_sha=SHA, script=("SUCCEEDED",))
    inputs = webappio_inputs(sandbox.webappio_url, sandbox.url, **{"webappio-job-id": str(job["id"])})
    return inputs, r"^/webappio/api/v1/run/"


SERVICES = {"Bitbucket": _bitbucket, "Bitbucket Cloud": _cloud, "Coveralls": _coveralls, "webapp.io": _webappio}
HUGE = [
    ("a gzip bomb (1 GiB of zeros in 1 MiB)", {"action": "bomb", "status": 200}),
    ("Content-Encoding: gzip, gzip (1 GiB in 3 KiB)", {"action": "gzip2", "status": 200}),
    ("a body that never ends", {"action": "endless", "status": 200}),
]
PEAKS: dict[str, int] = {}


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(("scenario", "rule"), HUGE, ids=[row[0] for row in HUGE])
def test_huge_answers_end_with_one_error_in_bounded_memory(sandbox, tmp_path, service, scenario, rule):
    inputs, path = SERVICES[service](sandbox)
    sandbox.add_fault(path=path, times=None, **rule)
    proc, peak, seconds = run_measured(sandbox, inputs, tmp_path / "step")
    text = proc.stdout + proc.stderr
    errors = [line for line in text.splitlines() if line.startswith("::error")]
    assert proc.returncode == 1, text
    assert len(errors) == 1 and "more than 8 MiB" in errors[0], text
    assert "Traceback" not in text
    assert peak < MEMORY_LIMIT_KIB, f"peak memory {peak} KiB"
    within_timeout(seconds)
    PEAKS[f"{service}: {scenario}"] = peak
    record(
        SECTION,
        f"{service}: {scenario}",
        "one clear error (exit 1); peak memory under 100 MiB; within the timeout",
        "exit 1; one error line: more than 8 MiB (decoded)",
        f"peak {peak / 1024:.0f} MiB, {seconds:.1f} s",
    )


@pytest.mark.parametrize("service", SERVICES)
def test_json_nested_too_deep_is_not_understood_never_a_crash(sandbox, run_step_checked, service):
    inputs, path = SERVICES[service](sandbox)
    sandbox.add_fault(path=path, times=None, status=200, body="[" * 200_000 + "]" * 200_000)
    checked = run_step_checked(inputs)
    assert checked.returncode == 1, checked.text
    line = one_error(checked)
    assert "'[[[[" in line and len(line) < 2000, line
    assert checked.result.summary.strip(), "the summary is still written"
    record(
        SECTION,
        f"{service}: 200 with JSON nested 200,000 deep",
        "the answer could not be understood, with a short quote; exit 1; summary written",
        "exit 1; one error line quoting the start; summary written",
        f"{checked.seconds:.1f} s",
    )


def test_json_nested_too_deep_in_an_error_answer(sandbox, run_step_checked):
    sandbox.add_fault(path=BITBUCKET_PATH, times=None, status=400, body="{" + '"a":{' * 100_000)
    checked = run_step_checked(bitbucket_inputs(sandbox.url, **{"fail-on-error": "false"}))
    assert checked.returncode == 0, checked.text
    assert any(line.startswith("::warning") and "400" in line for line in checked.text.splitlines())
    assert checked.result.outputs["result"] == "failed"
    record(
        SECTION,
        "Bitbucket: 400 with JSON nested 100,000 deep, fail-on-error: false",
        "a warning quoting the answer; exit 0 (fail-on-error holds); outputs written",
        "exit 0; one warning; result output 'failed'",
    )


def test_an_event_file_nested_too_deep_is_not_a_crash(sandbox, run_step_checked, tmp_path):
    event = tmp_path / "deep-event.json"
    event.write_text('{"pull_request":' + "[" * 200_000 + "]" * 200_000 + "}", encoding="utf-8")
    checked = run_step_checked(bitbucket_inputs(sandbox.url), extra_env={"GITHUB_EVENT_PATH": str(event)})
    assert checked.returncode == 0, checked.text
    assert [s["state"] for s in sandbox.bitbucket.statuses(SHA)] == ["SUCCESSFUL"]
    record(
        SECTION,
        "an event file nested 200,000 deep",
        "read as no event; the run goes on",
        "exit 0; the status landed",
    )


def test_a_corrupt_2xx_body_says_the_status_may_have_landed(sandbox, run_step_checked):
    sandbox.add_fault(path=BITBUCKET_PATH, method="POST", times=None, action="corrupt")
    checked = run_step_checked(bitbucket_inputs(sandbox.url))
    assert checked.returncode == 1, checked.text
    line = one_error(checked)
    assert "may have landed" in line and "could not be read" in line and "Could not reach" not in line, line
    assert [s["state"] for s in sandbox.bitbucket.statuses(SHA)] == ["SUCCESSFUL"], "it did land"
    record(
        SECTION,
        "200 whose gzip body is corrupt (the request was carried out)",
        "reported as what it is: the status may have landed, the answer could not be read; never 'could not reach'",
        "exit 1: 'may have landed; the answer could not be read'",
        f"{checked.seconds:.1f} s",
    )


def test_an_answer_cut_off_after_the_request_was_sent_may_have_landed(sandbox, run_step_checked):
    sandbox.add_fault(path=BITBUCKET_PATH, method="POST", times=None, action="truncate")
    checked = run_step_checked(bitbucket_inputs(sandbox.url))
    assert checked.returncode == 1, checked.text
    line = one_error(checked)
    assert "may have landed" in line and "Could not reach" not in line, line
    record(
        SECTION,
        "every answer cut off after the request was sent",
        "retried; then 'the status may have landed', never 'could not reach'",
        "exit 1: 'the status may have landed; the answer could not be read'",
        f"{checked.seconds:.1f} s",
    )


def test_interim_answers_are_not_the_answer(sandbox, run_step_checked):
    sandbox.add_fault(path=BITBUCKET_PATH, method="POST", times=None, action="interim")
    checked = run_step_checked(bitbucket_inputs(sandbox.url))
    assert checked.returncode == 0, checked.text
    assert checked.result.outputs["result"] == "posted"
    record(
        SECTION,
        "102 Processing and 103 Early Hints before the 204",
        "skipped; the final answer counts",
        "exit 0; posted",
    )


RETRY_AFTER = ["1.5", "-5", "soon"]


@pytest.mark.parametrize("value", RETRY_AFTER)
def test_a_malformed_retry_after_is_treated_as_absent(sandbox, run_step_checked, value):
    sandbox.add_fault(path=BITBUCKET_PATH, status=503, times=1, retry_after=value)
    checked = run_step_checked(bitbucket_inputs(sandbox.url))
    assert checked.returncode == 0, checked.text
    assert len(posts(sandbox)) == 2
    retry_line = next(line for line in checked.text.splitlines() if "answered 503 (attempt 1)" in line)
    assert "trying again in 0." in retry_line, "the normal backoff (under a second), not the header"
    record(
        SECTION,
        f"503 with Retry-After: {value}",
        "the header is treated as absent: the normal backoff, then it lands",
        "retried after the normal backoff; landed",
        f"{checked.seconds:.1f} s",
    )


# -- name lookups, TLS-only servers, redirects ---------------------------------------------------------------
@pytest.mark.parametrize(("answer", "scenario"), [(False, "blackholed"), (True, "NXDOMAIN")])
def test_name_lookups_are_bounded_by_the_timeout(sandbox, own_resolver, tmp_path, answer, scenario):
    from build_status_sandbox.runner import run_step

    url = sandbox.url.replace("127.0.0.1", "bitbucket.build-status.test")
    workdir = tmp_path / "step"
    workdir.mkdir()
    with Nameserver(answer=answer) as nameserver:
        started = time.monotonic()
        result = run_step(
            Job(sha=SHA),
            bitbucket_inputs(url),
            workdir=workdir,
            command=resolving_with(default_command(), workdir),
            timeout=60,
        )
        seconds = time.monotonic() - started
    assert_clean(result, workdir)
    assert nameserver.queries >= 1, "the step asked the test's name server"
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = result.error_lines
    expected = "did not answer in time" if not answer else "does not resolve"
    assert expected in line, line
    assert seconds < TIMEOUT + 1 + STARTUP_SLACK, f"took {seconds:.1f} s"
    record(
        SECTION,
        f"the name server is {scenario} (a resolver the test runs)",
        f"exit 1 within timeout + about 1 s, naming the lookup ({expected})",
        f"exit 1; {expected}",
        f"{seconds:.1f} s (timeout {TIMEOUT:g} s)",
    )


def test_plain_http_to_a_tls_only_server_hints_at_https(sandbox, run_step_checked):
    with TlsFront(sandbox.host, sandbox.port, certificate_for_tests()) as front:
        url = f"http://127.0.0.1:{front.port}"
        checked = run_step_checked(bitbucket_inputs(url))
    assert checked.returncode == 1, checked.text
    line = one_error(checked)
    assert "use https:// in bitbucket-url" in line, line
    record(
        SECTION,
        "http:// to a server that speaks only TLS",
        "exit 1, hinting that bitbucket-url may need https://",
        "exit 1; the error says to use https://",
        f"{checked.seconds:.1f} s",
    )


def certificate_for_tests():
    import trustme

    ca = trustme.CA()
    return ca.issue_cert("127.0.0.1")


def test_a_redirect_offers_the_base_url(sandbox, run_step_checked):
    from .test_faults import Redirect

    target = f"{sandbox.url}/bitbucket/rest/build-status/1.0/commits/{SHA}"
    sandbox.add_fault(Redirect(target, status=301, times=None, path=BITBUCKET_PATH))
    checked = run_step_checked(bitbucket_inputs(sandbox.url))
    assert checked.returncode == 1
    line = one_error(checked)
    assert f"set bitbucket-url to {sandbox.url}/bitbucket " in line, line
    record(
        SECTION,
        "301 to the same API under a context path",
        "the message offers the base URL to put in bitbucket-url, not the endpoint",
        "exit 1: 'set bitbucket-url to <base>'",
    )


# -- each part of a step has its own bound -------------------------------------------------------------------
def test_a_dead_server_for_one_part_leaves_the_others_their_time(sandbox, run_step_checked):
    sandbox.coveralls.register_job(BUILD, flag_name="unit", repo_token=COVERALLS_TOKEN)
    sandbox.add_fault(path=BITBUCKET_PATH, action="hang", times=None, delay=30)
    inputs = {**coveralls_inputs(sandbox.url), **bitbucket_inputs(sandbox.url)}
    checked = run_step_checked(inputs)
    assert checked.returncode == 1
    assert "timed out" in one_error(checked) or "deadline" in one_error(checked)
    build = sandbox.coveralls.build(BUILD, repo_token=COVERALLS_TOKEN)
    assert build and build["closed"], "the Coveralls close had its own time"
    within_timeout(checked.seconds, parts=2)
    record(
        SECTION,
        "a status post whose server hangs, then a Coveralls close in the same step",
        "the close still lands: each part has its own timeout",
        "the post gave up at its timeout; the build was closed",
        f"{checked.seconds:.1f} s",
    )


# -- said while it happens -----------------------------------------------------------------------------------
def test_each_retry_says_so_as_it_happens(sandbox, run_step_checked):
    sandbox.add_fault(path=BITBUCKET_PATH, status=503, times=2)
    checked = run_step_checked(bitbucket_inputs(sandbox.url))
    assert checked.returncode == 0, checked.text
    lines = [line for line in checked.result.stdout.splitlines() if "trying again in" in line]
    host = sandbox.url.removeprefix("http://")
    assert len(lines) == 2, checked.text
    for attempt, line in enumerate(lines, 1):
        assert line.startswith(f"{host}: answered 503 (attempt {attempt}); trying again in "), line
        assert f"left of the {TIMEOUT:g} s timeout" in line
    record(
        WAITS,
        "503 twice",
        "one line per retry: server, what failed, attempt, wait, time left",
        "2 lines, e.g. " + lines[0].replace(host, "HOST").replace("|", "/"),
    )


def test_no_long_silence_while_the_step_waits(sandbox, tmp_path):
    """A server that hangs for most of a 12 s timeout: the step says it still waits every few seconds."""
    sandbox.add_fault(path=BITBUCKET_PATH, action="hang", times=None, delay=30)
    workdir = tmp_path / "step"
    workdir.mkdir()
    env = step_env(Job(sha=SHA), bitbucket_inputs(sandbox.url, timeout="12"), workdir)
    stamps: list[float] = []
    proc = subprocess.Popen(
        default_command(), env=env, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    killer = threading.Timer(60, proc.kill)
    killer.start()
    try:
        started = time.monotonic()
        assert proc.stdout is not None
        for _ in proc.stdout:
            stamps.append(time.monotonic())
        proc.wait()
    finally:
        killer.cancel()
    ended = time.monotonic()
    times = [started, *stamps, ended]
    silence = max(b - a for a, b in zip(times, times[1:]))
    assert proc.returncode == 1
    assert silence < 8, f"{silence:.1f} s without a line"
    record(
        WAITS,
        "the server hangs through a 12 s timeout",
        "a line at least every 5 s while waiting",
        f"{len(stamps)} lines; the longest silence under 8 s",
        f"longest silence {silence:.1f} s over {ended - started:.1f} s",
    )


def test_peaks_are_reported(sandbox):
    """Keeps the measured peaks together in the report (after the huge-answer tests ran)."""
    if not PEAKS:
        pytest.skip("the huge-answer scenarios did not run")
    worst = max(PEAKS.values())
    assert worst < MEMORY_LIMIT_KIB
    record(
        SECTION,
        "peak memory under the worst answer",
        "under 100 MiB",
        "under 100 MiB for every huge answer",
        f"worst {worst / 1024:.0f} MiB ({max(PEAKS, key=PEAKS.get)})",
    )
