"""The built image, run as the GitHub runner runs it, against the sandbox as the job's service container."""

from __future__ import annotations

import gzip
import json
import subprocess

from build_status_sandbox.runner import Job

from ..secret_scan import assert_no_secret_in
from .conftest import COVERALLS_TOKEN, IMAGE, SANDBOX_URL, SHA, TOKEN, docker

#: Compressed (what a job pulls) — the issue's aim for the image.
MAX_COMPRESSED = 25 * 1024 * 1024
HEAD = "fedcba9876543210fedcba9876543210fedcba98"


def _inspect() -> dict:
    return json.loads(docker("image", "inspect", IMAGE).stdout)[0]


def test_the_image_runs_as_the_default_user_with_an_exec_form_entrypoint():
    config = _inspect()["Config"]
    assert config["User"] in ("", "root", "0")  # GitHub: container actions run as the default user
    assert config["Entrypoint"] == ["/usr/bin/python3", "-I", "-u", "/action/entrypoint.py"]
    assert not config.get("Cmd")


def test_the_image_holds_the_client_only():
    """The sandbox is its own distribution (sandbox/): neither it nor the old build_status.sandbox is in the image."""
    probe = (
        "import importlib.util as util, sys; sys.path.insert(0, '/action/src'); "
        "names = ('build_status_sandbox', 'build_status.sandbox', 'build_status.demo'); "
        "print(util.find_spec('build_status') is not None, [name for name in names if util.find_spec(name)])"
    )
    result = docker("run", "--rm", "--label", "build-status-test", "--network", "none",
                    "--entrypoint", "/usr/bin/python3", IMAGE, "-I", "-c", probe)  # fmt: skip
    assert result.stdout.strip() == "True []", result.stdout + result.stderr


def test_the_image_is_small():
    with subprocess.Popen(["docker", "save", IMAGE], stdout=subprocess.PIPE) as save:
        compressed = len(gzip.compress(save.stdout.read(), compresslevel=6))
    assert save.returncode == 0
    assert compressed <= MAX_COMPRESSED, f"{compressed / 2**20:.1f} MiB compressed"


def test_a_pull_request_status_lands_on_the_head_commit_with_outputs_and_summary(run_action, sandbox):
    event = {"pull_request": {"number": 7, "head": {"sha": HEAD, "ref": "feature/x"}}}
    job = Job(sha=SHA, event_name="pull_request", event=event, ref="refs/pull/7/merge", status="failure")
    step = run_action({"bitbucket-url": SANDBOX_URL, "bitbucket-token": TOKEN}, job=job)

    assert step.returncode == 0, step.stdout + step.stderr
    [status] = sandbox.statuses(HEAD)  # the pushed commit from the event file, not the test-merge SHA
    assert (status["state"], status["key"]) == ("FAILED", "CI/build")
    assert sandbox.statuses(SHA) == []
    assert step.outputs["state"] == "FAILED" and step.outputs["commits"] == HEAD
    assert step.outputs["result"] == "posted"
    assert "FAILED" in step.summary
    assert f"::add-mask::{TOKEN}" in step.stdout
    assert_no_secret_in({"stdout": step.stdout, "stderr": step.stderr, **step.files}, [], whole=[TOKEN])
    [request] = [r for r in sandbox.requests() if r["method"] == "POST"]
    assert request["path"].endswith(HEAD)


def test_a_wrong_input_is_one_error_line_exit_2_and_no_request(run_action, sandbox):
    step = run_action({"bitbucket-url": SANDBOX_URL, "bitbucket-token": TOKEN, "state": "GREEN"})
    assert step.returncode == 2
    assert len(step.error_lines) == 1 and "state" in step.error_lines[0]
    assert "Traceback" not in step.stdout + step.stderr
    assert sandbox.requests() == []


def test_the_fan_in_job_closes_the_coveralls_build(run_action, sandbox):
    job = {"repo_token": COVERALLS_TOKEN, "service_name": "github", "service_number": "4242", "parallel": True,
           "flag_name": "py3.12", "source_files": []}  # fmt: skip
    sandbox.call("POST", "/api/v1/jobs", job)
    inputs = {
        "coveralls-repo-token": COVERALLS_TOKEN,
        "coveralls-endpoint": SANDBOX_URL,
        "coveralls-parallel-finished": "true",
        "coveralls-carryforward": "py3.11,py3.12",
    }
    step = run_action(inputs, job=Job(sha=SHA, run_id="4242"))

    assert step.returncode == 0, step.stdout + step.stderr
    [build] = sandbox.coveralls_builds()
    assert build["closed"] is True
    assert build["carried"] == [{"flag_name": "py3.11", "from_build": None}]
    assert step.outputs["coveralls-jobs"] == "2"  # the job sent, and py3.11 carried forward
    assert_no_secret_in({"stdout": step.stdout, "stderr": step.stderr, **step.files}, [], whole=[COVERALLS_TOKEN])


def test_the_workflow_s_python_variables_and_workspace_do_not_reach_the_interpreter(run_action, sandbox):
    # A workflow's env: PYTHONPATH=. and a checkout with its own requests.py must not replace the real one.
    hijack = "raise SystemExit('HIJACKED')\n"
    step = run_action(
        {"bitbucket-url": SANDBOX_URL, "bitbucket-token": TOKEN},
        extra_env={"PYTHONPATH": "/github/workspace", "PYTHONWARNINGS": "error", "PYTHONINSPECT": "1"},
        workspace_files={"requests.py": hijack, "sitecustomize.py": hijack, "jsonschema.py": hijack},
    )
    assert step.returncode == 0, step.stdout + step.stderr
    assert "HIJACKED" not in step.stdout + step.stderr
    assert len(sandbox.statuses(SHA)) == 1


def test_an_unreachable_server_fails_the_step_with_the_reason(run_action, sandbox):
    # The sandbox's container, at a port nothing listens on.
    step = run_action({"bitbucket-url": "http://sandbox:1", "bitbucket-token": TOKEN, "timeout": "5"})
    assert step.returncode == 1, step.stdout + step.stderr
    [error] = step.error_lines
    assert "refused" in error and "sandbox:1" in error
    assert "Traceback" not in step.stdout + step.stderr


def test_one_step_posts_the_start_and_its_post_stage_the_jobs_end(run_action, sandbox):
    inputs = {
        "bitbucket-url": SANDBOX_URL,
        "bitbucket-token": TOKEN,
        "bitbucket-project": "PRJ",
        "bitbucket-repo": "app",
        "test-results": "reports/*.xml",
    }
    main = run_action(inputs)  # job.status is "success" while the job runs
    assert main.returncode == 0, main.stdout + main.stderr
    [started] = sandbox.statuses(SHA)
    assert started["state"] == "INPROGRESS"
    assert "build_status" in main.state and TOKEN not in main.files["save_state"]

    cases = '<testcase name="a"/><testcase name="b"/><testcase name="c"><error/></testcase>'
    report = f'<testsuite tests="3">{cases}</testsuite>'
    post = run_action(
        inputs,
        job=Job(sha=SHA, status="failure"),  # the inputs are evaluated again when the job ends
        workspace_files={"reports/junit.xml": report},
        post=main.state,
    )
    assert post.returncode == 0, post.stdout + post.stderr
    assert post.command[post.command.index("--entrypoint") + 1] == "/action/post.py"
    [ended] = sandbox.statuses(SHA)
    assert ended["state"] == "FAILED"
    assert ended["testResults"] == {"successful": 2, "failed": 1, "skipped": 0}
    assert isinstance(ended["duration"], int) and ended["duration"] > 0
    assert_no_secret_in({"stdout": post.stdout, "stderr": post.stderr, **post.files}, [], whole=[TOKEN])
