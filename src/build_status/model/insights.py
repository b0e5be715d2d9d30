"""A Code Insights report as one model feeds both Bitbucket flavours: a title, a result, a few data items and
the annotations that point at lines (each remote writes it in its own words)."""

from __future__ import annotations

from typing import Any, NamedTuple

#: What a report is about (Cloud's ``report_type``; Data Center has no such field).
TEST, COVERAGE = "TEST", "COVERAGE"
#: A data item's types, as both flavours name them.
PERCENTAGE, NUMBER, DURATION, LINK, TEXT = "PERCENTAGE", "NUMBER", "DURATION", "LINK", "TEXT"


class DataItem(NamedTuple):
    title: str
    type: str
    #: A number for PERCENTAGE (0–100), NUMBER and DURATION (milliseconds), text for TEXT, and
    #: ``(text, href)`` for LINK.
    value: Any


class Annotation(NamedTuple):
    """One line-level finding (a failed test): where, what, and an id that a re-run keeps."""

    external_id: str
    #: The whole text; a remote cuts it to its limits (Cloud: a summary, the rest in details).
    message: str
    #: Relative to the repository root, ``/`` separators; None: the report as a whole.
    path: str | None = None
    #: 1-based; None: the top of the file.
    line: int | None = None
    severity: str = "HIGH"
    type: str = "BUG"


class InsightReport(NamedTuple):
    """One report on a commit."""

    key: str
    title: str
    kind: str
    passed: bool
    details: str = ""
    data: tuple[DataItem, ...] = ()
    link: str = ""
    annotations: tuple[Annotation, ...] = ()
    #: Annotations there were but that are not sent (the remote's limit): said in the details.
    left_out: int = 0
