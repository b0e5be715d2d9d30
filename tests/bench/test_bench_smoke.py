"""bench/run.py runs end to end (one repetition) and prints the post and Coveralls rows with figures.

Timings are not asserted: only that the benchmark works.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIGURE = re.compile(r"^\d+ ms$")


def _rows(table: str, measure: str) -> list[list[str]]:
    """The cells of the table rows whose first cell is ``measure``."""
    rows = []
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if line.startswith("|") and cells[0] == measure:
            rows.append(cells)
    return rows


def test_bench_runs_the_post_and_coveralls_parts():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--repeat", "1", "--only", "post", "--only", "coveralls"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    post = _rows(proc.stdout, "One status post")
    coveralls = _rows(proc.stdout, "Closing a Coveralls parallel build")
    assert post and coveralls, proc.stdout
    measured = [cells for cells in [*post, *coveralls] if not cells[1].startswith("n/a")]  # n/a: no curl
    assert [post[0], coveralls[0]] == measured[:1] + measured[-1:]
    for cells in measured:
        assert FIGURE.match(cells[1]) and FIGURE.match(cells[3]), cells
        assert re.match(r"^\d+\.\d+×$", cells[4]), cells
    assert post[0][6] in ("PASS", "FAIL") and coveralls[0][6] in ("PASS", "FAIL")


def test_bench_reads_the_large_reports_and_says_their_peak_memory():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--repeat", "1", "--only", "reports"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    junit = _rows(proc.stdout, "Reading a JUnit report: 50,000 cases, 1,000 failures")
    cobertura = _rows(proc.stdout, "Reading a Cobertura report: 10,000 files")
    for (cells,) in (junit, cobertura):
        assert FIGURE.match(cells[1]), cells
        assert re.search(r"peak \d+\.\d MB of Python allocations", cells[7]), cells
