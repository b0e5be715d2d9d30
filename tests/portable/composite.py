"""Run portable/action.yml the way the GitHub runner runs a composite action's steps.

The inputs are evaluated once (the value given, else the default, through the runner emulation's
:meth:`Job.evaluate_default`); each step's ``env`` and ``run`` are evaluated with the expressions the file
uses (``inputs.*``, ``steps.<id>.outputs.*``, ``github.action_path``, ``runner.temp``), and anything else
fails loudly.  Each ``run`` is written to a script file in ``RUNNER_TEMP`` and run as the runner runs a bash
step (``bash --noprofile --norc -eo pipefail <file>``) in the workspace, with ``GITHUB_ACTION_PATH``,
``RUNNER_TEMP`` and file commands of its own; a failing step ends the action with its exit code.  Composite
actions get no ``INPUT_*`` variables: only what the step's ``env`` maps.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from build_status_sandbox.runner import FILE_COMMANDS, Job, parse_file_command, step_env

ROOT = Path(__file__).resolve().parents[2]
PORTABLE = ROOT / "portable"
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
BASH = shutil.which("bash") or "/bin/bash"


class UnsupportedExpression(Exception):
    """An expression this emulation does not evaluate (so a test cannot silently pass over it)."""


@dataclass
class StepRun:
    id: str
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    files: dict[str, str]
    seconds: float


@dataclass
class CompositeResult:
    returncode: int
    steps: dict[str, StepRun]
    outputs: dict[str, str]

    @property
    def stdout(self) -> str:
        return "".join(step.stdout for step in self.steps.values())

    @property
    def stderr(self) -> str:
        return "".join(step.stderr for step in self.steps.values())

    @property
    def log(self) -> str:
        return self.stdout + self.stderr

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.log.splitlines() if line.startswith("::error")]

    @property
    def texts(self) -> dict[str, str]:
        """Everything the steps wrote, by where (for secret scans)."""
        texts = {}
        for step in self.steps.values():
            texts[f"{step.id}: stdout"] = step.stdout
            texts[f"{step.id}: stderr"] = step.stderr
            texts.update({f"{step.id}: {name}": text for name, text in step.files.items()})
        return texts


def load(action_dir: Path = PORTABLE) -> dict[str, Any]:
    action = yaml.safe_load((action_dir / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite", action["runs"]
    return action


def evaluate(text: str, contexts: dict[str, Any]) -> str:
    """Substitute every ``${{ }}`` in ``text``; raise UnsupportedExpression for what we do not know."""

    def one(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        if m := re.fullmatch(rf"inputs\.({NAME})", expression):
            if m.group(1) not in contexts["inputs"]:
                raise UnsupportedExpression(f"{expression}: not an input of the action")
            return contexts["inputs"][m.group(1)]
        if m := re.fullmatch(rf"steps\.({NAME})\.outputs\.({NAME})", expression):
            if m.group(1) not in contexts["step_ids"]:
                raise UnsupportedExpression(f"{expression}: no step has the id {m.group(1)!r}")
            return contexts["steps"].get(m.group(1), {}).get(m.group(2), "")
        if expression == "github.action_path":
            return contexts["action_path"]
        if expression == "runner.temp":
            return contexts["runner_temp"]
        raise UnsupportedExpression(f"the composite emulation cannot evaluate ${{{{ {expression} }}}}")

    return EXPRESSION.sub(one, text)


def input_values(action: dict[str, Any], job: Job, given: dict[str, str]) -> dict[str, str]:
    """The runner's ``inputs`` context: the value given, else the default evaluated in the job."""
    declared = action.get("inputs") or {}
    unknown = set(given) - set(declared)
    if unknown:
        raise KeyError(f"not inputs of portable/action.yml: {sorted(unknown)}")
    values = {}
    for name, spec in declared.items():
        if name in given:
            values[name] = given[name]
        elif spec.get("default") is not None:
            values[name] = job.evaluate_default(name, str(spec["default"]))
        else:
            values[name] = ""
    return values


def run_composite(
    job: Job,
    inputs: dict[str, str],
    *,
    workdir: Path,
    runner_temp: Path,
    base_env: dict[str, str],
    action_dir: Path = PORTABLE,
    timeout: float = 120,
) -> CompositeResult:
    """Run the composite action's steps as one ``uses:`` step of ``job``; ``runner_temp`` is the job's."""
    action = load(action_dir)
    steps = action["runs"]["steps"]
    contexts: dict[str, Any] = {
        "inputs": input_values(action, job, inputs),
        "steps": {},
        "step_ids": {step.get("id") for step in steps},
        "action_path": str(action_dir),
        "runner_temp": str(runner_temp),
    }
    workspace = workdir / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    (workdir / "home").mkdir(exist_ok=True)
    runner_temp.mkdir(parents=True, exist_ok=True)
    # GITHUB_* as for any step; composite actions get no INPUT_* variables.
    env = {k: v for k, v in step_env(job, {}, workdir, base_env=base_env).items() if not k.startswith("INPUT_")}
    env.update(
        {
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_ACTION_PATH": str(action_dir),
            "RUNNER_TEMP": str(runner_temp),
        }
    )
    ran: dict[str, StepRun] = {}
    returncode = 0
    for index, step in enumerate(steps):
        unsupported = set(step) - {"id", "name", "shell", "run", "env"}
        if unsupported or step.get("shell") != "bash" or "run" not in step:
            raise NotImplementedError(f"step {index}: only bash run steps are emulated, not {sorted(step)}")
        step_id = step.get("id") or f"__run_{index}"
        commands = workdir / "file_commands" / step_id
        commands.mkdir(parents=True, exist_ok=True)
        this_env = dict(env)
        for name, file_name in FILE_COMMANDS.items():
            (commands / file_name).touch()
            this_env[name] = str(commands / file_name)
        this_env.update({k: evaluate(str(v), contexts) for k, v in (step.get("env") or {}).items()})
        script = runner_temp / f"{uuid.uuid4()}.sh"
        script.write_text(evaluate(step["run"], contexts), encoding="utf-8")
        started = time.monotonic()
        proc = subprocess.run(
            [BASH, "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            env=this_env,
            cwd=workspace,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        seconds = time.monotonic() - started
        script.unlink()
        files = {p.name: p.read_text(encoding="utf-8", errors="replace") for p in commands.iterdir()}
        outputs = parse_file_command(files.get("set_output", ""))
        contexts["steps"][step_id] = outputs
        ran[step_id] = StepRun(step_id, proc.returncode, proc.stdout, proc.stderr, outputs, files, seconds)
        if proc.returncode != 0:
            returncode = proc.returncode
            break
    outputs = {name: evaluate(str(spec["value"]), contexts) for name, spec in (action.get("outputs") or {}).items()}
    return CompositeResult(returncode, ran, outputs)
