"""Counting tests in JUnit XML reports: the formats tools really write, hostile files, and the file globbing."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from build_status import junit
from build_status.errors import InputError
from build_status.model.status import BuildStatus
from build_status.remotes.bitbucket_dc import payload

Counts = junit.TestCounts  # not imported by its own name, or pytest would try to collect it


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def count(tmp_path: Path, text: str | bytes, name: str = "report.xml") -> junit.TestCounts:
    return junit.count_file(str(write(tmp_path / name, text)), name)


def refused(tmp_path: Path, text: str | bytes, name: str = "reports/x.xml") -> InputError:
    with pytest.raises(InputError) as caught:
        junit.count_file(str(write(tmp_path / name, text)), name)
    assert caught.value.name == "test-results"
    assert name in caught.value.message
    return caught.value


# --- The reports tools write ----------------------------------------------------------------------------

PYTEST = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="2" skipped="2" tests="7"
 time="0.412" timestamp="2024-05-01T10:00:00.000000+00:00" hostname="runner-1">
<testcase classname="tests.test_api" name="test_ok" time="0.001">
  <properties><property name="issue" value="ABC-1" /></properties>
</testcase>
<testcase classname="tests.test_api" name="test_param[a-1]" time="0.001" />
<testcase classname="tests.test_api" name="test_fails" time="0.002"><failure message="assert 1 == 2">def test_fails():
&gt;       assert 1 == 2
E       assert 1 == 2

tests/test_api.py:12: AssertionError</failure><system-out>--- captured ---</system-out></testcase>
<testcase classname="tests.test_api" name="test_setup_error" time="0.000">
<error message="failed on setup with &quot;fixture 'db' not found&quot;">file tests/test_api.py, line 20
  def test_setup_error(db):
E       fixture 'db' not found</error></testcase>
<testcase classname="tests.test_api" name="test_fails_and_teardown_errors" time="0.003">
<failure message="boom">AssertionError: boom</failure>
<error message="failed on teardown">RuntimeError</error></testcase>
<testcase classname="tests.test_api" name="test_skip" time="0.000">
<skipped type="pytest.skip" message="not on linux">tests/test_api.py:30: not on linux</skipped></testcase>
<testcase classname="tests.test_api" name="test_xfail" time="0.001">
<skipped type="pytest.xfail" message="known bug" /></testcase>
</testsuite></testsuites>
"""

SUREFIRE = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xsi:noNamespaceSchemaLocation="https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report-3.0.xsd"
 version="3.0" name="com.example.CalculatorTest" time="0.052" tests="6" errors="1" skipped="1" failures="1">
  <properties>
    <property name="java.version" value="17.0.9"/>
    <property name="surefire.rerunFailingTestsCount" value="2"/>
  </properties>
  <testcase name="adds" classname="com.example.CalculatorTest" time="0.003"/>
  <testcase name="divides" classname="com.example.CalculatorTest" time="0.010">
    <flakyFailure message="expected: &lt;2&gt; but was: &lt;3&gt;" type="org.opentest4j.AssertionFailedError">
      <stackTrace>org.opentest4j.AssertionFailedError: expected: &lt;2&gt; but was: &lt;3&gt;
	at com.example.CalculatorTest.divides(CalculatorTest.java:21)</stackTrace>
      <system-out>first run</system-out>
    </flakyFailure>
  </testcase>
  <testcase name="connects" classname="com.example.CalculatorTest" time="0.020">
    <flakyError message="Connection refused" type="java.net.ConnectException"><stackTrace>...</stackTrace></flakyError>
  </testcase>
  <testcase name="overflows" classname="com.example.CalculatorTest" time="0.004">
    <error message="boom" type="java.lang.IllegalStateException">java.lang.IllegalStateException: boom
	at com.example.Calculator.overflow(Calculator.java:40)</error>
  </testcase>
  <testcase name="rounds" classname="com.example.CalculatorTest" time="0.005">
    <failure message="expected: &lt;1.0&gt; but was: &lt;0.9&gt;" type="org.opentest4j.AssertionFailedError"/>
    <rerunFailure message="expected: &lt;1.0&gt; but was: &lt;0.9&gt;" type="org.opentest4j.AssertionFailedError"/>
    <rerunFailure message="expected: &lt;1.0&gt; but was: &lt;0.9&gt;" type="org.opentest4j.AssertionFailedError"/>
  </testcase>
  <testcase name="ignored" classname="com.example.CalculatorTest" time="0">
    <skipped message="@Disabled"/>
  </testcase>
</testsuite>
"""

GRADLE_CLASS = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.example.{name}" tests="3" skipped="1" failures="{failures}" errors="0"
 timestamp="2024-05-01T10:00:00" hostname="runner-1" time="0.021">
  <properties/>
  <testcase name="greets()" classname="com.example.{name}" time="0.01"/>
  <testcase name="checks()" classname="com.example.{name}" time="0.003">{outcome}</testcase>
  <testcase name="later()" classname="com.example.{name}" time="0.0">
    <skipped/>
  </testcase>
  <system-out><![CDATA[hello <testcase> in a CDATA section is text]]></system-out>
  <system-err><![CDATA[]]></system-err>
</testsuite>
"""

JEST = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="5" failures="1" errors="0" time="1.234">
  <testsuite name="math" errors="0" failures="1" skipped="1" timestamp="2024-05-01T10:00:00" time="0.5" tests="3">
    <testcase classname="math adds" name="math adds" time="0.002">
    </testcase>
    <testcase classname="math divides by zero" name="math divides by zero" time="0.004">
      <failure>Error: expect(received).toBe(expected) // Object.is equality

Expected: Infinity
Received: NaN
    at Object.&lt;anonymous&gt; (src/math.test.js:9:19)</failure>
    </testcase>
    <testcase classname="math todo" name="math todo" time="0">
      <skipped/>
    </testcase>
  </testsuite>
  <testsuite name="strings" errors="0" failures="0" skipped="0" timestamp="2024-05-01T10:00:00" time="0.1" tests="2">
    <testcase classname="strings pads" name="strings pads" time="0.001">
    </testcase>
    <testcase classname="strings trims" name="strings trims" time="0.001">
    </testcase>
  </testsuite>
</testsuites>
"""

# PHPUnit and Ant's junitreport nest suites in suites; only the testcases count, never the suites' totals.
NESTED = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="All" tests="4" assertions="9" errors="0" failures="1" skipped="1" time="0.01">
    <testsuite name="Unit" tests="3" assertions="7" errors="0" failures="1" skipped="0" time="0.008">
      <testsuite name="App\\Tests\\CartTest" file="/app/tests/CartTest.php" tests="3" failures="1" time="0.008">
        <testcase name="testAdd" class="App\\Tests\\CartTest" file="/app/tests/CartTest.php" line="12"
         assertions="3" time="0.002"/>
        <testcase name="testRemove" class="App\\Tests\\CartTest" assertions="2" time="0.003">
          <failure type="PHPUnit\\Framework\\ExpectationFailedException">Failed asserting that 2 is 1.</failure>
        </testcase>
        <testsuite name="App\\Tests\\CartTest::testTotal" tests="1" assertions="2" time="0.003">
          <testcase name="testTotal with data set #0" assertions="2" time="0.003"/>
        </testsuite>
      </testsuite>
    </testsuite>
    <testsuite name="Integration" tests="1" skipped="1" time="0.002">
      <testcase name="testDatabase" assertions="0" time="0.002"><skipped/></testcase>
    </testsuite>
  </testsuite>
</testsuites>
"""


def test_pytest_report(tmp_path):
    # failure and error on one test (teardown error after a failure) count it once; xfail is a skip
    assert count(tmp_path, PYTEST) == Counts(passed=2, failed=3, skipped=2)


def test_surefire_report_counts_flaky_tests_as_passed_and_a_failure_with_reruns_once(tmp_path):
    assert count(tmp_path, SUREFIRE) == Counts(passed=3, failed=2, skipped=1)


def test_gradle_per_class_reports_collected_by_a_recursive_pattern(tmp_path):
    results = tmp_path / "app" / "build" / "test-results" / "test"
    failure = '<failure message="boom" type="java.lang.AssertionError">java.lang.AssertionError: boom</failure>'
    write(results / "TEST-com.example.GreeterTest.xml", GRADLE_CLASS.format(name="GreeterTest", failures=0, outcome=""))
    write(
        results / "TEST-com.example.ParserTest.xml",
        GRADLE_CLASS.format(name="ParserTest", failures=1, outcome=failure),
    )
    write(results / "binary" / "output.bin", b"\x00\x01")

    found = junit.collect(("**/build/test-results/**/TEST-*.xml",), str(tmp_path))

    assert found == junit.Collected(
        Counts(passed=3, failed=1, skipped=2),
        (
            os.path.join("app", "build", "test-results", "test", "TEST-com.example.GreeterTest.xml"),
            os.path.join("app", "build", "test-results", "test", "TEST-com.example.ParserTest.xml"),
        ),
        (),
    )


def test_gradle_aggregated_report(tmp_path):
    suites = [GRADLE_CLASS.format(name=name, failures=0, outcome="").split("?>", 1)[1] for name in ("ATest", "BTest")]
    report = '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>' + "".join(suites) + "</testsuites>"
    assert count(tmp_path, report) == Counts(passed=4, failed=0, skipped=2)


def test_jest_junit_report(tmp_path):
    assert count(tmp_path, JEST) == Counts(passed=3, failed=1, skipped=1)


def test_suites_nested_in_suites_count_each_testcase_once(tmp_path):
    assert count(tmp_path, NESTED) == Counts(passed=2, failed=1, skipped=1)


def test_namespaced_reports_are_matched_by_local_name(tmp_path):
    prefixed = """<j:testsuites xmlns:j="urn:example:junit">
      <j:testsuite name="s"><j:testcase name="a"/><j:testcase name="b"><j:failure/></j:testcase>
      <j:testcase name="c"><j:skipped/></j:testcase></j:testsuite></j:testsuites>"""
    default = """<testsuite xmlns="urn:example:junit" name="s">
      <testcase name="a"/><testcase name="b"><error/></testcase></testsuite>"""
    assert count(tmp_path, prefixed, "a.xml") == Counts(1, 1, 1)
    assert count(tmp_path, default, "b.xml") == Counts(1, 1, 0)


def test_only_direct_children_decide_a_test_s_outcome(tmp_path):
    report = """<testsuite>
      <testcase name="mentions"><system-out><failure/><skipped/></system-out></testcase>
      <testcase name="skipped then failed"><skipped/><failure/></testcase>
      <testcase name="failed then skipped"><error/><skipped/></testcase>
    </testsuite>"""
    assert count(tmp_path, report) == Counts(passed=1, failed=2, skipped=0)


def test_testcases_win_over_the_suite_totals(tmp_path):
    # the attributes lie (and are not even numbers): the testcases are what counts
    report = (
        '<testsuite tests="many" failures="-1"><testcase name="a"/><testcase name="b"><skipped/></testcase></testsuite>'
    )
    assert count(tmp_path, report) == Counts(passed=1, failed=0, skipped=1)


def test_an_empty_report_has_no_tests(tmp_path):
    assert count(tmp_path, "<testsuites/>", "a.xml") == Counts(0, 0, 0)
    assert count(tmp_path, '<testsuite name="empty" tests="0"></testsuite>', "b.xml") == Counts(0, 0, 0)


def test_utf16_report(tmp_path):
    report = '<?xml version="1.0" encoding="UTF-16"?><testsuite><testcase name="ü"/></testsuite>'
    assert count(tmp_path, report.encode("utf-16")) == Counts(1, 0, 0)


# --- Reports without testcases: the suites' totals -------------------------------------------------------


def test_totals_of_the_outermost_suites_only(tmp_path):
    report = """<testsuites tests="100" failures="50">
      <testsuite name="outer" tests="10" failures="1" errors="2" skipped="3">
        <testsuite name="inner" tests="10" failures="1" errors="2" skipped="3"/>
      </testsuite>
      <testsuite name="other" tests="5" failures="0" errors="0" disabled="1"/>
    </testsuites>"""
    # outer: 10 - 3 failed - 3 skipped = 4 passed; other: 4 passed, 1 disabled; inner and the root ignored
    assert count(tmp_path, report) == Counts(passed=8, failed=3, skipped=4)


def test_totals_of_a_root_testsuites_without_suites(tmp_path):
    report = '<testsuites tests="7" failures="1" errors="1" skipped="2" disabled="5"/>'
    assert count(tmp_path, report) == Counts(passed=3, failed=2, skipped=2)


def test_totals_never_give_negative_passed(tmp_path):
    assert count(tmp_path, '<testsuite tests="1" failures="2" skipped="1"/>') == Counts(0, 2, 1)


@pytest.mark.parametrize("value", ["many", "-1", "1.5", "", "²", "0x10"])
def test_totals_that_are_not_whole_numbers_are_refused(tmp_path, value):
    error = refused(tmp_path, f'<testsuites><testsuite tests="3" failures="{value}"/></testsuites>')
    assert "failures=" in error.message
    assert "not a whole number" in error.message


# --- Files that are refused ------------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE testsuite [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<testsuite><testcase name="&lol9;"/></testsuite>
"""
ENTITIES_REFUSED = (
    "reports/x.xml declares XML entities, which are refused (protection against entity expansion); "
    "JUnit reports need none."
)


def test_billion_laughs_is_refused(tmp_path):
    assert refused(tmp_path, BILLION_LAUGHS).message == ENTITIES_REFUSED


def test_quadratic_blowup_is_refused(tmp_path):
    report = f'<!DOCTYPE t [<!ENTITY a "{"a" * 50_000}">]><testsuite><testcase name="{"&a;" * 50_000}"/></testsuite>'
    assert refused(tmp_path, report).message == ENTITIES_REFUSED


@pytest.mark.parametrize(
    "declaration",
    ['<!ENTITY x SYSTEM "file://{secret}">', '<!ENTITY % x SYSTEM "file://{secret}"> %x;'],
    ids=["general", "parameter"],
)
def test_external_entities_are_refused_and_never_read(tmp_path, declaration):
    secret = write(tmp_path / "secret.txt", "TOP-SECRET-4711")
    report = f'<!DOCTYPE testsuite [{declaration.format(secret=secret)}]><testsuite><testcase name="&x;"/></testsuite>'
    with pytest.raises(InputError) as caught:
        junit.count_file(str(write(tmp_path / "reports" / "x.xml", report)), "reports/x.xml")
    assert caught.value.message == ENTITIES_REFUSED
    assert "TOP-SECRET" not in str(caught.value)


def test_etc_passwd_entity_is_refused(tmp_path):
    report = '<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><testsuite><testcase name="&x;"/></testsuite>'
    error = refused(tmp_path, report)
    assert "root:" not in str(error)


def test_an_external_dtd_is_not_read(tmp_path):
    # were the DTD read, its junk would make the report fail to parse
    dtd = write(tmp_path / "junit.dtd", "<!ENTITY this is not a DTD")
    report = f'<!DOCTYPE testsuite SYSTEM "file://{dtd}"><testsuite><testcase name="a"/></testsuite>'
    assert count(tmp_path, report) == Counts(1, 0, 0)


def test_malformed_xml_names_the_file_and_the_place(tmp_path):
    report = '<testsuite>\n  <testcase name="a">\n  </testsuite>\n'
    assert refused(tmp_path, report, "reports/junit.xml").message == (
        "reports/junit.xml is not well-formed XML (line 3, column 5): mismatched tag. "
        "Point test-results at JUnit XML reports."
    )


def test_a_truncated_report_is_malformed(tmp_path):
    error = refused(tmp_path, '<testsuite><testcase name="a"/>')
    assert error.message.startswith("reports/x.xml is not well-formed XML (line 1, column 32): no element found.")


def test_an_empty_file_is_malformed(tmp_path):
    error = refused(tmp_path, b"")
    assert error.message.startswith("reports/x.xml is not well-formed XML (line 1, column 1): no element found.")


def test_an_undefined_entity_is_malformed(tmp_path):
    assert "undefined entity" in refused(tmp_path, '<testsuite name="&x;"/>').message


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'<?xml version="1.0" encoding="no-such-codec"?><testsuite/>', "unknown encoding"),
        (b'<?xml version="1.0" encoding="shift_jis"?><testsuite/>', "multi-byte"),
        (b"<testsuite>\xff</testsuite>", "not well-formed (invalid token)"),
    ],
)
def test_unreadable_encodings_are_malformed(tmp_path, data, reason):
    error = refused(tmp_path, data)
    assert "is not well-formed XML" in error.message
    assert reason in error.message


@pytest.mark.parametrize(
    ("report", "root"),
    [
        ("<html><body>404</body></html>", "html"),
        ('<coverage line-rate="0.9"/>', "coverage"),
        ('<c:testrun xmlns:c="urn:x"><testcase/></c:testrun>', "testrun"),
    ],
)
def test_other_xml_is_not_a_junit_report(tmp_path, report, root):
    assert refused(tmp_path, report).message == (
        f"reports/x.xml is not a JUnit XML report (its root element is <{root}>, not <testsuites> or <testsuite>)."
    )


def test_a_missing_file_cannot_be_read(tmp_path):
    with pytest.raises(InputError) as caught:
        junit.count_file(str(tmp_path / "gone.xml"), "gone.xml")
    assert caught.value.message == "cannot read gone.xml: No such file or directory."


def test_a_directory_cannot_be_read(tmp_path):
    with pytest.raises(InputError) as caught:
        junit.count_file(str(tmp_path))
    assert caught.value.message == f"cannot read {tmp_path}: Is a directory."


def test_a_large_report_is_streamed_in_little_memory(tmp_path):
    path = tmp_path / "large.xml"
    with path.open("w") as out:
        out.write("<testsuites><testsuite>")
        for number in range(50_000):
            out.write(f'<testcase classname="c.C" name="t{number}"><system-out>out {number}</system-out></testcase>')
        out.write("</testsuite></testsuites>")
    junit.count_file(str(path))  # the imports, outside the measurement
    tracemalloc.start()
    try:
        counts = junit.count_file(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert counts == Counts(50_000, 0, 0)
    # a 3 MB report whose finished elements were kept would peak at several MB
    assert peak < 1_000_000


# --- Finding the files ------------------------------------------------------------------------------------

PASS = '<testsuite><testcase name="a"/></testsuite>'
FAIL = '<testsuite><testcase name="a"><failure/></testcase></testsuite>'


def test_overlapping_patterns_read_each_file_once(tmp_path):
    write(tmp_path / "reports" / "a.xml", PASS)
    write(tmp_path / "reports" / "b.xml", FAIL)
    write(tmp_path / "reports" / "nested" / "c.xml", PASS)
    os.symlink(tmp_path / "reports" / "a.xml", tmp_path / "reports" / "link-to-a.xml")

    found = junit.collect(
        ("reports/*.xml", "reports/a.xml", "./reports/**/*.xml", "reports/../reports/b.xml"), str(tmp_path)
    )

    assert found.counts == Counts(passed=2, failed=1, skipped=0)
    assert found.files == (
        os.path.join("reports", "a.xml"),
        os.path.join("reports", "b.xml"),
        os.path.join("reports", "nested", "c.xml"),
    )
    assert found.unmatched == ()


def test_double_star_matches_any_depth_including_none(tmp_path):
    for folder in ("", "a", "a/b", "a/b/c"):
        write(tmp_path / folder / "TEST-x.xml", PASS)
    found = junit.collect(("**/TEST-*.xml",), str(tmp_path))
    assert found.counts == Counts(4, 0, 0)
    assert len(found.files) == 4


def test_directories_and_hidden_files_are_not_matched(tmp_path):
    write(tmp_path / "reports" / "a.xml", PASS)
    (tmp_path / "reports" / "dir.xml").mkdir()
    write(tmp_path / "reports" / ".hidden.xml", FAIL)
    found = junit.collect(("reports/*",), str(tmp_path))
    assert found.files == (os.path.join("reports", "a.xml"),)
    assert found.counts == Counts(1, 0, 0)


def test_absolute_patterns_in_and_outside_the_root(tmp_path):
    root = tmp_path / "workspace"
    write(root / "in" / "a.xml", PASS)
    outside = write(tmp_path / "elsewhere" / "b.xml", FAIL)
    found = junit.collect((str(root / "in" / "*.xml"), str(tmp_path / "elsewhere" / "*.xml")), str(root))
    assert found.files == (str(outside), os.path.join("in", "a.xml"))
    assert found.counts == Counts(1, 1, 0)


def test_a_root_with_glob_characters_is_taken_literally(tmp_path):
    root = tmp_path / "[ci] build*"
    write(root / "r.xml", PASS)
    write(tmp_path / "c" / "r.xml", FAIL)  # what "[ci]" would match as a pattern
    found = junit.collect(("r.xml",), str(root))
    assert found == junit.Collected(Counts(1, 0, 0), ("r.xml",), ())


def test_patterns_that_match_nothing_are_listed(tmp_path):
    write(tmp_path / "reports" / "a.xml", PASS)
    found = junit.collect(("reports/*.xml", "missing/*.xml", "reports/none.xml"), str(tmp_path))
    assert found == junit.Collected(
        Counts(1, 0, 0), (os.path.join("reports", "a.xml"),), ("missing/*.xml", "reports/none.xml")
    )


def test_no_match_at_all_has_no_counts(tmp_path):
    patterns = ("**/TEST-*.xml", "junit.xml")
    assert junit.collect(patterns, str(tmp_path)) == junit.Collected(None, (), patterns)


def test_matched_files_without_tests_count_zero(tmp_path):
    write(tmp_path / "empty.xml", "<testsuites/>")
    assert junit.collect(("*.xml",), str(tmp_path)) == junit.Collected(Counts(0, 0, 0), ("empty.xml",), ())


def test_the_root_defaults_to_the_working_directory(tmp_path, monkeypatch):
    write(tmp_path / "out" / "a.xml", FAIL)
    monkeypatch.chdir(tmp_path)
    assert junit.collect(("out/*.xml",)) == junit.Collected(Counts(0, 1, 0), (os.path.join("out", "a.xml"),), ())


def test_a_bad_file_among_good_ones_is_named_as_shown(tmp_path):
    write(tmp_path / "reports" / "a.xml", PASS)
    write(tmp_path / "reports" / "b.xml", "<testsuite>")
    with pytest.raises(InputError) as caught:
        junit.collect(("reports/*.xml",), str(tmp_path))
    assert caught.value.message.startswith(f"{os.path.join('reports', 'b.xml')} is not well-formed XML (line 1,")


# --- The counts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "text"),
    [
        (Counts(118, 2, 3), "118 passed, 2 failed, 3 skipped"),
        (Counts(118, 0, 3), "118 passed, 3 skipped"),
        (Counts(118, 2, 0), "118 passed, 2 failed"),
        (Counts(5, 0, 0), "5 passed"),
        (Counts(0, 2, 0), "0 passed, 2 failed"),
        (Counts(0, 0, 1), "0 passed, 1 skipped"),
        (Counts(0, 0, 0), "no tests"),
    ],
)
def test_describe(counts, text):
    assert counts.describe() == text


def test_payload_total_and_sum():
    counts = Counts(passed=7, failed=2, skipped=1)
    status = BuildStatus("FAILED", "k", "n", "https://x.example", "", tests=counts)
    assert payload.build(status, "builds")["testResults"] == {"successful": 7, "failed": 2, "skipped": 1}
    assert counts.total == 10
    assert counts + Counts(1, 1, 1) == Counts(8, 3, 2)
    assert sum([Counts(1, 0, 0), Counts(0, 1, 0)], Counts(0, 0, 0)) == Counts(1, 1, 0)
    with pytest.raises(TypeError):
        counts + (1, 2, 3)  # type: ignore[operator]  # noqa: RUF005


def test_importing_the_module_loads_no_xml_parser():
    code = (
        "import sys, build_status.junit\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('xml', 'pyexpat', 'defusedxml', 'glob')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# --- Any suite tree ----------------------------------------------------------------------------------------

#: How a generated testcase ends, its children, and what it counts as.
OUTCOMES = {
    "passed": ("", "passed"),
    "output": ("<system-out>&lt;failure/&gt;</system-out><system-err/>", "passed"),
    "failure": ('<failure message="m">trace</failure>', "failed"),
    "error": ('<error type="E"/>', "failed"),
    "skipped": ("<skipped/>", "skipped"),
    "flaky": ("<flakyFailure/><flakyError/>", "passed"),
    "rerun": ("<failure/><rerunFailure/><rerunError/>", "failed"),
    "failure and skipped": ("<skipped/><failure/>", "failed"),
    "error and skipped": ("<error/><skipped/>", "failed"),
    "flaky stack trace": ("<flakyFailure><stackTrace/><system-out/></flakyFailure>", "passed"),
    "properties": ('<properties><property name="p" value="v"/></properties><skipped/>', "skipped"),
}


class Suite(NamedTuple):
    name: str
    cases: list[str]
    children: list[Suite]
    totals: tuple[int, int, int, int]  # the tests, failures, errors, skipped attributes (they may lie)


def suites(depth: int) -> st.SearchStrategy[Suite]:
    children = st.just([]) if depth <= 1 else st.lists(suites(depth - 1), max_size=3)
    return st.builds(
        Suite,
        name=st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")), max_size=8),
        cases=st.lists(st.sampled_from(sorted(OUTCOMES)), max_size=8),
        children=children,
        totals=st.tuples(*[st.integers(0, 30)] * 4),
    )


def render(suite: Suite, prefix: str) -> str:
    tests, failures, errors, skipped = suite.totals
    cases = "".join(
        f"<{prefix}testcase name={quoteattr(f'{suite.name} {n}')}>"
        + OUTCOMES[case][0].replace("<", f"<{prefix}").replace(f"<{prefix}/", f"</{prefix}")
        + f"</{prefix}testcase>"
        for n, case in enumerate(suite.cases)
    )
    inner = "".join(render(child, prefix) for child in suite.children)
    return (
        f"<{prefix}testsuite name={quoteattr(suite.name)} tests='{tests}' failures='{failures}' errors='{errors}'"
        f" skipped='{skipped}'>{cases}{inner}<{prefix}system-out>{escape(suite.name)}</{prefix}system-out>"
        f"</{prefix}testsuite>"
    )


def without_cases(suite: Suite) -> Suite:
    return suite._replace(cases=[], children=[without_cases(child) for child in suite.children])


def outcomes(suite: Suite) -> list[str]:
    return [OUTCOMES[case][1] for case in suite.cases] + [o for child in suite.children for o in outcomes(child)]


@settings(max_examples=200, deadline=None)
@given(
    tops=st.lists(suites(3), min_size=1, max_size=3),
    root_is_suite=st.booleans(),
    namespace=st.sampled_from(["", "default", "prefix"]),
    padding=st.integers(0, 40_000),
    summary_only=st.booleans(),
)
def test_any_suite_tree_counts_its_testcases(tmp_path_factory, tops, root_is_suite, namespace, padding, summary_only):
    if summary_only:
        tops = [without_cases(top) for top in tops]
    prefix = "j:" if namespace == "prefix" else ""
    declaration = {"": "", "default": ' xmlns="urn:junit"', "prefix": ' xmlns:j="urn:junit"'}[namespace]
    if root_is_suite:
        tops = tops[:1]
        body = render(tops[0], prefix)
        body = body.replace(f"<{prefix}testsuite ", f"<{prefix}testsuite{declaration} ", 1)
    else:
        suites_ = "".join(render(top, prefix) for top in tops)
        body = f"<{prefix}testsuites{declaration}>{suites_}</{prefix}testsuites>"
    # a comment that moves the elements across the parser's 16 KiB reads
    path = tmp_path_factory.mktemp("junit") / "report.xml"
    path.write_text(f"<?xml version='1.0' encoding='utf-8'?><!--{'x' * padding}-->{body}", encoding="utf-8")

    results = [o for top in tops for o in outcomes(top)]
    if results:
        expected = Counts(results.count("passed"), results.count("failed"), results.count("skipped"))
    else:  # no testcase anywhere: the outermost suites' totals
        expected = Counts(0, 0, 0)
        for top in tops:
            tests, failures, errors, skipped = top.totals
            expected += Counts(max(tests - failures - errors - skipped, 0), failures + errors, skipped)

    assert junit.count_file(str(path)) == expected
