"""The failed test cases of JUnit reports, gathered in the pass that counts them: names, messages, files and
lines as tools write them, stable external ids, the limit, redaction, and memory."""

from __future__ import annotations

import gc
import hashlib
import io
import os
import tracemalloc
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from build_status import junit
from build_status.junit_failures import MESSAGE_CHARS, Failures, relative
from build_status.model.tests import FailedTest
from build_status.workflow import Console

from .test_junit import GRADLE_CLASS, JEST, PYTEST, SUREFIRE, write

Counts = junit.TestCounts  # not imported by its own name, or pytest would try to collect it


def identifier(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def failures_of(tmp_path: Path, text: str, name: str = "report.xml", **options) -> tuple[FailedTest, ...]:
    write(tmp_path / name, text)
    found = junit.collect((name,), str(tmp_path), **options)
    return found.failures


# --- The reports tools write ----------------------------------------------------------------------------


def test_pytest_failures_errors_and_a_failure_with_a_teardown_error(tmp_path):
    found = junit.collect((write(tmp_path / "junit.xml", PYTEST).name,), str(tmp_path))
    assert found.counts == Counts(passed=2, failed=3, skipped=2)  # counted as before
    assert found.failures == (
        FailedTest(
            "tests.test_api.test_fails",
            "tests.test_api",
            None,
            None,
            "assert 1 == 2",
            identifier("tests.test_api::test_fails"),
        ),
        FailedTest(
            "tests.test_api.test_setup_error",
            "tests.test_api",
            None,
            None,
            "failed on setup with \"fixture 'db' not found\"",
            identifier("tests.test_api::test_setup_error"),
        ),
        # the first of its failure and error gives the message
        FailedTest(
            "tests.test_api.test_fails_and_teardown_errors",
            "tests.test_api",
            None,
            None,
            "boom",
            identifier("tests.test_api::test_fails_and_teardown_errors"),
        ),
    )
    assert found.failures_left_out == 0


#: What pytest writes with ``-o junit_family=xunit1`` for a file whose ``def test_a`` is on line 4 and whose
#: ``def test_c`` (in ``class TestB``) is on line 9: the lines are 0-based.
PYTEST_XUNIT1 = """<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest"
 errors="0" failures="2" skipped="0" tests="3" time="0.035" hostname="vm">
<testcase classname="tests.test_probe" name="test_a" file="tests/test_probe.py" line="3" time="0.001">
<failure message="assert 1 == 2">def test_a():
&gt;       assert 1 == 2
E       assert 1 == 2

tests/test_probe.py:5: AssertionError</failure></testcase>
<testcase classname="tests.test_probe.TestB" name="test_c" file="tests/test_probe.py" line="8" time="0.000">
<failure message="RuntimeError: x">self = &lt;test_probe.TestB object&gt;</failure></testcase>
<testcase classname="tests.test_probe" name="test_ok" file="tests/test_probe.py" line="11" time="0.000"/>
</testsuite></testsuites>"""


def test_pytest_xunit1_files_and_its_0_based_lines(tmp_path):
    failures = failures_of(tmp_path, PYTEST_XUNIT1)
    assert [(f.name, f.file, f.line, f.message) for f in failures] == [
        ("tests.test_probe.test_a", "tests/test_probe.py", 4, "assert 1 == 2"),
        ("tests.test_probe.TestB.test_c", "tests/test_probe.py", 9, "RuntimeError: x"),
    ]


def test_a_pytest_report_before_5_1_is_recognised_by_its_root_suite(tmp_path):
    report = '<testsuite name="pytest"><testcase name="a" file="t.py" line="0"><error/></testcase></testsuite>'
    assert failures_of(tmp_path, report)[0].line == 1


def test_a_pytest_report_of_5_1_to_8_3_is_recognised_by_its_outer_suite(tmp_path):
    # before pytest 8.4 (PR 13404) the root <testsuites> carried no name
    report = (
        '<testsuites><testsuite name="pytest"><testcase name="a" file="t.py" line="0"><failure/></testcase>'
        "</testsuite></testsuites>"
    )
    assert failures_of(tmp_path, report)[0].line == 1


def test_other_tools_lines_are_1_based_and_kept(tmp_path):
    # PHPUnit writes the file and the 1-based line of the test method, and its class as "class"
    report = """<testsuites><testsuite name="App\\Tests\\CartTest" file="/app/tests/CartTest.php">
      <testcase name="testRemove" class="App\\Tests\\CartTest" file="/app/tests/CartTest.php" line="12">
        <failure type="PHPUnit\\Framework\\ExpectationFailedException">Failed asserting that 2 is 1.</failure>
      </testcase></testsuite></testsuites>"""
    failures = Failures("/app")  # the repository root
    junit.count_file(str(write(tmp_path / "phpunit.xml", report)), "phpunit.xml", failures)
    (failure,) = failures.kept
    assert failure == FailedTest(
        "App\\Tests\\CartTest.testRemove",
        "App\\Tests\\CartTest",
        "tests/CartTest.php",
        12,
        "Failed asserting that 2 is 1.",
        identifier("App\\Tests\\CartTest::testRemove"),
    )


def test_surefire_errors_and_failures_but_not_flaky_tests(tmp_path):
    failures = failures_of(tmp_path, SUREFIRE)
    assert [(f.name, f.file, f.line, f.message) for f in failures] == [
        ("com.example.CalculatorTest.overflows", None, None, "boom"),
        ("com.example.CalculatorTest.rounds", None, None, "expected: <1.0> but was: <0.9>"),
    ]


def test_gradle_per_class_reports(tmp_path):
    results = tmp_path / "build" / "test-results" / "test"
    failure = '<failure message="boom" type="java.lang.AssertionError">java.lang.AssertionError: boom</failure>'
    write(results / "TEST-com.example.GreeterTest.xml", GRADLE_CLASS.format(name="GreeterTest", failures=0, outcome=""))
    write(
        results / "TEST-com.example.ParserTest.xml", GRADLE_CLASS.format(name="ParserTest", failures=1, outcome=failure)
    )
    found = junit.collect(("**/TEST-*.xml",), str(tmp_path))
    assert found.failures == (
        FailedTest(
            "com.example.ParserTest.checks()",
            "com.example.ParserTest",
            None,
            None,
            "boom",
            identifier("com.example.ParserTest::checks()"),
        ),
    )


def test_jest_junit_message_from_the_text_and_the_name_once(tmp_path):
    (failure,) = failures_of(tmp_path, JEST)
    assert failure.name == "math divides by zero"  # its classname is the same words
    assert failure.classname == "math divides by zero"
    assert failure.message == (
        "Error: expect(received).toBe(expected) // Object.is equality\n\nExpected: Infinity\nReceived: NaN\n"
        "    at Object.<anonymous> (src/math.test.js:9:19)"
    )
    assert failure.file is None


@pytest.mark.parametrize(
    ("child", "message"),
    [
        ('<failure message="from the attribute">from the text</failure>', "from the attribute"),
        ('<failure message="  ">\n  from the text\n</failure>', "from the text"),
        ('<error type="java.lang.NullPointerException"/>', "java.lang.NullPointerException"),
        ("<failure/>", ""),
        ("<error>one\r\ntwo\r\nthree\nfour\nfive\nsix\nseven</error>", "one\ntwo\nthree\nfour\nfive"),
        ('<failure message="first&#10;second"/><error message="teardown"/>', "first\nsecond"),
        ("<skipped/><failure>after a skip</failure>", "after a skip"),
        ("<system-out><failure>no</failure></system-out><error>yes</error>", "yes"),
    ],
)
def test_the_message(tmp_path, child, message):
    (failure,) = failures_of(tmp_path, f'<testsuite><testcase classname="C" name="t">{child}</testcase></testsuite>')
    assert failure.message == message


def test_a_long_message_is_cut(tmp_path):
    report = f'<testsuite><testcase name="t"><failure message="{"x" * 5000}"/></testcase></testsuite>'
    (failure,) = failures_of(tmp_path, report)
    assert failure.message == "x" * (MESSAGE_CHARS - 1) + "…"


def test_passed_and_skipped_tests_are_no_failures(tmp_path):
    report = """<testsuite><testcase name="a"/><testcase name="b"><skipped message="no"/></testcase>
      <testcase name="c"><flakyFailure message="once"/></testcase>
      <testcase name="d"><system-out><error/></system-out></testcase></testsuite>"""
    found = junit.collect((write(tmp_path / "r.xml", report).name,), str(tmp_path))
    assert found.counts == Counts(passed=3, failed=0, skipped=1)
    assert (found.failures, found.failures_left_out) == ((), 0)


def test_namespaced_reports(tmp_path):
    report = '<j:testsuite xmlns:j="urn:x"><j:testcase name="a"><j:failure message="m"/></j:testcase></j:testsuite>'
    assert [f.message for f in failures_of(tmp_path, report)] == ["m"]


def test_count_file_gathers_only_when_asked(tmp_path):
    path = str(write(tmp_path / "r.xml", PYTEST))
    failures = Failures(str(tmp_path))
    assert junit.count_file(path, "r.xml", failures) == junit.count_file(path) == Counts(2, 3, 2)
    assert len(failures.kept) == 3


@pytest.mark.parametrize(
    ("classname", "name", "shown"),
    [
        ("tests.test_api", "test_fails", "tests.test_api.test_fails"),
        ("t", "test_x", "t.test_x"),  # a class name that only starts the name
        ("math", "math adds", "math adds"),  # jest-junit with classNameTemplate "{suitename}"
        ("math adds", "math adds", "math adds"),
        ("a.B", "a.B.test", "a.B.test"),
        ("", "test_x", "test_x"),
    ],
)
def test_the_name_says_the_class_once(tmp_path, classname, name, shown):
    case = f"<testcase classname={quoteattr(classname)} name={quoteattr(name)}><failure/></testcase>"
    report = f"<testsuite>{case}</testsuite>"
    assert failures_of(tmp_path, report)[0].name == shown


# --- Paths ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "root", "shown"),
    [
        ("tests/test_x.py", "/work/repo", "tests/test_x.py"),
        ("./tests/./test_x.py", "/work/repo", "tests/test_x.py"),
        ("/work/repo/tests/test_x.py", "/work/repo", "tests/test_x.py"),
        ("/work/repo/tests/test_x.py", "/work/repo/", "tests/test_x.py"),
        ("/work/repository/test_x.py", "/work/repo", "work/repository/test_x.py"),
        ("/opt/other/test_x.py", "/work/repo", "opt/other/test_x.py"),
        ("//server/share/x.py", "/work/repo", "server/share/x.py"),
        ("/work/repo/x.py", "/", "work/repo/x.py"),
        ("tests\\unit\\test_x.py", "/work/repo", "tests/unit/test_x.py"),
        ("C:\\work\\repo\\tests\\test_x.py", "C:\\work\\repo", "tests/test_x.py"),
        ("c:\\work\\repo\\tests\\test_x.py", "C:\\work\\repo", "tests/test_x.py"),
        ("D:\\other\\test_x.py", "C:\\work\\repo", "D:/other/test_x.py"),
        ("\\work\\repo\\src\\x.cs", "/work/repo", "src/x.cs"),
        ("", "/work/repo", None),
        ("  ", "/work/repo", None),
        ("/work/repo", "/work/repo", "work/repo"),
        (".", "/work/repo", None),
    ],
)
def test_relative_paths(path, root, shown):
    assert relative(path, Failures(root).root) == shown


def test_absolute_files_under_the_root_become_relative(tmp_path):
    root = tmp_path / "workspace"
    report = f"""<testsuite><testcase classname="c" name="a" file={quoteattr(str(root / "tests" / "test_a.py"))}
      line="41"><failure/></testcase></testsuite>"""
    write(root / "reports" / "junit.xml", report)
    (failure,) = junit.collect(("reports/*.xml",), str(root)).failures
    assert (failure.file, failure.line) == ("tests/test_a.py", 41)


def test_the_root_defaults_to_the_working_directory(tmp_path, monkeypatch):
    report = f'<testsuite><testcase name="a" file="{tmp_path}/src/a.ts" line="3"><error/></testcase></testsuite>'
    write(tmp_path / "junit.xml", report)
    monkeypatch.chdir(tmp_path)
    assert junit.collect(("junit.xml",)).failures[0].file == "src/a.ts"


@pytest.mark.parametrize(
    ("attributes", "place"),
    [
        ('file="a.py" line="7"', ("a.py", 7)),
        ('file="a.py"', ("a.py", None)),
        ('line="7"', (None, None)),  # a line without a file says nothing
        ('file="a.py" line="-1"', ("a.py", None)),
        ('file="a.py" line="0"', ("a.py", None)),  # not pytest's: 1-based, so no line
        ('file="a.py" line="seven"', ("a.py", None)),
        ('file="a.py" line="²"', ("a.py", None)),
        ("", (None, None)),
    ],
)
def test_file_and_line_present_and_absent(tmp_path, attributes, place):
    (failure,) = failures_of(tmp_path, f'<testsuite><testcase name="t" {attributes}><failure/></testcase></testsuite>')
    assert (failure.file, failure.line) == place


# --- External ids ---------------------------------------------------------------------------------------


def test_the_same_run_twice_gives_the_same_ids(tmp_path):
    write(tmp_path / "a" / "junit.xml", PYTEST)
    write(tmp_path / "b" / "TEST-x.xml", SUREFIRE)
    first = junit.collect(("**/*.xml",), str(tmp_path)).failures
    second = junit.collect(("**/*.xml",), str(tmp_path)).failures
    assert [f.external_id for f in first] == [f.external_id for f in second]
    assert len({f.external_id for f in first}) == 5
    assert all(len(f.external_id) == 32 and int(f.external_id, 16) >= 0 for f in first)


def test_the_same_name_in_two_classes_gives_two_ids(tmp_path):
    report = """<testsuite><testcase classname="a.A" name="test_x"><failure/></testcase>
      <testcase classname="b.B" name="test_x"><failure/></testcase></testsuite>"""
    first, second = failures_of(tmp_path, report)
    assert first.external_id == identifier("a.A::test_x")
    assert second.external_id == identifier("b.B::test_x")


def test_a_repeated_test_gets_a_numbered_id_deterministically(tmp_path):
    # the same classname and name in two files (jest's classname is the test's title; a test run twice)
    case = '<testsuite><testcase classname="adds" name="adds" file="{}"><failure/></testcase></testsuite>'
    write(tmp_path / "a.xml", case.format("src/a.test.js"))
    write(tmp_path / "b.xml", case.format("src/b.test.js"))
    # a test whose own name is what the numbering would give: still no two ids alike
    write(tmp_path / "c.xml", '<testsuite><testcase classname="adds" name="adds::2"><error/></testcase></testsuite>')
    runs = [junit.collect(("*.xml",), str(tmp_path)).failures for _ in range(2)]
    assert runs[0] == runs[1]
    assert [(f.file, f.external_id) for f in runs[0]] == [
        ("src/a.test.js", identifier("adds::adds")),
        ("src/b.test.js", identifier("adds::adds::2")),
        (None, identifier("adds::adds::2::2")),
    ]


# --- The limit ------------------------------------------------------------------------------------------


def many(count: int, start: int = 0) -> str:
    cases = "".join(
        f'<testcase classname="c.C" name="t{n}"><failure message="m{n}"/></testcase>'
        for n in range(start, start + count)
    )
    return f"<testsuite>{cases}</testsuite>"


def test_1001_failures_keep_1000_and_count_the_one_left_out(tmp_path):
    write(tmp_path / "r.xml", many(1001))
    found = junit.collect(("r.xml",), str(tmp_path))
    assert found.counts == Counts(0, 1001, 0)
    assert len(found.failures) == 1000
    assert found.failures[-1].message == "m999"
    assert found.failures_left_out == 1


def test_the_limit_spans_the_files(tmp_path):
    write(tmp_path / "a.xml", many(3))
    write(tmp_path / "b.xml", many(3, start=3))
    found = junit.collect(("*.xml",), str(tmp_path), limit=4)
    assert [f.message for f in found.failures] == ["m0", "m1", "m2", "m3"]
    assert found.failures_left_out == 2
    assert found == junit.Collected(Counts(0, 6, 0), ("a.xml", "b.xml"), ())  # the counts compare as before


# --- Redaction ------------------------------------------------------------------------------------------

SECRET = "s3cr3t-T0ken-f00d"


@pytest.fixture
def registered():
    """A console that registered SECRET, as the command line does with every secret input."""
    console = Console({}, out=io.StringIO(), err=io.StringIO())
    console.secret(SECRET)
    yield console
    del console
    gc.collect()


def test_a_registered_secret_is_redacted_in_every_text(tmp_path, registered):
    report = f"""<testsuite><testcase classname="c.{SECRET}" name="t[{SECRET}]" file="/{SECRET}/t.py">
      <failure message="401 for token={SECRET}: refused"/></testcase></testsuite>"""
    (failure,) = failures_of(tmp_path, report)
    assert SECRET not in "".join(str(field) for field in failure)
    assert failure.message == "401 for token=***: refused"
    assert failure.name == "c.***.t[***]"
    assert failure.file == "***/t.py"


@pytest.mark.parametrize("before", range(MESSAGE_CHARS - len(SECRET), MESSAGE_CHARS + 1))
def test_a_secret_across_the_cut_leaves_no_piece(tmp_path, registered, before):
    report = f'<testsuite><testcase name="t"><failure message="{"x" * before}{SECRET}tail"/></testcase></testsuite>'
    (failure,) = failures_of(tmp_path, report)
    assert len(failure.message) <= MESSAGE_CHARS
    assert SECRET[:3] not in failure.message


def test_a_secret_in_the_text_after_the_fifth_line_is_not_needed_to_be_cut(tmp_path, registered):
    text = "\n".join(["line"] * 4 + [f"token {SECRET}", SECRET])
    (failure,) = failures_of(tmp_path, f'<testsuite><testcase name="t"><error>{text}</error></testcase></testsuite>')
    assert failure.message == "line\nline\nline\nline\ntoken ***"


# --- Memory ---------------------------------------------------------------------------------------------


def test_50_000_cases_with_1_000_failures_in_little_memory(tmp_path):
    path = tmp_path / "large.xml"
    trace = "\n".join(f"    at com.example.Frame{n}(Frame.java:{n})" for n in range(30))
    with path.open("w") as out:
        out.write('<testsuites name="pytest tests"><testsuite name="pytest">')
        for number in range(50_000):
            out.write(f'<testcase classname="c.C" name="t{number}" file="tests/t.py" line="{number}">')
            if number % 50 == 7:
                out.write(f'<failure message="assert {number}">{trace}</failure>')
            out.write(f"<system-out>out {number}</system-out></testcase>")
        out.write("</testsuite></testsuites>")
    junit.collect(("large.xml",), str(tmp_path), limit=1)  # the imports, outside the measurement
    tracemalloc.start()
    try:
        found = junit.collect(("large.xml",), str(tmp_path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found.counts == Counts(49_000, 1_000, 0)
    assert (len(found.failures), found.failures_left_out) == (1_000, 0)
    assert found.failures[0] == FailedTest("c.C.t7", "c.C", "tests/t.py", 8, "assert 7", identifier("c.C::t7"))
    assert os.path.getsize(path) > 5_000_000
    # the 1,000 failures themselves take some hundreds of KB; a report kept whole would take many MB
    assert peak < 1_500_000
