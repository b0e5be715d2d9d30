"""What is to be sent: one build status, and the test counts that may go with it."""

from __future__ import annotations

from typing import NamedTuple


class TestCounts(NamedTuple):
    """How many tests passed, failed and were skipped; ``a + b`` adds counts field by field."""

    __test__ = False  # a record, not a pytest test class

    passed: int
    failed: int
    skipped: int

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped

    def describe(self) -> str:
        """E.g. ``118 passed, 2 failed, 3 skipped``; zero failed or skipped left out; ``no tests`` for none."""
        if not self.total:
            return "no tests"
        parts = [f"{self.passed} passed"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        if self.skipped:
            parts.append(f"{self.skipped} skipped")
        return ", ".join(parts)

    def __add__(self, other: object) -> TestCounts:  # type: ignore[override]
        if not isinstance(other, TestCounts):
            return NotImplemented
        return TestCounts(self.passed + other.passed, self.failed + other.failed, self.skipped + other.skipped)


class BuildStatus(NamedTuple):
    """One build status as it is to be posted to every commit (a remote fits it to its own fields)."""

    state: str
    key: str
    name: str
    url: str
    description: str
    #: False when ``description`` is the default one: a remote may shorten it to its limit (a description
    #: the user gave that is too long is an input error instead).
    description_given: bool = True
    build_number: str = ""
    ref: str = ""
    parent: str = ""
    duration_ms: int | None = None
    tests: TestCounts | None = None
