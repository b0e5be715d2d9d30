"""Read line coverage from coverage reports (``coverage-results``), safely.

Three formats, told apart by their content, never by the file's name:

- Cobertura XML (coverage.py's ``coverage xml``, istanbul's ``cobertura`` reporter, gcovr): the root
  ``<coverage>``'s ``lines-covered`` and ``lines-valid``, exactly; a report without them is counted from its
  ``<line number hits>`` elements, each (class ``filename``, line ``number``) once, covered if any hit it.
- JaCoCo XML: the report-level ``<counter type="LINE" missed covered>`` (no such counter: no lines).
- lcov tracefiles (geninfo, istanbul's ``lcovonly``): each record's ``LH``/``LF`` summed over the records
  ``SF:`` ... ``end_of_record``; a record without both is counted from its ``DA:<line>,<count>`` lines.

XML is parsed with defusedxml, which refuses entity declarations (billion laughs) and external references;
a ``<!DOCTYPE>`` that only names a DTD (JaCoCo's ``report.dtd``, coverage.py's Cobertura DTD) is accepted and
its DTD never read. Everything is streamed (finished elements dropped, lcov read line by line) and bounded:
at most :data:`MAX_FILE_BYTES` a file, :data:`MAX_LINE_BYTES` an lcov line. The XML modules are imported
only when a report is read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any, BinaryIO, NamedTuple

from .errors import InputError, sentence
from .junit import find_files
from .model.coverage import CoverageTotals
from .redaction import cut
from .xml_reports import malformed, walk_xml

INPUT = "coverage-results"
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024
FORMATS = "Cobertura XML, JaCoCo XML or an lcov tracefile"
_POINT = "Point coverage-results at Cobertura XML, JaCoCo XML or lcov reports."
_LCOV_START = re.compile(rb"(TN|SF|VER):")
_HEAD_BYTES = 4096
_COUNT = re.compile(rb"-?[0-9]+")  # geninfo may write a negative count (a gcov fault): not hit


class CollectedCoverage(NamedTuple):
    """What :func:`collect_coverage` found."""

    #: The sum over all files, or None when no pattern matched a file.
    totals: CoverageTotals | None
    #: The files read, sorted, each once, as shown to the user (relative to the root when under it).
    files: tuple[str, ...]
    #: The patterns that matched no file: worth a warning, not a failure.
    unmatched: tuple[str, ...]


def collect_coverage(patterns: tuple[str, ...], root: str = ".") -> CollectedCoverage:
    """Sum the line coverage of every regular file the glob ``patterns`` match (as ``test-results``'s
    patterns: relative to ``root`` unless absolute, ``**`` for any depth, each file once). Raises
    :class:`InputError` for the first file that is not a readable coverage report."""
    found = find_files(patterns, root)
    if not found.files:
        return CollectedCoverage(None, (), found.unmatched)
    totals = CoverageTotals(0, 0)
    for shown, path in found.files:
        totals += read_coverage(path, shown)
    return CollectedCoverage(totals, tuple(shown for shown, _ in found.files), found.unmatched)


def read_coverage(path: str, shown: str | None = None) -> CoverageTotals:
    """The line coverage of the report at ``path`` (named ``shown`` in messages), in any of the formats."""
    name = path if shown is None else shown
    try:
        with open(path, "rb") as raw:
            if os.fstat(raw.fileno()).st_size > MAX_FILE_BYTES:
                raise _too_large(name)
            head = raw.read(_HEAD_BYTES)
            raw.seek(0)
            stream = _Capped(raw, name)
            if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"<":
                return _read_xml(stream, name)
            if _LCOV_START.match(head.removeprefix(b"\xef\xbb\xbf").lstrip()):
                return _read_lcov(stream, name)
    except OSError as exc:
        raise InputError(INPUT, sentence(f"cannot read {name}: {exc.strerror or exc}")) from None
    what = "is empty" if not head.strip() else "is in none of the formats read"
    raise InputError(INPUT, f"{name} {what}: a coverage report is {FORMATS}.")


class _Capped:
    """A binary file that refuses to give more than :data:`MAX_FILE_BYTES` (should it grow while read)."""

    def __init__(self, raw: BinaryIO, name: str):
        self._raw, self._name, self._left = raw, name, MAX_FILE_BYTES

    def read(self, size: int = -1) -> bytes:
        return self._take(self._raw.read(self._left + 1 if size < 0 else min(size, self._left + 1)))

    def readline(self, size: int) -> bytes:
        return self._take(self._raw.readline(min(size, self._left + 1)))

    def _take(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            raise _too_large(self._name)
        return data


def _too_large(name: str) -> InputError:
    return InputError(INPUT, f"{name} is larger than {MAX_FILE_BYTES:,} bytes, the most read of a coverage report.")


# --- Cobertura and JaCoCo XML -----------------------------------------------------------------------------


def _read_xml(stream: _Capped, name: str) -> CoverageTotals:
    return walk_xml(
        stream,  # type: ignore[arg-type]
        lambda events: _walk(events, name),
        input_name=INPUT,
        name=name,
        reports="coverage reports",
        hint=_POINT,
    )


def _walk(events: Iterable[tuple[str, Any]], name: str) -> CoverageTotals:
    """Walk ``iterparse``'s events, dropping each element once it has ended; the whole file is parsed even
    when the root's attributes already tell, so that a truncated report is refused."""
    elements: list[Any] = []  # the open elements, the root first
    root = ""
    summary: CoverageTotals | None = None  # Cobertura's root attributes, or JaCoCo's report-level counter
    lines: dict[tuple[str, str], bool] = {}  # Cobertura without a summary: (filename, number) -> covered
    filename = ""
    for event, element in events:
        tag = _local(element.tag)
        if event == "start":
            if not elements:
                root = tag
                if root not in ("coverage", "report"):
                    raise InputError(
                        INPUT,
                        f"{name} is in none of the formats read (its root element is <{tag}>): "
                        f"a coverage report is {FORMATS}.",
                    )
                if root == "coverage" and {"lines-covered", "lines-valid"} <= element.attrib.keys():
                    covered = _whole(element.get("lines-covered"), "lines-covered", name)
                    summary = _totals(covered, _whole(element.get("lines-valid"), "lines-valid", name), name)
            elif tag == "class" and root == "coverage":
                filename = element.get("filename", "")
            elements.append(element)
            continue
        elements.pop()
        if root == "coverage" and tag == "line" and summary is None:
            key = (filename, element.get("number", "").strip())
            lines[key] = lines.get(key, False) or _whole(element.get("hits", "0"), "line hits", name) > 0
        elif root == "report" and tag == "counter" and len(elements) == 1 and element.get("type") == "LINE":
            covered = _whole(element.get("covered", "0"), "LINE covered", name)
            summary = _totals(covered, covered + _whole(element.get("missed", "0"), "LINE missed", name), name)
        element.clear()
        if elements:
            elements[-1].remove(element)
    if summary is not None:
        return summary
    return CoverageTotals(sum(lines.values()), len(lines))


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


# --- lcov tracefiles --------------------------------------------------------------------------------------


def _read_lcov(stream: _Capped, name: str) -> CoverageTotals:
    totals = CoverageTotals(0, 0)
    source: bytes | None = None  # the SF of the open record
    hit = found = None  # its LH and LF
    lines: dict[int, bool] = {}  # its DA lines: number -> covered
    number = 0
    while data := stream.readline(MAX_LINE_BYTES + 1):
        number += 1
        if number == 1:
            data = data.removeprefix(b"\xef\xbb\xbf")
        where = f"line {number}"
        if len(data) > MAX_LINE_BYTES and not data.endswith(b"\n"):
            raise _bad_lcov(name, number, f"longer than {MAX_LINE_BYTES:,} bytes")
        line = data.strip()
        key, colon, value = line.partition(b":")
        if not line or (key in (b"TN", b"VER") and colon and source is None):
            continue
        if line == b"end_of_record":
            if source is None:
                raise _bad_lcov(name, number, "end_of_record with no SF: before it")
            if hit is not None and found is not None:
                totals += _totals(hit, found, name, where)
            else:
                totals += CoverageTotals(sum(lines.values()), len(lines))
            source = None
        elif not colon:
            raise _bad_lcov(name, number, f'"{_text(line)}" is not an lcov record')
        elif key == b"SF":
            if source is not None:
                raise _bad_lcov(name, number, f"SF: before the end_of_record of {_text(source)}")
            source, hit, found, lines = value, None, None, {}
        elif source is None:
            raise _bad_lcov(name, number, f"{_text(key)}: outside a record (SF: ... end_of_record)")
        elif key == b"LH":
            hit = _whole(value, "LH:", name, where)
        elif key == b"LF":
            found = _whole(value, "LF:", name, where)
        elif key == b"DA":
            fields = value.split(b",")
            count = fields[1].strip() if len(fields) > 1 else b""
            if not _COUNT.fullmatch(count):
                raise _bad_lcov(name, number, f"DA:{_text(value)} is not DA:<line>,<count>")
            line_number = _whole(fields[0], "DA: line", name, where)
            lines[line_number] = lines.get(line_number, False) or int(count) > 0
    if source is not None:
        raise _bad_lcov(name, number, f"no end_of_record after SF:{_text(source)}")
    return totals


def _bad_lcov(name: str, number: int, reason: str) -> InputError:
    return InputError(INPUT, malformed(name, "lcov", f"line {number}", reason, _POINT))


def _text(data: bytes) -> str:
    return cut(data.decode("utf-8", "replace"), 60)


# --- Shared -----------------------------------------------------------------------------------------------


def _whole(text: str | bytes | None, what: str, name: str, where: str = "") -> int:
    value = (text or "").strip()
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not value.isascii() or not value.isdigit():
        place = f" ({where})" if where else ""
        raise InputError(INPUT, f'{name}{place}: its {what} "{cut(value, 40)}" is not a whole number. {_POINT}')
    return int(value)


def _totals(covered: int, total: int, name: str, where: str = "") -> CoverageTotals:
    if covered > total:
        place = f" ({where})" if where else ""
        raise InputError(INPUT, f"{name}{place}: {covered:,} lines covered of {total:,} is more than all. {_POINT}")
    return CoverageTotals(covered, total)
