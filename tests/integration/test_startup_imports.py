"""A plain status post loads only what it needs: start-up is most of a step's cost (docs/performance.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import build_status
from build_status_sandbox.runner import ENTRYPOINT

from .conftest import COVERALLS_TOKEN, SHA, WEBAPPIO_TOKEN

#: Prints, at exit, which of the optional heavy modules the step loaded (dataclasses costs ~7 ms, most of
#: it the inspect it imports: the step's records are NamedTuples and slotted classes instead).
PROBE = f"""
import atexit, runpy, sys
WATCH = ("argparse", "jsonschema", "dataclasses", "inspect", "build_status.tasks.relay",
         "build_status.tasks.close_coverage", "build_status.tasks.post", "build_status.tasks.gate",
         "build_status.remotes.webappio", "build_status.remotes.coveralls", "build_status_sandbox")
atexit.register(lambda: print("LOADED=" + ",".join(m for m in WATCH if m in sys.modules), file=sys.stderr))
sys.argv = [{str(ENTRYPOINT)!r}]
runpy.run_path({str(ENTRYPOINT)!r}, run_name="__main__")
"""


def _loaded(result) -> set[str]:
    line = next(line for line in result.stderr.splitlines() if line.startswith("LOADED="))
    return set(filter(None, line.removeprefix("LOADED=").split(",")))


@pytest.fixture
def probe_step(step, monkeypatch):
    import build_status_sandbox.runner as runner

    monkeypatch.setattr(runner, "default_command", lambda *_: [sys.executable, "-c", PROBE])
    return step


def test_a_status_post_loads_neither_argparse_nor_jsonschema_nor_dataclasses_nor_the_other_parts(probe_step, sandbox):
    result = probe_step({"state": "SUCCESSFUL"})
    assert result.returncode == 0, result.stderr
    assert _loaded(result) == {"build_status.tasks.post"}
    assert len(sandbox.bitbucket.statuses(SHA)) == 1


def test_a_coverage_close_loads_only_its_part(probe_step, sandbox):
    sandbox.coveralls.register_job("4242", repo_token=COVERALLS_TOKEN)
    result = probe_step(
        {
            "bitbucket-url": "",
            "bitbucket-token": "",
            "coveralls-repo-token": COVERALLS_TOKEN,
            "coveralls-endpoint": sandbox.url,
            "coveralls-parallel-finished": "true",
        }
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert _loaded(result) == {"build_status.tasks.close_coverage", "build_status.remotes.coveralls"}


def test_a_webappio_relay_loads_its_parts_but_not_dataclasses(probe_step, sandbox):
    result = probe_step(
        {
            "webappio-token": WEBAPPIO_TOKEN,
            "webappio-repo": "sandbox-app",
            "webappio-endpoint": sandbox.webappio_url,
            "webappio-trigger": "true",
            "webappio-poll-interval": "0.1s",
        }
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert _loaded(result) == {"build_status.tasks.relay", "build_status.tasks.post", "build_status.remotes.webappio"}
    assert [status["state"] for status in sandbox.bitbucket.statuses(SHA)] == ["SUCCESSFUL"]


def test_a_body_the_contract_rejects_still_gets_jsonschema_s_message(probe_step, sandbox):
    result = probe_step({"state": "SUCCESSFUL", "key": "k" * 256})
    assert result.returncode == 2
    assert "jsonschema" in _loaded(result)
    assert result.error_lines == [
        "::error title=build-status%3A invalid input::Input 'key': is 256 characters; "
        "the commit-only endpoint takes at most 255."
    ]


#: Prints which modules of the sandbox (sandbox/, or the old build_status.sandbox) are loaded after importing
#: the client's command line, and again after running the two commands that moved to build-status-sandbox.
NO_SANDBOX = """
import io, sys
from contextlib import redirect_stderr
def sandbox_modules():
    return sorted(m for m in sys.modules if m.startswith(("build_status_sandbox", "build_status.sandbox")))
import build_status.cli
print("IMPORTED", sandbox_modules())
with redirect_stderr(io.StringIO()) as err:
    codes = [build_status.cli.main(argv, env={}) for argv in (["sandbox", "--port", "0"], ["demo"])]
print("RAN", codes, sandbox_modules())
print(err.getvalue(), end="")
"""


def test_the_client_s_command_line_never_imports_the_sandbox():
    result = subprocess.run([sys.executable, "-c", NO_SANDBOX], capture_output=True, text=True, timeout=60, check=True)
    lines = result.stdout.splitlines()
    assert lines[:2] == ["IMPORTED []", "RAN [2, 2] []"], result.stdout + result.stderr
    # Each moved command is one error line that names the sandbox's own command.
    assert lines[2:] == [
        "error: build-status sandbox: the sandbox is the separate command build-status-sandbox serve|demo "
        "(scripts/setup installs it; elsewhere pip install ./sandbox): run build-status-sandbox serve",
        "error: build-status demo: the sandbox is the separate command build-status-sandbox serve|demo "
        "(scripts/setup installs it; elsewhere pip install ./sandbox): run build-status-sandbox demo",
    ]


def test_nothing_in_the_client_imports_the_sandbox():
    """A source scan of src/build_status: no import of build_status_sandbox (nor of a sandbox or demo module
    of its own), and the name nowhere, so no importlib call reaches it either."""
    client = Path(build_status.__file__).parent
    sources = sorted(client.rglob("*.py"))
    assert sources and not (client / "sandbox").exists() and not (client / "demo.py").exists()
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "build_status_sandbox" not in text, path
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "") + "." + alias.name for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.lstrip(".").split(".")
                assert parts[0] != "build_status_sandbox", f"{path}: imports {name}"
                assert "sandbox" not in parts and "demo" not in parts, f"{path}: imports {name}"


def test_the_command_line_loads_no_http_stack_before_a_request_is_due():
    """Reading the inputs (and refusing a wrong one, or printing --help) costs no requests/urllib3 import: the
    remotes build their requests from pure modules and load the HTTP stack when they connect."""
    code = (
        "import sys, build_status.cli\n"
        "print(sorted(m for m in ('requests', 'urllib3', 'build_status.transport.session') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout.strip() == "[]"
