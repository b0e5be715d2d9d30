"""The quick start's first command: the demo runs a matrix against the sandbox and ends green."""

import subprocess
import sys
from pathlib import Path

#: The sandbox's command line, as scripts/setup installs it next to the interpreter (scripts/demo runs it).
SANDBOX_COMMAND = Path(sys.executable).with_name("build-status-sandbox")


def test_demo_goes_red_then_green_after_the_rerun():
    proc = subprocess.run([str(SANDBOX_COMMAND), "demo"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    tallies = [line for line in lines if "tally" in line]
    assert tallies[0].endswith("2 successful, 1 failed → red: a FAILED key fails the commit")
    assert tallies[1].endswith("3 successful → green")
    assert sum("INPROGRESS → " in line for line in lines) == 4
    # One step per job: the post stage posts the end, with the counts of the job's JUnit report.
    assert "INPROGRESS → FAILED  (11 passed, 1 failed, 2 report(s), coverage 87.33%)" in proc.stdout
    # Code Insights: a tests and a coverage report per job; the failed test annotated, then replaced by the re-run
    insights = [line for line in lines if "Code Insights on" in line]
    assert insights[0].endswith("6 report(s), 1 failing (1 annotation(s))")
    assert insights[1].endswith("6 report(s), 0 failing (0 annotation(s))")
    assert "\033[" not in proc.stdout  # no colours when not on a terminal
