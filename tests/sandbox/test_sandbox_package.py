"""The sandbox (sandbox/, its own distribution) uses the client through a few named modules only: the input
catalogue (the runner harness) and Bitbucket's contract and states (what the emulation validates). Nothing
of the client's command line."""

from __future__ import annotations

import ast
from pathlib import Path

import build_status_sandbox

#: Each client module the sandbox may import, and the sandbox modules that may import it.
ALLOWED = {
    "build_status.config.catalogue": {"runner.py"},
    "build_status.remotes.bitbucket_dc.contract": {"bitbucket.py"},
    "build_status.model.states": {"bitbucket_validation.py"},
    "build_status.arguments": {"usage.py"},
    "build_status.workflow": {"usage.py"},
}


def client_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found |= {
                f"{node.module}.{alias.name}" if node.module == "build_status" else node.module for alias in node.names
            }
    return {name for name in found if name == "build_status" or name.startswith("build_status.")}


def test_the_sandbox_imports_only_the_named_client_modules():
    package = Path(build_status_sandbox.__file__).parent
    assert package.parent.parent.name == "sandbox"  # sandbox/src/build_status_sandbox
    used = {}
    for path in sorted(package.glob("*.py")):
        for name in client_imports(path):
            assert path.name in ALLOWED.get(name, ()), f"{path.name} imports {name}"
            used.setdefault(name, set()).add(path.name)
    assert used == ALLOWED  # and each of them is still needed
