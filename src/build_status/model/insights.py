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

    def as_json(self, link_text: str) -> dict[str, Any]:
        """The item as a remote takes it; ``link_text`` is its name for a link's text (``linktext``, ``text``)."""
        value = self.value
        if self.type == LINK:
            text, href = value
            value = {link_text: text, "href": href}
        return {"title": self.title, "type": self.type, "value": value}


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

    def within(self, limit: int) -> tuple[tuple[Annotation, ...], str]:
        """The annotations a remote that keeps at most ``limit`` takes, and the details, which say how many
        more there were."""
        kept = self.annotations[:limit]
        left_out = self.left_out + len(self.annotations) - len(kept)
        details = self.details
        if left_out:
            details = f"{details}\n{left_out} more failure(s) not annotated (Bitbucket keeps {limit})."
        return kept, details.strip()

    @property
    def web_link(self) -> str:
        """The link, when it is an http(s) URL (both flavours refuse anything else), else ``""``."""
        return self.link if self.link.startswith(("http://", "https://")) else ""
