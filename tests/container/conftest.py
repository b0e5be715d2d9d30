"""Run the action's image the way the GitHub runner runs a Docker action's step.

``scripts/container-test`` builds the image and runs these tests with ``BUILD_STATUS_IMAGE`` set; without
it they are skipped. What the runner does (actions/runner, ``ContainerActionHandler``), and this does too:

- a job network (``github_network_<id>``) that service containers and the step share; here it is
  ``--internal``, so nothing leaves the machine, and the sandbox is the service container, reached by its
  network alias, as a job's ``services:`` are (the image's Python runs it from the checkout's sandbox/src:
  the image holds the client only);
- ``docker run --rm --workdir /github/workspace`` with ``-e NAME`` for every variable (the value comes from
  the docker client's own environment, which is how hyphenated ``INPUT_*`` names get through);
- the mounts ``/var/run/docker.sock``, ``/github/home``, ``/github/workflow`` (the event file),
  ``/github/file_commands`` (``GITHUB_OUTPUT`` & co., named ``<command>_<uuid>``) and ``/github/workspace``;
- the image's own entry point, no arguments.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from build_status_sandbox.runner import FILE_COMMANDS, Job, parse_file_command, step_env

IMAGE = os.environ.get("BUILD_STATUS_IMAGE", "")
ROOT = Path(__file__).resolve().parents[2]
#: The runner runs the post stage with ``--entrypoint <runs.post-entrypoint>``.
POST_ENTRYPOINT = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["runs"]["post-entrypoint"]
SANDBOX_ALIAS = "sandbox"
#: The action's image holds the client only. The sandbox's service container runs the sandbox with the image's
#: own Python (and its client and dependencies, which the sandbox needs) from this checkout's sandbox/src,
#: mounted read-only at /sandbox: ``build-status-sandbox serve``, as ``python -c``.
SANDBOX_SOURCE = ROOT / "sandbox" / "src"
SANDBOX_LAUNCH = (
    "import sys; sys.path[:0] = ['/sandbox', '/action/src']; "
    "from build_status_sandbox.cli import main; sys.exit(main())"
)
SANDBOX_PORT = 7990
SANDBOX_URL = f"http://{SANDBOX_ALIAS}:{SANDBOX_PORT}"
#: The sandbox listens on every address of its own container, which only the internal job network reaches.
ANY_ADDRESS = "0.0.0.0"  # noqa: S104
SHA = "0123456789abcdef0123456789abcdef01234567"
#: The sandbox image's published default credentials: they share pieces with ordinary text ("sandbox",
#: "-token"), so the scans here look for them whole (tests/secret_scan.py's ``whole``).
TOKEN = "sandbox-token"
COVERALLS_TOKEN = "coveralls-repo-token"


def pytest_collection_modifyitems(config, items):
    """Without an image to test, every test here is skipped (scripts/container-test provides one)."""
    if IMAGE:
        return
    skip = pytest.mark.skip(reason="run by scripts/container-test (needs a Docker engine)")
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(skip)


def docker(*args: str, env: dict[str, str] | None = None, timeout: float = 120, check: bool = True, **kwargs):
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, env=env, timeout=timeout, check=False, **kwargs
    )
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:3])} … failed ({result.returncode}): {result.stderr}")
    return result


@dataclass
class ContainerStep:
    returncode: int
    stdout: str
    stderr: str
    command: list[str]
    outputs: dict[str, str]
    summary: str
    files: dict[str, str]

    @property
    def error_lines(self) -> list[str]:
        return [line for line in (self.stdout + self.stderr).splitlines() if line.startswith("::error")]

    @property
    def state(self) -> dict[str, str]:
        """What the step saved through ``$GITHUB_STATE`` (its post stage gets it as ``STATE_*``)."""
        return parse_file_command(self.files.get("save_state", ""))


class SandboxContainer:
    """The sandbox as the job's service container; its own endpoints are read from inside it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def call(self, method: str, path: str, body: object | None = None) -> object:
        script = (
            "import json, sys, urllib.request\n"
            "data = sys.stdin.read().encode() or None\n"
            f"request = urllib.request.Request('http://127.0.0.1:{SANDBOX_PORT}' + sys.argv[1], data=data, "
            "method=sys.argv[2], headers={'Content-Type': 'application/json'})\n"
            "sys.stdout.write(urllib.request.urlopen(request, timeout=10).read().decode())\n"
        )
        result = docker(
            "exec", "-i", self.name, "/usr/bin/python3", "-c", script, path, method,
            input=json.dumps(body) if body is not None else "",
        )  # fmt: skip
        return json.loads(result.stdout or "null")

    def statuses(self, sha: str) -> list[dict]:
        return self.call("GET", "/_sandbox/state")["emulations"]["bitbucket"]["commits"].get(sha, [])

    def requests(self) -> list[dict]:
        return self.call("GET", "/_sandbox/requests")

    def coveralls_builds(self) -> list[dict]:
        return self.call("GET", "/_sandbox/state")["emulations"]["coveralls"]["builds"]

    def reset(self) -> None:
        self.call("POST", "/_sandbox/reset", {})


@pytest.fixture(scope="session")
def network():
    name = f"github_network_{uuid.uuid4().hex}"
    docker("network", "create", "--internal", "--label", "build-status-test", name)
    yield name
    docker("network", "rm", name, check=False)


@pytest.fixture(scope="session")
def _sandbox(network):
    name = f"build-status-sandbox-{uuid.uuid4().hex[:12]}"
    docker(
        "run", "-d", "--rm", "--name", name, "--label", "build-status-test", "--network", network,
        "--network-alias", SANDBOX_ALIAS, "-v", f"{SANDBOX_SOURCE}:/sandbox:ro", "--entrypoint", "/usr/bin/python3",
        IMAGE, "-I", "-u", "-c", SANDBOX_LAUNCH, "serve", "--host", ANY_ADDRESS, "--port", str(SANDBOX_PORT),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "Sandbox listening" not in docker("logs", name).stdout:
            if time.monotonic() > deadline:
                raise AssertionError(f"the sandbox container did not start: {docker('logs', name).stderr}")
            time.sleep(0.1)  # polling a condition with a deadline, not a timed wait
        yield SandboxContainer(name)
    finally:
        docker("rm", "-f", name, check=False)


@pytest.fixture
def sandbox(_sandbox):
    _sandbox.reset()
    yield _sandbox


@pytest.fixture
def run_action(network, tmp_path):
    """``run_action(inputs, job=Job(...), extra_env={...})``: one step of the action, as the runner runs it."""
    counter = iter(range(100))

    def run(
        inputs: dict[str, str],
        *,
        job: Job | None = None,
        extra_env: dict[str, str] | None = None,
        workspace_files: dict[str, str] | None = None,
        post: dict[str, str] | None = None,
    ):
        """``post``: run the post stage (``--entrypoint`` runs.post-entrypoint) with this saved state."""
        job = job or Job(sha=SHA)
        temp = tmp_path / f"step{next(counter)}"
        home, workflow, commands, workspace = (temp / d for d in ("_github_home", "_github_workflow", "fc", "ws"))
        for folder in (home, workflow, commands, workspace):
            folder.mkdir(parents=True)
        for name, text in (workspace_files or {}).items():
            (workspace / name).parent.mkdir(parents=True, exist_ok=True)
            (workspace / name).write_text(text, encoding="utf-8")
        values = step_env(job, inputs, temp / "emulation", base_env={})
        (workflow / "event.json").write_text(json.dumps(job.event or {}), encoding="utf-8")
        values["GITHUB_EVENT_PATH"] = "/github/workflow/event.json"
        values["HOME"] = "/github/home"
        values["GITHUB_WORKSPACE"] = "/github/workspace"
        for variable, command in FILE_COMMANDS.items():
            name = f"{command}_{uuid.uuid4()}"
            (commands / name).touch()
            values[variable] = f"/github/file_commands/{name}"
        values.update(extra_env or {})
        values.update({f"STATE_{name}": value for name, value in (post or {}).items()})
        client_env = {k: v for k, v in os.environ.items() if k in ("PATH", "DOCKER_HOST", "HOME")} | values
        socket = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock").removeprefix("unix://")
        command = [
            "run", "--name", f"build-status-step-{uuid.uuid4().hex[:12]}", "--label", "build-status-test",
            "--workdir", "/github/workspace", "--rm", "--network", network,
            *[arg for name in values for arg in ("-e", name)],
            "-v", f"{socket}:/var/run/docker.sock",
            "-v", f"{home}:/github/home",
            "-v", f"{workflow}:/github/workflow",
            "-v", f"{commands}:/github/file_commands",
            "-v", f"{workspace}:/github/workspace",
            *(["--entrypoint", POST_ENTRYPOINT] if post is not None else []),
            IMAGE,
        ]  # fmt: skip
        result = docker(*command, env=client_env, check=False, timeout=180)
        files = {p.name.rsplit("_", 1)[0]: p.read_text() for p in commands.iterdir()}  # set_output_<uuid>
        files.update(
            {str(p): p.read_text(errors="replace") for p in workspace.rglob("*") if p.is_file()}
        )  # what the step left in the workspace, for the secret scans
        return ContainerStep(
            returncode=result.returncode,
            stdout=result.stdout,
            stderr=result.stderr,
            command=command,
            outputs=parse_file_command(files.get("set_output", "")),
            summary=files.get("step_summary", ""),
            files=files,
        )

    return run
