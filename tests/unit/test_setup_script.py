"""``scripts/setup``: the Python it needs (3.11+) is checked first, and a .venv of another Python is made again.

Each test runs a copy of the script in a scratch checkout (so the real .venv is never touched) with
stand-in Pythons: tiny shell scripts that answer the version query, "make" a venv by copying themselves
into ``.venv/bin/python`` and log every call, so nothing is installed and each run takes milliseconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FAKE_PYTHON = """#!/bin/sh
# A stand-in Python {version}: answers any -c with its version, makes a "venv" of itself, installs nothing.
echo "$0 $*" >> "{log}"
case "$1" in
  -c) echo "{version}" ;;
  -m) if [ "$2" = venv ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; fi ;;
esac
"""


@pytest.fixture
def checkout(tmp_path):
    """A scratch checkout with the real scripts/setup and small stand-ins for the files it hashes."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "setup", repo / "scripts" / "setup")
    (repo / "sandbox").mkdir()
    for name in ("requirements.txt", "requirements-test.txt", "pyproject.toml", "sandbox/pyproject.toml"):
        (repo / name).write_text(f"# {name}\n", encoding="utf-8")
    return repo


@pytest.fixture
def bin_dir(tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    return folder


def fake_python(folder: Path, name: str, version: str) -> Path:
    path = folder / name
    path.write_text(FAKE_PYTHON.format(version=version, log=folder.parent / "calls.log"), encoding="utf-8")
    path.chmod(0o755)
    return path


def calls(bin_dir: Path) -> list[str]:
    log = bin_dir.parent / "calls.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def run_setup(repo: Path, bin_dir: Path, python: str | None = None) -> subprocess.CompletedProcess:
    # Only the stand-ins and the system's tools: no other Python the script could find.
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(repo.parent)}
    if python is not None:
        env["PYTHON"] = python
    return subprocess.run(
        ["bash", str(repo / "scripts" / "setup")], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def venv_version(repo: Path) -> str:
    return subprocess.run(
        [str(repo / ".venv" / "bin" / "python"), "-c", "version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_an_old_python_is_one_error_line_naming_it_and_how_to_pick_another(checkout, bin_dir):
    fake_python(bin_dir, "python3", "3.10.12")  # the default PYTHON
    fake_python(bin_dir, "python3.12", "3.12.1")
    result = run_setup(checkout, bin_dir)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: python3 is Python 3.10.12, and build-status needs 3.11 or later: pick another with "
        "PYTHON=python3.12 scripts/setup (scripts/test and scripts/demo take PYTHON too)."
    ]
    assert not (checkout / ".venv").exists()
    assert calls(bin_dir) and not any(" -m " in line for line in calls(bin_dir))  # asked, no venv, no pip


@pytest.mark.parametrize("version", ["2.7.18", "3.9.18", "3.10.13"])
def test_every_python_before_3_11_is_refused(checkout, bin_dir, version):
    old = fake_python(bin_dir, "old-python", version)
    result = run_setup(checkout, bin_dir, python=str(old))
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert f"is Python {version}, and build-status needs 3.11 or later" in line
    assert not (checkout / ".venv").exists()


def test_a_python_that_is_not_there_is_one_error_line(checkout, bin_dir):
    result = run_setup(checkout, bin_dir, python="python3.99")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: python3.99 was not found: install Python 3.11 or later and pick it with PYTHON=")


@pytest.mark.parametrize("version", ["3.11.0", "3.12.1", "3.13.0", "4.0.0"])
def test_a_recent_python_makes_the_venv_and_installs(checkout, bin_dir, version):
    python = fake_python(bin_dir, "good-python", version)
    result = run_setup(checkout, bin_dir, python=str(python))
    assert result.returncode == 0, result.stderr
    assert venv_version(checkout) == version
    installs = [line for line in calls(bin_dir) if " -m pip install " in line]
    # The hash-pinned runtime, then the project itself, then the sandbox (its own distribution, after the client).
    assert len(installs) == 3
    assert installs[1].endswith(" --no-deps -e .") and installs[2].endswith(" --no-deps -e ./sandbox")
    assert (checkout / ".venv" / ".installed-runtime").is_file()


def test_a_venv_of_another_python_is_made_again_and_the_next_run_keeps_it(checkout, bin_dir):
    old = fake_python(bin_dir, "python3.10", "3.10.12")
    new = fake_python(bin_dir, "python3.12", "3.12.1")
    assert run_setup(checkout, bin_dir, python=str(old)).returncode == 2  # refused: no .venv made
    # A .venv left by an older checkout of this script, which did not check the version.
    subprocess.run([str(old), "-m", "venv", str(checkout / ".venv")], check=True)
    (checkout / ".venv" / ".installed-runtime").write_text("stale\n", encoding="utf-8")
    result = run_setup(checkout, bin_dir, python=str(new))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        f"Making .venv again: it was made by Python 3.10.12, and {new} is Python 3.12.1."
    )
    assert venv_version(checkout) == "3.12.1"
    (checkout / ".venv" / "kept").touch()
    before = len(calls(bin_dir))
    again = run_setup(checkout, bin_dir, python=str(new))
    assert again.returncode == 0 and again.stdout == ""
    assert (checkout / ".venv" / "kept").exists()
    assert not any(" -m venv " in line or " -m pip " in line for line in calls(bin_dir)[before:])


def test_only_the_patch_level_changed_keeps_the_venv(checkout, bin_dir):
    subprocess.run([str(fake_python(bin_dir, "py-a", "3.12.0")), "-m", "venv", str(checkout / ".venv")], check=True)
    (checkout / ".venv" / "kept").touch()
    result = run_setup(checkout, bin_dir, python=str(fake_python(bin_dir, "py-b", "3.12.4")))
    assert result.returncode == 0, result.stderr
    assert "Making .venv again" not in result.stdout
    assert (checkout / ".venv" / "kept").exists()


def test_a_venv_whose_python_is_gone_is_made_again(checkout, bin_dir):
    (checkout / ".venv" / "bin").mkdir(parents=True)
    os.symlink(bin_dir / "uninstalled-python3.11", checkout / ".venv" / "bin" / "python")  # dangling
    (checkout / ".venv" / ".installed-runtime").write_text("stale\n", encoding="utf-8")
    result = run_setup(checkout, bin_dir, python=str(fake_python(bin_dir, "python3.11", "3.11.9")))
    assert result.returncode == 0, result.stderr
    assert "Making .venv again: its Python (.venv/bin/python) does not run any more." in result.stdout
    assert venv_version(checkout) == "3.11.9"
    assert any(" -m pip install " in line for line in calls(bin_dir))


def test_a_changed_sandbox_pyproject_installs_again(checkout, bin_dir):
    python = str(fake_python(bin_dir, "good-python", "3.12.1"))
    assert run_setup(checkout, bin_dir, python=python).returncode == 0
    before = len(calls(bin_dir))
    assert run_setup(checkout, bin_dir, python=python).returncode == 0
    assert not any(" -m pip " in line for line in calls(bin_dir)[before:])  # nothing changed: nothing installed
    (checkout / "sandbox" / "pyproject.toml").write_text("# changed\n", encoding="utf-8")
    before = len(calls(bin_dir))
    assert run_setup(checkout, bin_dir, python=python).returncode == 0
    assert any(line.endswith(" -e ./sandbox") for line in calls(bin_dir)[before:])
