"""Code Insights on Bitbucket Cloud: a report, then its annotations in batches.

``PUT …/2.0/repositories/<ws>/<repo>/commit/<sha>/reports/<external id>`` creates or updates the report;
``POST …/reports/<id>/annotations`` takes 1 to 100 annotations and creates or updates them by their
``external_id`` (a re-run replaces rather than duplicates), at most 1000 a report.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ...model.insights import LINK, DataItem, InsightReport
from ...redaction import cut
from ..interface import Request
from .remote import repository_url
from .target import CloudTarget

INSIGHTS = "insights"
DETAILS_LIMIT = 2000
SUMMARY_LIMIT = 450
DATA_LIMIT = 10
BATCH = 100
ANNOTATION_LIMIT = 1000
REPORTER = "build-status"


def cloud_report_url(target: CloudTarget, commit: str, key: str) -> str:
    return f"{repository_url(target)}/commit/{commit}/reports/{quote(key, safe='')}"


def cloud_report_requests(target: CloudTarget, shown_auth: str, commit: str, report: InsightReport) -> list[Request]:
    """The report, then its annotations, 100 a request."""
    url = cloud_report_url(target, commit, report.key)
    kept, details = report.within(ANNOTATION_LIMIT)
    shown = (f"Authorization: {shown_auth}", "Content-Type: application/json")
    requests = [Request("PUT", url, _report_body(report, details), shown_lines=shown,
                        what=f"publishing the report {report.key}", commit=commit, endpoint=INSIGHTS)]  # fmt: skip
    for start in range(0, len(kept), BATCH):
        batch = [_annotation(item) for item in kept[start : start + BATCH]]
        requests.append(Request("POST", f"{url}/annotations", batch, shown_lines=shown,
                                what=f"adding annotations {start + 1}–{start + len(batch)} to {report.key}",
                                commit=commit, endpoint=INSIGHTS))  # fmt: skip
    return requests


def _report_body(report: InsightReport, details: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": report.title,
        "details": cut(details, DETAILS_LIMIT),
        "external_id": report.key,
        "report_type": report.kind,
        "result": "PASSED" if report.passed else "FAILED",
        "reporter": REPORTER,
        "data": [item.as_json("text") for item in report.data if _takes(item)][:DATA_LIMIT],
    }
    if report.web_link:
        body["link"] = report.web_link
    return body


def _takes(item: DataItem) -> bool:
    """Cloud's contract types a LINK item's ``href`` as a URI: one that is not http(s) is left out, like the
    report's own link (a 400 otherwise)."""
    return item.type != LINK or str(item.value[1]).startswith(("http://", "https://"))


def _annotation(annotation: Any) -> dict[str, Any]:
    """A summary of at most 450 characters (the first line, or its start), the rest in details."""
    message = annotation.message or "(no message)"
    first = message.splitlines()[0] if message.strip() else "(no message)"
    summary = cut(first, SUMMARY_LIMIT)
    body: dict[str, Any] = {
        "external_id": annotation.external_id,
        "annotation_type": annotation.type,
        "severity": annotation.severity,
        "result": "FAILED",
        "summary": summary,
    }
    if summary != message:
        body["details"] = cut(message, DETAILS_LIMIT)
    if annotation.path:
        body["path"] = annotation.path
        if annotation.line and annotation.line > 0:  # 1-based; the contracts refuse a negative line
            body["line"] = annotation.line
    return body
