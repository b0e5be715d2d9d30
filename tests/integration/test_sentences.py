"""Typical failing steps, as the runner runs them: no error, warning or notice, and no line of the step
summary, ends a sentence with a doubled full stop (``..``), even where a server's own message, which often
ends with one already, is quoted and followed by more."""

from __future__ import annotations

import re

import pytest

from .conftest import COVERALLS_TOKEN, SHA, WEBAPPIO_TOKEN, close_inputs

#: Two full stops, not three (``...`` is a path or an ellipsis; ``…`` is fine too).
DOUBLED = re.compile(r"(?<!\.)\.\.(?!\.)")
#: A port where nothing listens: connection refused, at once.
NOWHERE = "http://127.0.0.1:9"
FAST = {"timeout": "3"}


def bitbucket_error(message: str) -> dict:
    return {"errors": [{"context": None, "message": message, "exceptionName": "com.example.Error"}]}


def webappio(sandbox, **extra):
    return {
        "webappio-token": WEBAPPIO_TOKEN,
        "webappio-repo": "sandbox-app",
        "webappio-endpoint": sandbox.webappio_url,
        "webappio-poll-interval": "0.1s",
        **extra,
    }


#: (id, faults to queue, inputs): each a step that fails (or warns) in a way users meet.
SCENARIOS = [
    ("bitbucket-401", [], {"state": "SUCCESSFUL", "bitbucket-token": "bbX9q-w7v6u5t4s3"}),
    (
        "bitbucket-400",
        [{"status": 400, "path": "/rest/", "method": "POST", "body": bitbucket_error("The key is not valid.")}],
        {"state": "SUCCESSFUL"},
    ),
    (
        "bitbucket-404-repository",
        [{"status": 404, "path": "/builds", "body": bitbucket_error("Repository PROJ/repo does not exist.")}],
        {"state": "SUCCESSFUL", "bitbucket-project": "PROJ", "bitbucket-repo": "repo", "bitbucket-api": "builds"},
    ),
    (
        "bitbucket-503-then-deadline",
        [{"status": 503, "times": None, "path": "/rest/", "body": bitbucket_error("Bitbucket is restarting.")}],
        {"state": "SUCCESSFUL", "timeout": "1"},
    ),
    (
        "bitbucket-400-fail-on-error-false",
        [{"status": 400, "path": "/rest/", "method": "POST", "body": bitbucket_error("The name is too long.")}],
        {"state": "SUCCESSFUL", "fail-on-error": "false"},
    ),
    ("bitbucket-unreachable", [], {"state": "SUCCESSFUL", "bitbucket-url": NOWHERE, **FAST}),
    ("test-results-missing", [], {"state": "SUCCESSFUL", "test-results": "reports/none-*.xml"}),
    ("test-results-malformed", [], "junit-malformed"),
    ("check-401", [], {"check": "true", "bitbucket-token": "bbX9q-w7v6u5t4s3"}),
    ("check-unreachable", [], {"check": "true", "bitbucket-url": NOWHERE, **FAST}),
    (
        "check-404-commit",
        [{"status": 404, "path": "/builds", "body": bitbucket_error(f"Commit '{SHA}' does not exist.")}],
        {"check": "true", "bitbucket-project": "PROJ", "bitbucket-repo": "repo"},
    ),
    ("coveralls-wrong-token", [], "coveralls-wrong-token"),
    ("coveralls-no-build", [], "coveralls-no-build"),
    (
        "coveralls-error-in-a-200",
        [{"status": 200, "path": "/webhook", "body": {"error": "Something odd happened."}}],
        "coveralls",
    ),
    (
        "coveralls-fail-on-error-false",
        [{"status": 422, "path": "/webhook", "body": {"error": "Build is being processed."}}],
        "coveralls-lenient",
    ),
    ("coveralls-unreachable", [], "coveralls-unreachable"),
    ("webappio-wrong-token", [], "webappio-wrong-token"),
    ("webappio-no-runs", [], "webappio-no-runs"),
    ("webappio-no-repository", [], "webappio-no-repository"),
    ("webappio-unreachable", [], "webappio-unreachable"),
]


def inputs_for(sandbox, inputs, tmp_path):
    """The step's inputs; the Coveralls and webapp.io ones need the sandbox's address."""
    if isinstance(inputs, dict):
        return inputs
    report = tmp_path / "junit.xml"
    report.write_text('<testsuite tests="1"><testcase name="a"></testsuite>', encoding="utf-8")
    return {
        "junit-malformed": {"state": "SUCCESSFUL", "test-results": str(report)},
        "coveralls": close_inputs(sandbox),
        "coveralls-lenient": close_inputs(sandbox, **{"fail-on-error": "false"}),
        "coveralls-wrong-token": close_inputs(sandbox, **{"coveralls-repo-token": "cvX9q-w7v6u5t4s3"}),
        "coveralls-no-build": close_inputs(sandbox, **{"coveralls-build-number": "999"}),
        "coveralls-unreachable": close_inputs(sandbox, **{"coveralls-endpoint": NOWHERE, **FAST}),
        "webappio-wrong-token": webappio(sandbox, **{"webappio-token": "waX9q-w7v6u5t4s3", "webappio-branch": "main"}),
        "webappio-no-runs": webappio(sandbox, **{"webappio-branch": "no-such-branch"}),
        "webappio-no-repository": webappio(sandbox, **{"webappio-repo": "no-such-app", "webappio-branch": "main"}),
        "webappio-unreachable": webappio(
            sandbox, **{"webappio-endpoint": NOWHERE + "/api/v1", "webappio-branch": "main", **FAST}
        ),
    }[inputs]


def sentences(result) -> list[str]:
    """Every annotation the step wrote (error, warning, notice) and every line of its summary."""
    annotations = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.startswith(("::error", "::warning", "::notice"))
    ]
    return annotations + result.summary.splitlines()


@pytest.mark.parametrize(
    ("faults", "inputs"),
    [pytest.param(*s[1:], id=s[0]) for s in SCENARIOS],
)
def test_no_message_ends_a_sentence_twice(sandbox, step, tmp_path, faults, inputs):
    sandbox.coveralls.register_job("4242", repo_token=COVERALLS_TOKEN)  # the default build number (run id)
    for fault in faults:
        sandbox.add_fault(**fault)
    result = step(inputs_for(sandbox, inputs, tmp_path))
    problems = [line for line in sentences(result) if line.startswith(("::error", "::warning"))]
    assert problems, f"the scenario did not fail or warn: {result.stdout}{result.stderr}"
    doubled = [line for line in sentences(result) if DOUBLED.search(line)]
    assert not doubled, "\n".join(doubled)
