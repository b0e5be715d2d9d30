"""Running a package's command line as a process (``python -m``), with a fixed terminal width."""

from __future__ import annotations

import subprocess
import sys


def run_module(module: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60):
    """``python -m module args…`` with a bare environment (PATH, 100 columns, plus ``env``)."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "100", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def flat(text: str) -> str:
    """The help text with its line wrapping undone."""
    return " ".join(text.split())
