"""The test and coverage readers on large reports: a 50,000-case JUnit report with 1,000 failures, and a
10,000-file Cobertura report. Each is read in a child process of its own (as a step reads them), timed from
the call to its return, with its peak memory as tracemalloc counts the Python allocations."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CASES, FAILURES = 50_000, 1_000
FILES, LINES_PER_FILE = 10_000, 40

#: Run in the child: read the report, print the seconds and the peak bytes as JSON.
PROBE = """
import json, sys, time, tracemalloc
sys.path.insert(0, sys.argv[1])
from build_status import junit, coverage
reader = {"junit": lambda p: junit.collect((p,)), "coverage": lambda p: coverage.collect_coverage((p,))}[sys.argv[2]]
tracemalloc.start()
started = time.perf_counter()
found = reader(sys.argv[3])
elapsed = time.perf_counter() - started
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"seconds": elapsed, "peak": peak}))
"""


def write_junit(path: Path) -> None:
    """pytest-like: CASES test cases in 100 suites, every 50th failing with a 20-line traceback."""
    trace = "\n".join(f'  File "tests/test_mod.py", line {line}, in test_case' for line in range(20))
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="pytest tests">\n')
        per_suite = CASES // 100
        for suite in range(100):
            out.write(f'<testsuite name="suite{suite}" tests="{per_suite}">\n')
            for case in range(per_suite):
                number = suite * per_suite + case
                out.write(f'<testcase classname="tests.test_mod{suite}" name="test_{number}" time="0.001"')
                if number % (CASES // FAILURES) == 0:
                    out.write(f'><failure message="assert {number} == 0">{trace}</failure></testcase>\n')
                else:
                    out.write("/>\n")
            out.write("</testsuite>\n")
        out.write("</testsuites>\n")


def write_cobertura(path: Path) -> None:
    """coverage.py-like: FILES files of LINES_PER_FILE lines, three in four covered, with the totals coverage.py
    writes on the root (the whole file is still parsed, to refuse a broken one)."""
    total = FILES * LINES_PER_FILE
    covered = FILES * sum(1 for line in range(1, LINES_PER_FILE + 1) if line % 4 != 0)
    with path.open("w", encoding="utf-8") as out:
        out.write(f'<?xml version="1.0" ?>\n<coverage version="7.6" timestamp="0" lines-valid="{total}" '
                  f'lines-covered="{covered}" line-rate="{covered / total:.4g}">\n<packages>\n')  # fmt: skip
        for package in range(FILES // 100):
            out.write(f'<package name="pkg{package}"><classes>\n')
            for number in range(100):
                out.write(f'<class name="m{number}.py" filename="pkg{package}/m{number}.py"><lines>\n')
                for line in range(1, LINES_PER_FILE + 1):
                    out.write(f'<line number="{line}" hits="{int(line % 4 != 0)}"/>\n')
                out.write("</lines></class>\n")
            out.write("</classes></package>\n")
        out.write("</packages>\n</coverage>\n")


def measure(src: Path, reader: str, report: Path, repeat: int) -> tuple[list[float], int]:
    """The seconds of each of ``repeat`` readings, and the highest peak."""
    seconds, peak = [], 0
    for _ in range(repeat):
        proc = subprocess.run(
            [sys.executable, "-c", PROBE, str(src), reader, str(report)],
            capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
        result = json.loads(proc.stdout)
        seconds.append(result["seconds"])
        peak = max(peak, result["peak"])
    return seconds, peak
