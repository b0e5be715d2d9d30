"""The portable (composite) action, run as the runner runs it, against the sandbox.

The composite's Python is the one running the tests (a ``python3`` on PATH that execs it), and its install
step finds the pinned wheels in ``.venv/wheels`` (``scripts/setup test`` downloads them for this interpreter)
with ``PIP_NO_INDEX``: nothing here reaches PyPI.
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest

from build_status_sandbox.runner import Job

from ..integration.conftest import SECRETS, SHA, TOKEN, _sandbox, sandbox  # noqa: F401  (fixtures)
from ..secret_scan import assert_no_secret_in
from .composite import ROOT, CompositeResult, run_composite

WHEELS = ROOT / ".venv" / "wheels"


def python_bin(where: Path, real: str = sys.executable) -> Path:
    """A directory holding a ``python3`` that runs ``real`` (a venv's python stays that venv's)."""
    where.mkdir(parents=True, exist_ok=True)
    wrapper = where / "python3"
    wrapper.write_text(f'#!/bin/sh\nexec "{real}" "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    return where


def base_env(path_first: Path | None, wheels: Path, **extra: str) -> dict[str, str]:
    """The job's environment: ``path_first`` in front of PATH, pip offline on ``wheels``."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")}
    if path_first is not None:
        env["PATH"] = f"{path_first}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        {
            "PIP_CONFIG_FILE": os.devnull,  # this machine's pip.conf plays no part
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(wheels),
            "PIP_ROOT_USER_ACTION": "ignore",
        }
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def wheels() -> Path:
    if not WHEELS.is_dir() or not any(WHEELS.glob("*.whl")):
        pytest.skip(f"no pinned wheels in {WHEELS}: scripts/setup test downloads them (needs PyPI once)")
    return WHEELS


class PortableJob:
    """One job on a runner: its RUNNER_TEMP is kept across the uses of the action in it."""

    def __init__(self, root: Path, server, wheels: Path) -> None:
        self.root = root
        self.sandbox = server
        self.wheels = wheels
        self.runner_temp = root / "runner_temp"
        self.bin = python_bin(root / "bin")
        self.counter = itertools.count()

    def run(
        self,
        inputs: dict[str, str],
        *,
        job: Job | None = None,
        path_first: Path | None = None,
        no_wheels: bool = False,
        extra_env: dict[str, str] | None = None,
    ) -> CompositeResult:
        """One ``uses: …/portable`` step (Bitbucket URL and token preset; ``None`` drops an input).

        ``no_wheels``: pip finds nothing to install (the wheels are unavailable).
        """
        merged = {"bitbucket-url": self.sandbox.url, "bitbucket-token": TOKEN, **inputs}
        merged = {k: v for k, v in merged.items() if v is not None}
        workdir = self.root / f"step{next(self.counter)}"
        empty = self.root / "no-wheels"
        empty.mkdir(parents=True, exist_ok=True)
        env = base_env(path_first or self.bin, empty if no_wheels else self.wheels, **(extra_env or {}))
        result = run_composite(job or Job(sha=SHA), merged, workdir=workdir, runner_temp=self.runner_temp, base_env=env)
        assert_no_secret_in(result.texts, SECRETS)
        assert "Traceback" not in result.log
        return result


@pytest.fixture
def new_job(sandbox, tmp_path, wheels):  # noqa: F811
    """``new_job()``: a fresh job (its own RUNNER_TEMP) on the runner."""
    counter = itertools.count()
    return lambda: PortableJob(tmp_path / f"job{next(counter)}", sandbox, wheels)


@pytest.fixture
def portable_job(new_job):
    """A fresh job: ``portable_job.run(inputs)`` uses the action in it."""
    return new_job()
