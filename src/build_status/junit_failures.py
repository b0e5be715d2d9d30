"""The failed and errored test cases of JUnit reports, gathered in the pass that counts them (``junit.py``).

Each failed ``<testcase>`` becomes a :class:`FailedTest`: its name, the first lines of its first
``<failure>``/``<error>`` (the ``message`` attribute, else the text), the ``file`` and ``line`` attributes
where the report has them, and an external id that stays the same across runs. Every text passes through
:func:`cut`, which redacts the registered secrets before cutting.

Line numbers: pytest writes ``file`` and ``line`` only with ``junit_family=xunit1`` (or ``legacy``), and its
``line`` is 0-based (the test's ``def`` on line 4 is written ``line="3"``); a pytest report is recognised by
its root (``<testsuites name="pytest tests">``, or ``<testsuite name="pytest">`` from pytest before 5.1) and
its lines get one added. Other tools' lines (PHPUnit's) are 1-based and kept.

At most ``limit`` failures are kept (the first ones, in the order the files are read); the rest are only
counted, so a large report with many failures costs little memory.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from collections.abc import Mapping

from .model.tests import FailedTest
from .redaction import cut, redact

#: The most failures one reading keeps: Bitbucket takes at most 1000 annotations per report.
LIMIT = 1000
MESSAGE_LINES = 5
MESSAGE_CHARS = 2000
#: Names, class names and paths longer than this are cut (no real one is).
TEXT_CHARS = 1000
_DRIVE = re.compile(r"[A-Za-z]:/")


class Failures:
    """The failures of the reports read by one :func:`build_status.junit.collect`, across all its files.

    ``junit._count`` calls :meth:`start_report` for each file's root element, :meth:`start_case` for each
    ``<testcase>``, :meth:`outcome` at the end of each ``<failure>``/``<error>`` directly in one, and
    :meth:`end_case` at the end of the testcase, with whether it failed.
    """

    def __init__(self, root: str = ".", limit: int = LIMIT) -> None:
        self.root = _root(root)
        self.limit = limit
        self.kept: list[FailedTest] = []
        self.left_out = 0
        self._pytest = False
        self._case: Mapping[str, str] = {}
        self._message: str | None = None
        self._bases: dict[str, int] = {}  # how many tests of each classname::name were kept
        self._ids: set[str] = set()

    @property
    def full(self) -> bool:
        return len(self.kept) >= self.limit

    def start_report(self, tag: str, attributes: Mapping[str, str]) -> None:
        name = attributes.get("name")
        self._pytest = (tag, name) in (("testsuites", "pytest tests"), ("testsuite", "pytest"))

    def start_suite(self, attributes: Mapping[str, str]) -> None:
        """An outermost ``<testsuite>``: pytest 5.1 to 8.3 name only this one (``<testsuites>`` has no name)."""
        if attributes.get("name") == "pytest":
            self._pytest = True

    def start_case(self, attributes: Mapping[str, str]) -> None:
        self._case = attributes  # the element's own, cleared only after end_case
        self._message = None

    def outcome(self, attributes: Mapping[str, str], text: str | None) -> None:
        """A ``<failure>`` or ``<error>`` of the open testcase has ended; the first one gives the message."""
        if self._message is None and not self.full:
            self._message = _message(attributes, text)

    def end_case(self, failed: bool) -> None:
        if failed:
            if self.full:
                self.left_out += 1
            else:
                self.kept.append(self._failed(self._case, self._message or ""))
        self._case = {}
        self._message = None

    def _failed(self, case: Mapping[str, str], message: str) -> FailedTest:
        name = cut(case.get("name", ""), TEXT_CHARS)
        classname = cut(case.get("classname") or case.get("class") or "", TEXT_CHARS)
        says_class = not classname or name == classname or name.startswith((f"{classname} ", f"{classname}."))
        shown = name if says_class else cut(f"{classname}.{name}", TEXT_CHARS)
        file = relative(case.get("file", ""), self.root)
        line = _line(case.get("line", ""), self._pytest) if file else None
        return FailedTest(shown, classname, file, line, message, self._external_id(f"{classname}::{name}"))

    def _external_id(self, base: str) -> str:
        """The hash of ``base``; for its second and later tests within this reading, of ``base::n``."""
        number = self._bases.get(base, 0)
        while True:
            number += 1
            key = base if number == 1 else f"{base}::{number}"
            identifier = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
            if identifier not in self._ids:
                break
        self._bases[base] = number
        self._ids.add(identifier)
        return identifier


def relative(path: str, root: str) -> str | None:
    """``path`` (from a report) with ``/`` separators, relative to ``root`` (as :func:`_root` gives it) when it
    is an absolute path under it, else as it is but never starting with ``/``; None for no path."""
    path = redact(path.strip()).replace("\\", "/")
    if not path:
        return None
    path = _upper_drive(path)
    if path.startswith(root + "/"):
        path = path[len(root) + 1 :]
    path = posixpath.normpath(path).lstrip("/")
    return None if path in ("", ".") else cut(path, TEXT_CHARS)


def _root(root: str) -> str:
    """The repository root as an absolute path with ``/`` separators and no trailing ``/`` (``""`` for ``/``)."""
    shown = root.replace("\\", "/")
    if not (shown.startswith("/") or _DRIVE.match(shown)):
        shown = os.path.abspath(root).replace("\\", "/")
    return posixpath.normpath(_upper_drive(shown)).rstrip("/")


def _upper_drive(path: str) -> str:
    return path[0].upper() + path[1:] if _DRIVE.match(path) else path


def _line(text: str, pytest: bool) -> int | None:
    text = text.strip()
    if not text.isascii() or not text.isdigit():
        return None
    line = int(text) + (1 if pytest else 0)
    return line if line >= 1 else None


def _message(attributes: Mapping[str, str], text: str | None) -> str:
    """The first lines of the ``message`` attribute, else of the text, else the ``type``; redacted, then cut."""
    for candidate in (attributes.get("message"), text, attributes.get("type")):
        if candidate and candidate.strip():
            lines = redact(candidate).strip().split("\n", MESSAGE_LINES)[:MESSAGE_LINES]
            return cut("\n".join(line.rstrip() for line in lines), MESSAGE_CHARS)
    return ""
