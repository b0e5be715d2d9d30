"""``build-status-sandbox demo``: a small matrix workflow reporting to the embedded sandbox, end to end.

Each job runs the action's one step as the GitHub runner would (``INPUT_*`` variables, file commands,
an event file): its main stage posts INPROGRESS, and its post stage, when the job ends, the job's outcome
with the duration and the test counts of the JUnit report the job wrote, and its Code Insights reports
(tests, with the failed test as an annotation on its line, and coverage), which the overview page shows.
One job fails; its re-run (attempt 2) posts to the same key and turns the commit green.  After each round the
commit's tally is read back from the sandbox's stats endpoint, the way Bitbucket counts it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

import requests

from .command import listen_error, port_number
from .runner import Job, JobRun
from .server import Sandbox
from .usage import EXIT_INPUT, argument_parser, error

SHA = "c0ffee5c0ffee5c0ffee5c0ffee5c0ffee5c0ffe"
TOKEN = "sandbox-token"  # noqa: S105 - the sandbox's published demo token
PROJECT, REPO = "DEMO", "app"
#: (job id, matrix, outcome of the first attempt)
JOBS = [
    ("test", {"python": "3.11"}, "failure"),
    ("test", {"python": "3.12"}, "success"),
    ("lint", None, "success"),
]
COLOURS = {"SUCCESSFUL": "\033[32m", "FAILED": "\033[31m", "INPROGRESS": "\033[34m"}


DESCRIPTION = (
    "Run a small matrix workflow against the embedded sandbox Bitbucket, end to end: three jobs run the action's "
    "step as the GitHub runner does (INPROGRESS, then the job's outcome with its test counts); one fails and "
    "the commit goes red, its re-run posts to the same key and the commit goes green.",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argument_parser("build-status-sandbox demo", DESCRIPTION)
    parser.add_argument("--port", type=port_number, default=0, help="sandbox port (default: 0, any free port)")
    parser.add_argument(
        "--keep-open", action="store_true", help="keep the sandbox serving afterwards, to look at its page"
    )
    return parser


def run_demo(argv: list[str]) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_INPUT
    try:
        sandbox = Sandbox(port=args.port)
    except OSError as exc:
        error(listen_error(exc, "127.0.0.1", args.port))
        return EXIT_INPUT
    with sandbox, tempfile.TemporaryDirectory(prefix="demo-") as tmp:
        print(f"Sandbox Bitbucket at {sandbox.url} (overview page: {sandbox.url}/)")
        print(f"Commit {SHA}, workflow 'CI', repository {PROJECT}/{REPO}\n")
        failures = 0
        print("Run 1, attempt 1: one step per job posts INPROGRESS, and its outcome when the job ends")
        for job_id, matrix, outcome in JOBS:
            failures += _job(sandbox, Path(tmp), job_id, matrix, outcome, attempt="1")
        _tally(sandbox)
        print("\nRe-run of the failed job (attempt 2): same key, so it replaces the red result")
        for job_id, matrix, outcome in JOBS:
            if outcome == "failure":
                failures += _job(sandbox, Path(tmp), job_id, matrix, "success", attempt="2")
        green = _tally(sandbox)
        if args.keep_open:
            print(f"\nThe sandbox keeps serving at {sandbox.url}/ — press Ctrl+C to stop.")
            with contextlib.suppress(KeyboardInterrupt):
                sandbox.serve_forever()
    if failures:
        print(f"\n{failures} step(s) did not behave as expected.")
        return 1
    return 0 if green else 1


def _job(sandbox: Sandbox, tmp: Path, job_id: str, matrix: dict | None, outcome: str, attempt: str) -> int:
    job = JobRun(Job(sha=SHA, job=job_id, matrix=matrix, run_attempt=attempt), _fresh(tmp))
    step = {
        "bitbucket-url": sandbox.url,
        "bitbucket-token": TOKEN,
        "bitbucket-project": PROJECT,
        "bitbucket-repo": REPO,
        "test-results": "reports/*.xml",
        "coverage-results": "coverage.xml",
    }
    start = job.step(step)  # the job's first step
    _write_report(job.workspace, failed=int(outcome == "failure"))  # the job's tests run
    ends = job.end(outcome)  # the runner runs the step's post stage
    problems = 0
    for result, expected in ((start, "INPROGRESS"), *((end, None) for end in ends)):
        if result.returncode != 0 or (expected and result.outputs.get("state") != expected):
            problems += 1
            print(result.stdout + result.stderr)
    end_state = ends[0].outputs.get("state", "?") if ends else "?"
    outputs = ends[0].outputs if ends else {}
    tests = f"{outputs.get('tests-passed', '?')} passed, {outputs.get('tests-failed', '?')} failed"
    reports = len(json.loads(outputs.get("reports") or "[]"))
    tests += f", {reports} report(s), coverage {outputs.get('coverage-percent', '?')}%"
    label = f"{job_id} ({', '.join(matrix.values())})" if matrix else job_id
    print(
        f"  {label:<16} key {start.outputs.get('key', '?')!r:<28} "
        f"{_paint(start.outputs.get('state', '?'))} → {_paint(end_state)}  ({tests})"
    )
    return problems


def _write_report(workspace: Path, failed: int) -> None:
    """What a test runner leaves in the workspace: a JUnit XML report of 12 tests (pytest's form, the failed
    one on its file and line) and a Cobertura coverage report."""
    folder = workspace / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    cases = [f'<testcase classname="tests.test_app" name="test_{n}"/>' for n in range(12 - failed)]
    cases += [
        '<testcase classname="tests.test_app" name="test_edge" file="tests/test_app.py" line="40">'
        '<failure message="assert 1 == 2">assert total(1) == 2</failure></testcase>'
    ] * failed
    suite = f'<testsuite name="pytest" tests="12" failures="{failed}">{"".join(cases)}</testsuite>'
    (folder / "junit.xml").write_text(f'<?xml version="1.0"?>\n<testsuites>{suite}</testsuites>\n', encoding="utf-8")
    (workspace / "coverage.xml").write_text(
        '<?xml version="1.0"?>\n<coverage version="7.4" lines-valid="1413" lines-covered="1234" line-rate="0.8733" '
        'branches-valid="0" branches-covered="0" branch-rate="0" complexity="0"><packages/></coverage>\n',
        encoding="utf-8",
    )


def _tally(sandbox: Sandbox) -> bool:
    """Read the counts back through the stats endpoint; True when the commit is green."""
    # Read the way Bitbucket's commit page counts: GET …/commits/stats/<sha>, bounded in time.
    answer = requests.get(
        f"{sandbox.url}/rest/build-status/latest/commits/stats/{SHA}",
        headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"},
        timeout=10,
    )
    answer.raise_for_status()
    stats = {name: value for name, value in answer.json().items() if isinstance(value, int)}
    counts = ", ".join(f"{value} {name}" for name, value in stats.items() if value)
    red = stats.get("failed", 0) > 0
    busy = stats.get("inProgress", 0) > 0
    verdict = "red: a FAILED key fails the commit" if red else "in progress" if busy else "green"
    print(f"  Bitbucket's tally for {SHA[:12]}: {counts} → {verdict}")
    reports = sandbox.bitbucket.reports(PROJECT, REPO, SHA)
    failing = [report for report in reports if report.get("result") == "FAIL"]
    notes = sum(len(report.get("annotations", [])) for report in failing)
    print(f"  Code Insights on {SHA[:12]}: {len(reports)} report(s), {len(failing)} failing ({notes} annotation(s))")
    return not red and not busy and stats.get("successful", 0) == len(JOBS)


def _fresh(tmp: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=tmp))


def _paint(state: str) -> str:
    colour = COLOURS.get(state) if sys.stdout.isatty() else None
    return f"{colour}{state}\033[0m" if colour else state
