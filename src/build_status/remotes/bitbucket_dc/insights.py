"""Code Insights on Bitbucket Data Center (5.15+, repository-scoped): a report, then its annotations.

``PUT …/rest/insights/1.0/projects/<p>/repos/<r>/commits/<sha>/reports/<key>`` creates or replaces the
report; Data Center never de-duplicates annotations, so the report's old ones are deleted
(``DELETE …/reports/<key>/annotations``) before the new ones are posted in one request
(``POST …/reports/<key>/annotations``, at most 1000 a report). That POST adds: it is never sent twice by the
transport (a lost answer repeats the whole sequence, whose DELETE makes it safe).
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from ...errors import InputError
from ...model.insights import InsightReport
from ...redaction import cut
from ..interface import Request
from .target import Target

INSIGHTS = "insights"
TITLE_LIMIT = 450
DETAILS_LIMIT = 2000
MESSAGE_LIMIT = 2000
DATA_LIMIT = 6
ANNOTATION_LIMIT = 1000
KEY_LIMIT = 450
#: An annotation's ``externalId``: "a string value shorter than 450 characters" (the contract: ``maxLength`` 450).
EXTERNAL_ID_LIMIT = 449
REPORTER = "build-status"


def dc_report_url(target: Target, commit: str, key: str) -> str:
    return (
        f"{target.base_url}/rest/insights/1.0/projects/{quote(target.project, safe='~')}"
        f"/repos/{quote(target.repo, safe='')}/commits/{commit}/reports/{quote(key, safe='')}"
    )


def dc_report_requests(target: Target, shown_auth: str, commit: str, report: InsightReport) -> list[Request]:
    """The report, the deletion of its old annotations, and its new ones (when it has any)."""
    if not report.key or len(report.key) > KEY_LIMIT:
        raise InputError("insights-key", f"must be 1 to {KEY_LIMIT} characters; it is {len(report.key)}.")
    url = dc_report_url(target, commit, report.key)
    kept, details = report.within(ANNOTATION_LIMIT)
    shown = (f"Authorization: {shown_auth}", "Content-Type: application/json")
    what = f"publishing the report {report.key}"
    requests = [Request("PUT", url, _report_body(report, details), shown_lines=shown, what=what,
                        commit=commit, endpoint=INSIGHTS)]  # fmt: skip
    requests.append(
        Request(
            "DELETE",
            f"{url}/annotations",
            shown_lines=shown[:1],
            what=f"deleting the old annotations of {report.key}",
            commit=commit,
            endpoint=INSIGHTS,
        )
    )
    if kept:
        body = {"annotations": [_annotation(item) for item in kept]}
        requests.append(Request("POST", f"{url}/annotations", body, shown_lines=shown,
                                what=f"adding {len(kept)} annotation(s) to {report.key}", commit=commit,
                                endpoint=INSIGHTS, repeatable=False))  # fmt: skip
    return requests


def _report_body(report: InsightReport, details: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": cut(report.title, TITLE_LIMIT),
        "details": cut(details, DETAILS_LIMIT),
        "result": "PASS" if report.passed else "FAIL",
        "reporter": REPORTER,
        "data": [item.as_json("linktext") for item in report.data[:DATA_LIMIT]],
    }
    if report.web_link:
        body["link"] = report.web_link
    return body


def _annotation(annotation: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "externalId": _external_id(annotation.external_id),
        "message": cut(annotation.message, MESSAGE_LIMIT) or "(no message)",
        "severity": annotation.severity,
        "type": annotation.type,
    }
    if annotation.path:
        body["path"] = annotation.path
        if annotation.line and annotation.line > 0:  # 1-based; the contracts refuse a negative line
            body["line"] = annotation.line
    return body


def _external_id(external_id: str) -> str:
    """The id, or, when it is too long for Data Center, its start and a digest of the whole (two long ids that
    start alike stay apart)."""
    if len(external_id) <= EXTERNAL_ID_LIMIT:
        return external_id
    digest = hashlib.sha256(external_id.encode("utf-8")).hexdigest()[:16]
    return f"{external_id[: EXTERNAL_ID_LIMIT - len(digest) - 1]}-{digest}"
