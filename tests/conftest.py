"""Every suite: each step run through the runner emulation is scanned for secrets (tests/secret_scan.py)."""

from __future__ import annotations

from build_status_sandbox import runner

from .secret_scan import scan_step


def pytest_configure(config):
    if scan_step not in runner.STEP_CHECKS:
        runner.STEP_CHECKS.append(scan_step)
