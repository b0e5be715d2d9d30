"""What a test report says beyond its counts: the failed and errored test cases, one value each."""

from __future__ import annotations

from typing import NamedTuple


class FailedTest(NamedTuple):
    """One failed or errored test case of a JUnit report, its texts redacted and cut."""

    #: The test as shown: ``classname.name``, or ``name`` alone where it already says the class (jest).
    name: str
    #: The ``classname`` (or PHPUnit's ``class``) attribute; empty when the report gives none.
    classname: str
    #: The test's file relative to the repository root, with ``/`` separators; None when the report gives none.
    file: str | None
    #: The 1-based line in ``file`` (pytest's 0-based ``line`` attribute plus one); None when not given.
    line: int | None
    #: The first lines of the ``<failure>``/``<error>`` ``message`` attribute, else of its text.
    message: str
    #: 32 hex digits, the same for the same test in every run, unique within one reading of the reports.
    external_id: str
