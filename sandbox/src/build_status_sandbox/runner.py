"""Run the action's entry point the way the GitHub runner runs a Docker action's step.

Used by the demo and the integration tests: every declared input arrives as ``INPUT_<NAME>`` (hyphens
kept, ``""`` when unset, defaults evaluated from the run's contexts), ``GITHUB_*`` variables describe the
run, the event payload is a file, and ``GITHUB_OUTPUT``/``GITHUB_STEP_SUMMARY``/``GITHUB_STATE``/
``GITHUB_ENV``/``GITHUB_PATH`` are files that are read back after the step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from build_status.config.catalogue import INPUTS

ROOT = Path(__file__).resolve().parents[3]
#: The file commands: each variable, and the name the runner gives its file (``<name>_<uuid>`` there).
FILE_COMMANDS = {
    "GITHUB_OUTPUT": "set_output",
    "GITHUB_STEP_SUMMARY": "step_summary",
    "GITHUB_STATE": "save_state",
    "GITHUB_ENV": "set_env",
    "GITHUB_PATH": "add_path",
}
ENTRYPOINT = ROOT / "entrypoint.py"
#: Called with each step's environment and what it wrote, once it ended: the test suites' secret scan
#: hooks in here (tests/conftest.py), so that no step run through this emulation escapes it.
STEP_CHECKS: list[Callable[[dict[str, str], StepResult], None]] = []
#: ``runs.post-entrypoint``: the stage the runner runs when the job ends.
POST_ENTRYPOINT = ROOT / "post.py"


@dataclass
class Job:
    """What the runner knows about a job: the contexts that action.yml's defaults read."""

    sha: str
    workflow: str = "CI"
    job: str = "build"
    ref: str = "refs/heads/main"
    event_name: str = "push"
    event: dict[str, Any] = field(default_factory=dict)
    matrix: dict[str, Any] | None = None
    status: str = "success"
    repository: str = "acme/app"
    run_id: str = "4242"
    run_number: str = "17"
    run_attempt: str = "1"
    server_url: str = "https://github.com"
    #: "github", or "act" for runners built on nektos/act (act, Gitea's and Forgejo's act_runner): there
    #: ``toJSON(matrix)`` lists the names sorted, and a Docker action's post stage gets no ``STATE_*`` and
    #: only the inputs written under ``with:`` (no action.yml defaults).
    runner: str = "github"

    def evaluate_default(self, name: str, expression: str) -> str:
        """The value the runner gives an input's ``${{ }}`` default in this job."""
        if "${{" not in expression:
            return expression
        known = self._expressions()
        if expression not in known:
            raise KeyError(f"the runner emulation cannot evaluate {name}'s default {expression!r}")
        return known[expression]()

    def evaluate_given(self, value: str) -> str:
        """A value written under ``with:``: one of the expressions known here is evaluated, any other text
        is taken as it is."""
        known = self._expressions()
        return known[value]() if value in known else value

    def _expressions(self) -> dict:
        pull_request = self.event.get("pull_request") or {}
        head = pull_request.get("head") or {}
        return {
            "${{ github.event.pull_request.head.sha || github.sha }}": lambda: head.get("sha") or self.sha,
            "${{ job.status }}": lambda: self.status,
            "${{ toJSON(matrix) }}": lambda: (
                json.dumps(self.matrix, indent=2, sort_keys=self.runner == "act") if self.matrix else "null"
            ),
            "${{ github.run_number }}": lambda: self.run_number,
            "${{ github.run_id }}": lambda: self.run_id,
            "${{ github.event.pull_request.head.ref && format('refs/heads/{0}', github.event.pull_request.head.ref)"
            " || github.ref }}": lambda: f"refs/heads/{head['ref']}" if head.get("ref") else self.ref,
        }


@dataclass
class StepResult:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    state: dict[str, str]
    files: dict[str, str]

    @property
    def error_lines(self) -> list[str]:
        return [line for line in (self.stdout + self.stderr).splitlines() if line.startswith("::error")]

    @property
    def env(self) -> dict[str, str]:
        """What the step set for the job's later steps through ``$GITHUB_ENV``."""
        return parse_file_command(self.files.get("set_env", ""))

    @property
    def all_text(self) -> str:
        """Everything the step wrote anywhere (for secret scans)."""
        return "\n".join([self.stdout, self.stderr, *self.files.values()])


def parse_file_command(text: str) -> dict[str, str]:
    """Read ``name=value`` and ``name<<DELIM`` … ``DELIM`` records."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body: list[str] = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            i += 1
            values[name] = "\n".join(body)
        else:
            name, _, value = line.partition("=")
            values[name] = value
    return values


def step_env(
    job: Job,
    inputs: dict[str, str],
    workdir: Path,
    *,
    base_env: dict[str, str] | None = None,
    defaults: bool = True,
) -> dict[str, str]:
    """The environment of a container step: ``INPUT_*`` for every declared input, plus ``GITHUB_*``.

    A value given as one of the ``${{ }}`` expressions the emulation knows is evaluated, as the runner
    evaluates ``with:``; ``defaults=False`` leaves out the inputs not given (act's post stage).
    """
    unknown = set(inputs) - {item.name for item in INPUTS}
    if unknown:
        raise KeyError(f"not inputs of action.yml: {sorted(unknown)}")
    env = dict(base_env if base_env is not None else _clean_env())
    for item in INPUTS:
        if item.name in inputs:
            value = job.evaluate_given(inputs[item.name])
        elif not defaults:
            continue
        elif item.default is not None:
            value = job.evaluate_default(item.name, item.default)
        else:
            value = ""
        env[f"INPUT_{item.name.upper()}"] = value
    commands = workdir / "file_commands"
    commands.mkdir(parents=True, exist_ok=True)
    event_path = workdir / "event.json"
    event_path.write_text(json.dumps(job.event or {}), encoding="utf-8")
    env.update(
        {
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_SHA": job.sha,
            "GITHUB_REF": job.ref,
            "GITHUB_HEAD_REF": ((job.event.get("pull_request") or {}).get("head") or {}).get("ref", "")
            if job.event_name.startswith("pull_request")
            else "",
            "GITHUB_EVENT_NAME": job.event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": job.repository,
            "GITHUB_SERVER_URL": job.server_url,
            "GITHUB_WORKFLOW": job.workflow,
            "GITHUB_JOB": job.job,
            "GITHUB_RUN_ID": job.run_id,
            "GITHUB_RUN_NUMBER": job.run_number,
            "GITHUB_RUN_ATTEMPT": job.run_attempt,
            "GITHUB_ACTOR": "octocat",
            "RUNNER_OS": "Linux",
            "HOME": str(workdir / "home"),
        }
    )
    for name, file_name in FILE_COMMANDS.items():
        path = commands / file_name
        path.touch()
        env[name] = str(path)
    return env


def run_step(
    job: Job,
    inputs: dict[str, str],
    *,
    workdir: Path | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = 120,
    command: list[str] | None = None,
    stage: str = "main",
    state: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> StepResult:
    """Run one stage (``main`` or ``post``) of the action's step as a process and collect what it wrote.

    ``state``: what the main stage saved in ``$GITHUB_STATE``; the runner gives it to the post stage as
    ``STATE_<name>`` variables. ``cwd``: the workspace, when the steps of a job share one.
    """
    with tempfile.TemporaryDirectory(prefix="step-") as tmp:
        where = Path(workdir or tmp)
        act_post = stage == "post" and job.runner == "act"
        env = step_env(job, inputs, where, defaults=not act_post)
        env.update(extra_env or {})
        if not act_post:  # act gives a Docker action's post stage no STATE_* variables
            env.update({f"STATE_{name}": value for name, value in (state or {}).items()})
        (where / "home").mkdir(exist_ok=True)
        (where / "tmp").mkdir(exist_ok=True)
        env["TMPDIR"] = str(where / "tmp")  # so files the step leaves behind are seen (and scanned)
        before = _snapshot(where)
        proc = subprocess.run(
            command or default_command(stage),
            env=env,
            cwd=cwd or where,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        commands = where / "file_commands"
        files = {p.name: p.read_text(encoding="utf-8", errors="replace") for p in commands.iterdir()}
        files.update({str(p): p.read_text(encoding="utf-8", errors="replace") for p in _snapshot(where) - before})
        result = StepResult(
            returncode=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            outputs=parse_file_command(files.get("set_output", "")),
            summary=files.get("step_summary", ""),
            state=parse_file_command(files.get("save_state", "")),
            files=files,
        )
        for check in STEP_CHECKS:
            check(env, result)
        return result


def default_command(stage: str = "main") -> list[str]:
    """``python entrypoint.py`` (or ``post.py``) from a checkout, else the installed package."""
    script = POST_ENTRYPOINT if stage == "post" else ENTRYPOINT
    if script.is_file():
        return [sys.executable, str(script)]
    code = f"import sys; from build_status.cli import main; sys.exit(main(stage={stage!r}))"
    return [sys.executable, "-c", code]


class JobRun:
    """A job's steps as the runner runs them: ``$GITHUB_ENV`` carried to every later step, and when the
    job ends, each action step's post stage (``post-if: always()``) in reverse order, with its own saved
    state and the inputs evaluated again (so ``job.status`` is the final one)."""

    def __init__(self, job: Job, root: Path, *, extra_env: dict[str, str] | None = None, timeout: float = 120):
        self.job = job
        self.root = Path(root)
        self.env: dict[str, str] = dict(extra_env or {})
        self.timeout = timeout
        self._posts: list[tuple[dict[str, str], dict[str, str], str]] = []
        self._count = 0
        #: ``$GITHUB_WORKSPACE``: the working directory every step of the job shares.
        self.workspace = self.root / "workspace"
        self.workspace.mkdir(parents=True, exist_ok=True)

    def _workdir(self, label: str) -> Path:
        self._count += 1
        path = self.root / f"{self._count:02d}-{label}"
        path.mkdir(parents=True)
        return path

    def step(self, inputs: dict[str, str]) -> StepResult:
        """The action's main stage; its post stage is registered to run when the job ends."""
        # GITHUB_ACTION: the step's id, the same in its main and post stages (GitHub's form for unnamed steps).
        number = len(self._posts) + 1
        action = "__build-status_build-status" + ("" if number == 1 else f"_{number}")
        result = run_step(
            self.job,
            inputs,
            workdir=self._workdir("main"),
            extra_env={**self.env, "GITHUB_ACTION": action},
            timeout=self.timeout,
            cwd=self.workspace,
        )
        self.env.update(result.env)
        self._posts.append((inputs, result.state, action))
        return result

    def end(self, status: str) -> list[StepResult]:
        """The job ends with ``status``: the post stages run, last step first."""
        from dataclasses import replace

        ended = replace(self.job, status=status)
        results = []
        for inputs, state, action in reversed(self._posts):
            result = run_step(
                ended,
                inputs,
                workdir=self._workdir("post"),
                extra_env={**self.env, "GITHUB_ACTION": action},
                timeout=self.timeout,
                stage="post",
                state=state,
                cwd=self.workspace,
            )
            self.env.update(result.env)
            results.append(result)
        self._posts.clear()
        return results


def _snapshot(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() and p.parent.name != "file_commands"}


def _clean_env() -> dict[str, str]:
    """The machine's environment without anything that would make a step behave differently."""
    keep = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP", "PYTHONPATH", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["PYTHONIOENCODING"] = "utf-8"
    return env
