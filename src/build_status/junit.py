"""Count the tests in JUnit XML reports (``test-results``), safely.

Reads the reports that pytest, Maven Surefire, Gradle, jest-junit, Mocha, Ant and most other tools write:
a root ``<testsuites>`` or ``<testsuite>``, suites nested at any depth, one ``<testcase>`` per test. Each
test counts once: failed with a ``<failure>`` or ``<error>`` child, else skipped with a ``<skipped>`` child,
else passed (Surefire's ``flakyFailure``/``rerunFailure`` and the like mean it passed on a re-run).

The files are parsed with defusedxml, which refuses entity declarations (billion laughs, quadratic blowup)
and external references, and streamed: finished elements are dropped, so a large report costs little
memory. The XML modules are imported only when a report is read, to keep a plain run's start-up cheap.

The same pass gathers the failed and errored test cases (``junit_failures.py``), at most ``limit`` of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .errors import InputError, sentence
from .junit_failures import LIMIT, Failures
from .model.status import TestCounts
from .model.tests import FailedTest
from .redaction import cut
from .xml_reports import walk_xml

INPUT = "test-results"

_PASSED, _SKIPPED, _FAILED = 0, 1, 2
#: A test's outcome from its direct children; any other child (``system-out``, ``flakyFailure``...) leaves it.
_OUTCOME_CHILDREN = {"failure": _FAILED, "error": _FAILED, "skipped": _SKIPPED}
_ROOTS = ("testsuites", "testsuite")
#: What test-results should point at, said after a malformed report.
HINT = "Point test-results at JUnit XML reports."


@dataclass(frozen=True)
class Collected:
    """What :func:`collect` found. Two are equal when they counted and read the same (the failures, details
    that follow from the same files, are left out of the comparison)."""

    #: The sum over all files, or None when no pattern matched a file.
    counts: TestCounts | None
    #: The files read, sorted, each once, as shown to the user (relative to the root when under it).
    files: tuple[str, ...]
    #: The patterns that matched no file: worth a warning, not a failure.
    unmatched: tuple[str, ...]
    #: The failed and errored test cases, at most ``limit`` of them, in the order of the files and the cases.
    failures: tuple[FailedTest, ...] = field(default=(), compare=False)
    #: How many more failed test cases there were than ``failures`` holds.
    failures_left_out: int = field(default=0, compare=False)


def collect(patterns: tuple[str, ...], root: str = ".", limit: int = LIMIT) -> Collected:
    """Count the tests in every regular file the glob ``patterns`` match, and gather the failed ones.

    Patterns are relative to ``root`` unless absolute; ``**`` matches any number of directories. A file
    that several patterns match (by any spelling or link) is read once. The failures' files are made
    relative to ``root`` too. Raises :class:`InputError` for the first file that is not a readable JUnit XML
    report.
    """
    found = find_files(patterns, root)
    if not found.files:
        return Collected(None, (), found.unmatched)
    counts = TestCounts(0, 0, 0)
    failures = Failures(root, limit)
    for shown, path in found.files:
        counts += count_file(path, shown, failures)
    files = tuple(shown for shown, _ in found.files)
    return Collected(counts, files, found.unmatched, tuple(failures.kept), failures.left_out)


class Found(NamedTuple):
    """What :func:`find_files` found."""

    #: ``(shown, path)`` of each file, sorted by ``shown`` (relative to the root when under it), each once.
    files: tuple[tuple[str, str], ...]
    #: The patterns that matched no regular file.
    unmatched: tuple[str, ...]


def find_files(patterns: tuple[str, ...], root: str = ".") -> Found:
    """The regular files the glob ``patterns`` match (relative to ``root`` unless absolute; ``**`` matches
    any number of directories); a file that several patterns match, by any spelling or link, once."""
    import glob  # only runs that read reports need it

    base = os.path.abspath(root)
    found: dict[str, str] = {}  # real path -> path as shown
    unmatched: list[str] = []
    for pattern in patterns:
        full = pattern if os.path.isabs(pattern) else os.path.join(glob.escape(base), pattern)
        matched = False
        for path in glob.glob(full, recursive=True):
            if not os.path.isfile(path):
                continue
            matched = True
            shown = _shown(os.path.abspath(path), base)
            key = os.path.realpath(path)
            if key not in found or shown < found[key]:
                found[key] = shown
        if not matched:
            unmatched.append(pattern)
    files = tuple(sorted((shown, real) for real, shown in found.items()))
    return Found(files, tuple(unmatched))


def count_file(path: str, shown: str | None = None, failures: Failures | None = None) -> TestCounts:
    """Count the tests in the JUnit XML report at ``path`` (named ``shown`` in messages).

    Each ``<testcase>`` counts once. A report with no ``<testcase>`` at all is counted from the ``tests``,
    ``failures``, ``errors`` and ``skipped`` (or ``disabled``) attributes of its outermost ``<testsuite>``
    elements, or of a root ``<testsuites>`` without suites. Raises :class:`InputError` if the file cannot
    be read, is not well-formed XML (line and 1-based column given), declares entities, or is not JUnit.
    ``failures``, when given, gathers the failed test cases.
    """
    name = path if shown is None else shown
    try:
        with open(path, "rb") as stream:
            return walk_xml(
                stream,
                lambda events: _count(events, name, failures),
                input_name=INPUT,
                name=name,
                reports="JUnit reports",
                hint=HINT,
            )
    except OSError as exc:
        raise InputError(INPUT, sentence(f"cannot read {name}: {exc.strerror or exc}")) from None


def _count(events: Iterable[tuple[str, Any]], name: str, failures: Failures | None = None) -> TestCounts:
    """Walk ``iterparse``'s start and end events, dropping each element once it has ended."""
    tally = [0, 0, 0]  # by outcome: passed, skipped, failed
    names: list[str] = []  # local names of the open elements, the root first
    elements: list[Any] = []  # the open elements themselves
    outcomes: list[int] = []  # the outcome so far of each open testcase, innermost last
    suite_depth = 0  # how many testsuite elements are open
    outer_suites: list[dict[str, str]] = []  # attributes of the testsuites with no testsuite around them
    root_attrib: dict[str, str] = {}
    for event, element in events:
        tag = _local(element.tag)
        if event == "start":
            if not names:
                if tag not in _ROOTS:
                    raise InputError(
                        INPUT,
                        f"{name} is not a JUnit XML report (its root element is <{tag}>, "
                        "not <testsuites> or <testsuite>).",
                    )
                root_attrib = dict(element.attrib)
                if failures is not None:
                    failures.start_report(tag, root_attrib)
            elif names[-1] == "testcase" and tag in _OUTCOME_CHILDREN:
                outcomes[-1] = max(outcomes[-1], _OUTCOME_CHILDREN[tag])
            if tag == "testcase":
                outcomes.append(_PASSED)
                if failures is not None:
                    failures.start_case(element.attrib)
            elif tag == "testsuite":
                if not suite_depth:
                    outer_suites.append(dict(element.attrib))
                    if failures is not None:
                        failures.start_suite(element.attrib)
                suite_depth += 1
            names.append(tag)
            elements.append(element)
        else:
            names.pop()
            elements.pop()
            if tag == "testcase":
                outcome = outcomes.pop()
                tally[outcome] += 1
                if failures is not None:
                    failures.end_case(outcome == _FAILED)
            elif failures is not None and names and names[-1] == "testcase" and _OUTCOME_CHILDREN.get(tag) == _FAILED:
                failures.outcome(element.attrib, element.text)
            elif tag == "testsuite":
                suite_depth -= 1
            element.clear()
            if elements:
                elements[-1].remove(element)
    passed, skipped, failed = tally
    if passed or skipped or failed:
        return TestCounts(passed, failed, skipped)
    if not outer_suites and "tests" in root_attrib:
        outer_suites = [root_attrib]
    counts = TestCounts(0, 0, 0)
    for attributes in outer_suites:
        counts += _from_attributes(attributes, name)
    return counts


def _from_attributes(attributes: dict[str, str], name: str) -> TestCounts:
    """A suite's counts from its summary attributes, for reports that list no testcase."""
    numbers: dict[str, int] = {}
    for key in ("tests", "failures", "errors", "skipped", "disabled"):
        text = attributes.get(key, "0").strip()
        if not text.isdigit() or not text.isascii():
            raise InputError(
                INPUT,
                f'{name} is not a valid JUnit XML report: its {key}="{cut(text, 40)}" is not a whole number.',
            )
        numbers[key] = int(text)
    failed = numbers["failures"] + numbers["errors"]
    skipped = numbers["skipped"] if "skipped" in attributes else numbers["disabled"]
    return TestCounts(max(numbers["tests"] - failed - skipped, 0), failed, skipped)


def _local(tag: str) -> str:
    """``testcase`` for ``testcase`` and ``{urn:some-namespace}testcase``."""
    return tag.rpartition("}")[2]


def _shown(path: str, base: str) -> str:
    """``path`` relative to ``base`` when it is under it, else as it is."""
    relative = os.path.relpath(path, base)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return path
    return relative
