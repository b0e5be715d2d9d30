"""Report files the Code Insights integration tests write into a step's workspace: JUnit XML (pytest's
form, with file and line) and coverage reports in each format the step reads."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape


def junit(
    path: Path,
    passed: int = 3,
    failed: int = 1,
    skipped: int = 1,
    errored: int = 0,
    *,
    root: str = "pytest tests",
    message: str = "assert {n} == {m}",
) -> Path:
    """A pytest-like JUnit report: failed cases carry ``file`` and a 0-based ``line``.

    ``root``: the ``name`` of ``<testsuites>`` (pytest 8.4+ writes "pytest tests"; 5.1 to 8.3 wrote none,
    ``""``). ``message``: each failure's message, ``{n}`` and ``{m}`` the failure's number and the next one.
    """
    cases = [f'<testcase classname="tests.test_app" name="test_ok_{n}" file="tests/test_app.py" line="{n}" '
             'time="0.01"/>' for n in range(passed)]  # fmt: skip
    cases += [
        f'<testcase classname="tests.test_app" name="test_bad_{n}" file="tests/test_app.py" line="{100 + n}" '
        f'time="0.02"><failure message="{escape(message.format(n=n, m=n + 1), {chr(34): "&quot;"})}">'
        f"Traceback line {n}</failure></testcase>"
        for n in range(failed)
    ]
    cases += [
        f'<testcase classname="tests.test_db" name="test_err_{n}" time="0.02">'
        f'<error message="ConnectionError: db down">trace</error></testcase>'
        for n in range(errored)
    ]
    cases += [
        f'<testcase classname="tests.test_app" name="test_skip_{n}" time="0"><skipped message="later"/></testcase>'
        for n in range(skipped)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        + (f'<testsuites name="{root}">' if root else "<testsuites>")
        + '<testsuite name="pytest">'
        + "".join(cases)
        + "</testsuite></testsuites>\n",
        encoding="utf-8",
    )
    return path


def cobertura(path: Path, covered: int = 873, valid: int = 1000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'<?xml version="1.0" ?>\n<coverage version="7.4" timestamp="1" lines-valid="{valid}" '
        f'lines-covered="{covered}" line-rate="{covered / valid:.4g}" branches-covered="0" branches-valid="0" '
        'branch-rate="0" complexity="0"><sources><source>/src</source></sources><packages/></coverage>\n',
        encoding="utf-8",
    )
    return path


def jacoco(path: Path, covered: int = 90, missed: int = 10) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">'
        f'<report name="app"><counter type="INSTRUCTION" missed="5" covered="50"/>'
        f'<counter type="LINE" missed="{missed}" covered="{covered}"/></report>',
        encoding="utf-8",
    )
    return path


def lcov(path: Path, hit: int = 7, found: int = 10) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"TN:\nSF:/repo/src/a.js\nDA:1,1\nLH:{hit}\nLF:{found}\nend_of_record\n", encoding="utf-8")
    return path


def workspace(root: Path, failed: int = 2, errored: int = 0) -> Path:
    """A step's workspace ``root/ws`` as the tests left it: ``reports/junit.xml`` (3 passed, ``failed``
    failed, ``errored`` errored, 1 skipped) and ``coverage.xml`` (87.3% of 1,000 lines)."""
    path = root / "ws"
    junit(path / "reports" / "junit.xml", failed=failed, errored=errored)
    cobertura(path / "coverage.xml")
    return path
