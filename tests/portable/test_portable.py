"""portable/action.yml run as the runner runs a composite action: its bash steps really run, against the sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from build_status_sandbox.runner import Job

from ..integration.conftest import PASSWORD, TOKEN, USER
from .composite import PORTABLE, ROOT, UnsupportedExpression, evaluate, run_composite
from .conftest import SHA, python_bin

REPO = {"bitbucket-project": "PRJ", "bitbucket-repo": "app"}
INSTALLING = "build-status: installing the pinned dependencies"
REUSING = "build-status: using the dependencies installed earlier in this job"


def posts(sandbox) -> list[dict]:
    return [r for r in sandbox.requests() if r["method"] == "POST"]


def deps_dirs(job) -> list[Path]:
    return sorted(job.runner_temp.glob("build-status-deps-*"))


def test_a_post_lands_and_the_outputs_come_through_the_composite(sandbox, portable_job):
    result = portable_job.run({"state": "INPROGRESS", **REPO})
    assert result.returncode == 0, result.log
    assert list(result.steps) == ["setup", "run"]
    assert INSTALLING in result.log
    assert f"::add-mask::{TOKEN}" in result.stdout  # the CLI masks the token before anything else
    (status,) = sandbox.bitbucket.statuses(SHA)
    assert (status["state"], status["key"], status["buildNumber"]) == ("INPROGRESS", "CI/build", "17")
    assert {k: v for k, v in result.outputs.items() if v} == {
        "state": "INPROGRESS",
        "key": "CI/build",
        "name": "CI › build",
        "url": "https://github.com/acme/app/actions/runs/4242",
        "commits": SHA,
        "api": "builds",
        "result": "posted",
    }
    # Every output of the action is one of the run step's.
    assert result.outputs == {name: result.steps["run"].outputs.get(name, "") for name in result.outputs}


def test_the_final_step_posts_the_jobs_outcome_as_it_stands(sandbox, portable_job):
    """No post stage in a composite: the `if: always()` step last in the job takes job.status then."""
    result = portable_job.run(REPO, job=Job(sha=SHA, status="failure"))
    assert result.returncode == 0, result.log
    assert result.outputs["state"] == "FAILED"
    assert [s["state"] for s in sandbox.bitbucket.statuses(SHA)] == ["FAILED"]
    assert len(posts(sandbox)) == 1


def test_basic_credentials_are_masked_too(sandbox, portable_job):
    result = portable_job.run({"bitbucket-token": None, "bitbucket-username": USER, "bitbucket-password": PASSWORD})
    assert result.returncode == 0, result.log
    assert f"::add-mask::{PASSWORD}" in result.stdout
    assert sandbox.bitbucket.statuses(SHA)[0]["state"] == "SUCCESSFUL"


def test_the_second_use_in_a_job_installs_nothing(sandbox, portable_job):
    first = portable_job.run({"state": "INPROGRESS"})
    assert first.returncode == 0, first.log
    (deps,) = deps_dirs(portable_job)
    # The wheels are gone for the second use: pip would fail if it ran.
    second = portable_job.run({}, no_wheels=True)
    assert second.returncode == 0, second.log
    assert INSTALLING not in second.log
    assert f"{REUSING} ({deps})" in second.log
    assert second.steps["setup"].outputs["deps"] == str(deps)
    assert [s["state"] for s in sandbox.bitbucket.statuses(SHA)] == ["SUCCESSFUL"]
    print(
        f"\nportable setup step: first use {first.steps['setup'].seconds:.2f} s, "
        f"second use {second.steps['setup'].seconds:.2f} s; run step {second.steps['run'].seconds:.2f} s"
    )


def test_a_half_finished_install_is_never_used(sandbox, new_job):
    learn = new_job()
    assert learn.run({}).returncode == 0
    name = Path(learn.run({}).steps["setup"].outputs["deps"]).name
    # Another job whose RUNNER_TEMP holds what a cut-short install could leave: the directory without its
    # marker, and a temporary sibling, each with a `requests` that would break the post.
    job = new_job()
    for broken in (job.runner_temp / name, job.runner_temp / f"{name}.partial-x1y2"):
        (broken / "requests").mkdir(parents=True)
        (broken / "requests" / "__init__.py").write_text("raise SystemExit('half-finished install used')\n")
    result = job.run({})
    assert result.returncode == 0, result.log
    assert INSTALLING in result.log
    assert deps_dirs(job) == [job.runner_temp / name]  # the leftovers are gone, the new one is in place
    assert (job.runner_temp / name / ".build-status-complete").is_file()
    assert "half-finished" not in (job.runner_temp / name / "requests" / "__init__.py").read_text()
    assert len(posts(sandbox)) == 3


def test_a_failed_install_leaves_nothing_behind_and_posts_nothing(sandbox, portable_job):
    result = portable_job.run({}, no_wheels=True)
    assert result.returncode == 1
    assert list(result.steps) == ["setup"]  # the run step never started
    (error,) = result.error_lines
    assert error.startswith("::error title=build-status (portable)::pip could not install the pinned dependencies")
    assert deps_dirs(portable_job) == []  # no directory, and no partial sibling
    assert posts(sandbox) == []
    # The next use in the job installs and posts.
    again = portable_job.run({})
    assert again.returncode == 0, again.log
    assert INSTALLING in again.log
    assert len(posts(sandbox)) == 1


def test_a_bad_input_is_exit_2_with_one_error_and_no_request(sandbox, portable_job):
    result = portable_job.run({"state": "DONE"})
    assert result.returncode == 2
    (error,) = result.error_lines
    assert "Input 'state'" in error
    assert sandbox.requests() == []


def old_python(where: Path) -> Path:
    """A directory whose python3 says it is 3.8.10 (the real interpreter, with sys.version_info patched)."""
    where.mkdir(parents=True)
    patch = "import sys; sys.version_info = (3, 8, 10, 'final', 0); code = sys.argv.pop(1); exec(code)"
    (where / "python3").write_text(
        "#!/bin/sh\n"
        'while [ $# -gt 0 ] && [ "$1" != -c ]; do shift; done\n'
        '[ "$1" = -c ] || { echo "this fake Python only runs -c" >&2; exit 9; }\n'
        f'shift; exec "{sys.executable}" -c "{patch}" "$@"\n'
    )
    (where / "python3").chmod(0o755)
    return where


def test_a_python_too_old_is_one_error_naming_it(sandbox, portable_job, tmp_path):
    fake = old_python(tmp_path / "old-python")
    result = portable_job.run({}, path_first=fake, extra_env={"PATH": str(fake)})
    assert result.returncode == 2
    assert list(result.steps) == ["setup"]
    (error,) = result.error_lines
    assert error == (
        "::error title=build-status (portable)::Python 3.11 or later is needed, found Python 3.8.10 "
        f"({fake / 'python3'}): add actions/setup-python (python-version: 3.x) before this step."
    )
    assert deps_dirs(portable_job) == []
    assert sandbox.requests() == []


def test_an_old_python_on_path_is_passed_over_for_the_runners_tool_cache(sandbox, portable_job, tmp_path):
    """Windows runners' default python may be older than the wheels need; their tool cache has newer ones."""
    fake = old_python(tmp_path / "old-bin")
    cache = tmp_path / "toolcache"
    python_bin(cache / "Python" / "3.9.13" / "x64" / "bin", real=str(fake / "python3"))
    python_bin(cache / "Python" / "3.12.7" / "x64" / "bin")
    env = {"RUNNER_TOOL_CACHE": str(cache), "PATH": str(fake)}
    result = portable_job.run({"report-job-end": "false"}, path_first=fake, extra_env=env)
    assert result.returncode == 0, result.log
    assert result.steps["setup"].outputs["python"] == sys.executable  # the interpreter itself, not a wrapper
    assert sandbox.bitbucket.statuses(SHA)[0]["state"] == "SUCCESSFUL"


def test_no_python_at_all_is_one_error(sandbox, portable_job, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    # PATH is only that directory: the setup step needs nothing but bash's builtins and Python.
    result = portable_job.run({}, path_first=empty, extra_env={"PATH": str(empty)})
    assert result.returncode == 2
    (error,) = result.error_lines
    assert "found no Python on PATH or in the tool cache" in error
    assert sandbox.requests() == []


def test_a_python_without_pip_is_one_error(sandbox, portable_job, tmp_path):
    """Debian's python3 without python3-pip, for one: a venv made --without-pip stands in for it."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "nopip")], check=True)
    result = portable_job.run({}, path_first=tmp_path / "nopip" / "bin")
    assert result.returncode == 2
    (error,) = result.error_lines
    assert "has no pip: add actions/setup-python before this step." in error
    assert deps_dirs(portable_job) == []
    assert sandbox.requests() == []


def test_python_is_found_as_python_where_there_is_no_python3(sandbox, portable_job, tmp_path):
    """Windows runners: `python` only."""
    only = python_bin(tmp_path / "windows-like")
    (only / "python3").rename(only / "python")
    result = portable_job.run({}, path_first=only, extra_env={"PATH": str(only)})
    assert result.returncode == 0, result.log
    # The interpreter it runs (sys.executable), not the wrapper or shim that PATH names.
    assert result.steps["setup"].outputs["python"] == sys.executable


def test_the_workspace_and_pythonpath_cannot_shadow_our_modules(sandbox, portable_job, tmp_path):
    junk = tmp_path / "junk"
    for where in (junk, portable_job.root / "step0" / "workspace"):  # PYTHONPATH, and the checkout (cwd)
        (where / "build_status").mkdir(parents=True)
        for module in ("requests.py", "urllib3.py", "build_status/__init__.py", "sitecustomize.py"):
            (where / module).write_text("raise SystemExit('shadowed by the workspace or PYTHONPATH')\n")
    result = portable_job.run({}, extra_env={"PYTHONPATH": str(junk), "PYTHONSTARTUP": str(junk / "requests.py")})
    assert result.returncode == 0, result.log
    assert "shadowed" not in result.log
    assert sandbox.bitbucket.statuses(SHA)[0]["state"] == "SUCCESSFUL"


def test_the_launcher_puts_the_dependencies_before_the_interpreters_own(tmp_path):
    """run.py DEPS: a module in DEPS wins over the same module in the interpreter's site-packages."""
    deps = tmp_path / "deps"
    deps.mkdir()
    (deps / "requests.py").write_text("raise SystemExit(42)\n")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "INPUT_BITBUCKET_URL": "http://127.0.0.1:9",
        "INPUT_BITBUCKET_TOKEN": "x",
        "INPUT_COMMIT": SHA,
        "INPUT_STATE": "SUCCESSFUL",
        "INPUT_KEY": "k",
        "INPUT_URL": "https://ci.example.com/1",
    }
    proc = subprocess.run(
        [sys.executable, "-I", "-X", "utf8", str(PORTABLE / "run.py"), str(deps)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 42, proc.stdout + proc.stderr


def _system_python_with_pep668() -> str | None:
    """A system Python that refuses `pip install` (PEP 668) and that the downloaded wheels fit."""
    for candidate in ("/usr/bin/python3",):
        if not os.access(candidate, os.X_OK):
            continue
        probe = (
            "import importlib.util, os, sys, sysconfig; "
            "print(os.path.isfile(os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')), "
            "importlib.util.find_spec('pip') is not None, sys.version_info[:2] == tuple(map(int, sys.argv[1:3])), "
            "sysconfig.get_platform() == sys.argv[3])"
        )
        proc = subprocess.run(
            [candidate, "-I", "-c", probe, *map(str, sys.version_info[:2]), sysconfig.get_platform()],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.stdout.split() == ["True", "True", "True", "True"]:
            return candidate
    return None


def test_an_externally_managed_system_python_works(sandbox, portable_job, tmp_path):
    """Debian's and Homebrew's Pythons refuse `pip install` (PEP 668); `--target` is not refused."""
    system = _system_python_with_pep668()
    if system is None:
        pytest.skip("no externally-managed system Python with pip that the downloaded wheels fit")
    refused = subprocess.run(
        [system, "-I", "-m", "pip", "install", "--dry-run", "--no-index", "--no-deps", "attrs"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0 and "externally-managed-environment" in refused.stdout + refused.stderr
    result = portable_job.run({}, path_first=python_bin(tmp_path / "system", system))
    assert result.returncode == 0, result.log
    assert INSTALLING in result.log
    assert sandbox.bitbucket.statuses(SHA)[0]["state"] == "SUCCESSFUL"


def test_the_python_floor_is_what_the_pinned_wheels_require(wheels):
    """The setup step's floor equals the highest Requires-Python of the pinned wheels."""
    floors = {}
    for wheel in sorted(wheels.glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
            metadata = Parser().parsestr(archive.read(name).decode("utf-8"))
        spec = SpecifierSet(metadata.get("Requires-Python") or "")
        floors[wheel.name] = next(f"3.{minor}" for minor in range(0, 30) if f"3.{minor}" in spec)
    needed = max(floors.values(), key=lambda version: tuple(map(int, version.split("."))))
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import sync_docs
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    assert ".".join(map(str, sync_docs.PORTABLE_PYTHON)) == needed, floors
    setup = yaml.safe_load((PORTABLE / "action.yml").read_text())["runs"]["steps"][0]["run"]
    assert f"sys.exit(v < {sync_docs.PORTABLE_PYTHON!r})" in setup
    assert f"Python {needed} or later is needed" in setup


def test_the_emulation_refuses_expressions_it_cannot_evaluate(tmp_path):
    contexts = {"inputs": {"a": "1"}, "steps": {}, "step_ids": {"run"}, "action_path": "/x", "runner_temp": "/t"}
    assert evaluate("${{ inputs.a }}-${{ steps.run.outputs.b }}-${{ runner.temp }}", contexts) == "1--/t"
    for expression in ("${{ github.sha }}", "${{ inputs.b }}", "${{ steps.other.outputs.b }}", "${{ 1 }}"):
        with pytest.raises(UnsupportedExpression):
            evaluate(expression, contexts)
    action = tmp_path / "action.yml"
    action.write_text(
        yaml.safe_dump(
            {
                "name": "x",
                "description": "x",
                "runs": {"using": "composite", "steps": [{"shell": "bash", "run": "echo ${{ github.token }}"}]},
            }
        )
    )
    with pytest.raises(UnsupportedExpression):
        run_composite(
            Job(sha=SHA), {}, workdir=tmp_path / "w", runner_temp=tmp_path / "t", base_env={}, action_dir=tmp_path
        )


def test_without_a_post_stage_the_default_state_comes_with_a_notice(sandbox, portable_job):
    """A single early step would post SUCCESSFUL before the job's work: the portable variant says so."""
    default = portable_job.run({})
    assert default.returncode == 0, default.log
    notices = [line for line in default.log.splitlines() if line.startswith("::notice title=report-job-end::")]
    assert len(notices) == 1 and "posts SUCCESSFUL now" in notices[0]
    for quiet in ({"report-job-end": "false"}, {"state": "INPROGRESS"}):
        result = portable_job.run(quiet)
        assert result.returncode == 0, result.log
        assert "::notice" not in result.log


def test_the_portable_variant_publishes_the_code_insights_reports_with_the_final_state(sandbox, portable_job, tmp_path):
    from ..integration.insights_files import cobertura, junit

    results = junit(tmp_path / "junit.xml", failed=1)
    coverage = cobertura(tmp_path / "coverage.xml", covered=900, valid=1000)
    inputs = {**REPO, "test-results": str(results), "coverage-results": str(coverage), "coverage-min": "80"}
    result = portable_job.run(inputs, job=Job(sha=SHA, status="failure"))
    assert result.returncode == 0, result.log
    reports = {report["title"]: report for report in sandbox.bitbucket.reports("PRJ", "app", SHA)}
    assert sorted(reports) == ["Coverage: CI › build", "Tests: CI › build"]
    assert reports["Tests: CI › build"]["result"] == "FAIL" and len(reports["Tests: CI › build"]["annotations"]) == 1
    assert reports["Coverage: CI › build"]["result"] == "PASS"
    assert result.outputs["coverage-percent"] == "90.00"
    assert '"title": "Tests: CI › build"' in result.outputs["reports"]
