"""Checking Code Insights bodies: Data Center reports and annotations (errors as Bitbucket's
``{"context", "message", "exceptionName"}`` items), and the data items both flavours share.

Field rules are those of FACTS §7: Data Center titles ≤450, details ≤2000, ≤6 data items, results PASS|FAIL,
annotation messages ≤2000, severities LOW|MEDIUM|HIGH, lines ≥0, external ids shorter than 450.  The wording of
the messages is the sandbox's own (Bitbucket's is unverified).
"""

from __future__ import annotations

from typing import Any, Optional

from .page import is_web_url

VALIDATION_EXCEPTION = "com.atlassian.bitbucket.validation.ArgumentValidationException"

DATA_TYPES = ("BOOLEAN", "DATE", "DURATION", "LINK", "NUMBER", "PERCENTAGE", "TEXT")
DC_RESULTS = ("PASS", "FAIL")
DC_SEVERITIES = ("LOW", "MEDIUM", "HIGH")
ANNOTATION_TYPES = ("VULNERABILITY", "CODE_SMELL", "BUG")
#: Data Center: at most this many data items per report.
DC_MAX_DATA = 6
DC_TITLE_MAX = 450
DC_DETAILS_MAX = 2000
DC_REPORTER_MAX = 450
DC_MESSAGE_MAX = 2000
#: "Must be less than 450 characters" (FACTS §7a): 449 is the longest external id taken.
DC_EXTERNAL_ID_MAX = 449
#: The longest path the contract's schema takes.
DC_PATH_MAX = 50000


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def data_item_problem(item: Any, link_text: str) -> Optional[str]:
    """What is wrong with one data item, or None.  ``link_text``: ``"linktext"`` (Data Center) or ``"text"``."""
    if not isinstance(item, dict):
        return "must be a JSON object with a title and a value"
    title = item.get("title")
    if not isinstance(title, str) or not title.strip():
        return "needs a title (a string)"
    kind = item.get("type")
    value = item.get("value")
    if kind is not None and kind not in DATA_TYPES:
        return f"has type {kind!r}; the type must be one of {', '.join(DATA_TYPES)}"
    if value is None:
        return "needs a value"
    if kind == "BOOLEAN" and not isinstance(value, bool):
        return "is a BOOLEAN: its value must be true or false"
    if kind in ("DATE", "DURATION", "NUMBER") and not _number(value):
        unit = {"DATE": " (milliseconds since the epoch)", "DURATION": " (milliseconds)"}.get(kind, "")
        return f"is a {kind}: its value must be a number{unit}"
    if kind == "PERCENTAGE" and not (_number(value) and 0 <= value <= 100):
        return "is a PERCENTAGE: its value must be a number from 0 to 100"
    if kind == "TEXT" and not isinstance(value, str):
        return "is TEXT: its value must be a string"
    if kind == "LINK":
        if not isinstance(value, dict) or not isinstance(value.get(link_text), str):
            return f'is a LINK: its value must be {{"{link_text}": "…", "href": "…"}}'
        if not is_web_url(value.get("href")):
            return "is a LINK: its href must be an http(s) URL"
    if kind is None and not isinstance(value, (bool, int, float, str)):
        return "has no type: its value must be a number, a string or true/false"
    return None


def data_problems(data: Any, limit: int, link_text: str) -> list[tuple[str, str]]:
    """``(context, message)`` for a report's ``data``: a list of at most ``limit`` valid items."""
    if not isinstance(data, list):
        return [("data", "The data must be a list of data items.")]
    if len(data) > limit:
        return [("data", f"A report may have at most {limit} data items, not {len(data)}.")]
    problems = []
    for index, item in enumerate(data):
        problem = data_item_problem(item, link_text)
        if problem:
            problems.append((f"data[{index}]", f"Data item {index + 1} {problem}."))
    return problems


def _error(context: Optional[str], message: str) -> dict:
    return {"context": context, "message": message, "exceptionName": VALIDATION_EXCEPTION}


def _string(body: dict, name: str, label: str, limit: int, errors: list, prefix: str = "") -> None:
    value = body.get(name)
    if value is None:
        return
    if not isinstance(value, str):
        errors.append(_error(prefix + name, f"{label} must be a string."))
    elif len(value) > limit:
        errors.append(_error(prefix + name, f"{label} must not be longer than {limit} characters."))


def _url(body: dict, name: str, label: str, errors: list, prefix: str = "") -> None:
    value = body.get(name)
    if value is not None and not is_web_url(value):
        errors.append(_error(prefix + name, f"{label} must be an http or https URL."))


def dc_report_errors(body: Any) -> list[dict]:
    """The errors of a report PUT body (empty when valid)."""
    if not isinstance(body, dict):
        return [_error(None, "The request body must be a JSON object.")]
    errors: list[dict] = []
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        message = "The report title is required." if title in (None, "") else "The report title must be a string."
        errors.append(_error("title", message))
    elif len(title) > DC_TITLE_MAX:
        errors.append(_error("title", f"The report title must not be longer than {DC_TITLE_MAX} characters."))
    _string(body, "details", "The report details", DC_DETAILS_MAX, errors)
    _string(body, "reporter", "The reporter", DC_REPORTER_MAX, errors)
    _string(body, "coverageProviderKey", "The coverage provider key", 10**6, errors)
    if body.get("result") is not None and body.get("result") not in DC_RESULTS:
        errors.append(_error("result", f"The report result must be one of {', '.join(DC_RESULTS)}."))
    _url(body, "link", "The report link", errors)
    _url(body, "logoUrl", "The logo URL", errors)
    created = body.get("createdDate")
    if created is not None and (not isinstance(created, int) or isinstance(created, bool)):
        errors.append(_error("createdDate", "The created date must be a whole number of milliseconds."))
    if body.get("data") is not None:
        errors.extend(
            _error(context, message) for context, message in data_problems(body["data"], DC_MAX_DATA, "linktext")
        )
    return errors


def dc_annotation_errors(item: Any, prefix: str = "") -> list[dict]:
    """The errors of one annotation (``prefix``: ``"annotations[3]."`` in a bulk request)."""
    if not isinstance(item, dict):
        return [_error(prefix.rstrip(".") or None, "An annotation must be a JSON object.")]
    errors: list[dict] = []
    message = item.get("message")
    if not isinstance(message, str) or not message.strip():
        errors.append(_error(prefix + "message", "The annotation message is required."))
    else:
        _string(item, "message", "The annotation message", DC_MESSAGE_MAX, errors, prefix)
    if item.get("severity") not in DC_SEVERITIES:
        text = "is required" if item.get("severity") is None else f"must be one of {', '.join(DC_SEVERITIES)}"
        errors.append(_error(prefix + "severity", f"The annotation severity {text}."))
    if item.get("type") is not None and item.get("type") not in ANNOTATION_TYPES:
        errors.append(_error(prefix + "type", f"The annotation type must be one of {', '.join(ANNOTATION_TYPES)}."))
    _string(item, "path", "The annotation path", DC_PATH_MAX, errors, prefix)
    line = item.get("line")
    if line is not None and (not isinstance(line, int) or isinstance(line, bool) or line < 0):
        errors.append(_error(prefix + "line", "The annotation line must be a whole number of at least 0."))
    external_id = item.get("externalId")
    if isinstance(external_id, str) and len(external_id) > DC_EXTERNAL_ID_MAX:
        errors.append(_error(prefix + "externalId", "The external ID must be less than 450 characters long."))
    else:
        _string(item, "externalId", "The external ID", DC_EXTERNAL_ID_MAX, errors, prefix)
    _url(item, "link", "The annotation link", errors, prefix)
    return errors


# -- Bitbucket Cloud (FACTS §7b) -------------------------------------------------------------------
CLOUD_REPORT_TYPES = ("SECURITY", "COVERAGE", "TEST", "BUG")
CLOUD_RESULTS = ("PASSED", "FAILED", "PENDING")
CLOUD_SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
CLOUD_ANNOTATION_RESULTS = ("PASSED", "FAILED", "SKIPPED", "IGNORED")
CLOUD_MAX_DATA = 10
CLOUD_DETAILS_MAX = 2000
CLOUD_SUMMARY_MAX = 450
#: Bitbucket's own messages (reported: saibotsivad/bpr-npm-audit PR #3, reviewdog/reviewdog issue #1285).
DETAILS_TOO_LONG = "The details field cannot contain more than 2000 characters."
SUMMARY_TOO_LONG = "The summary field cannot contain more than 450 characters."
#: The sandbox's wording (Bitbucket rejects an empty summary; its message is unverified).
SUMMARY_REQUIRED = "The summary field is required and cannot be empty."
CLOUD_REPORT_STRINGS = ("title", "details", "external_id", "reporter", "link", "logo_url", "report_type", "result")
CLOUD_ANNOTATION_STRINGS = (
    "external_id",
    "annotation_type",
    "path",
    "summary",
    "details",
    "result",
    "severity",
    "link",
)


def _cloud_common(body: dict, strings: tuple[str, ...], enums: dict[str, tuple[str, ...]]) -> Optional[str]:
    for name in strings:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            return f"The {name} field must be a string."
    for name, choices in enums.items():
        value = body.get(name)
        if value is not None and value not in choices:
            return f"The {name} field must be one of {', '.join(choices)}, not {value!r}."
    for name in ("link", "logo_url"):
        value = body.get(name)
        if value is not None and not is_web_url(value):
            return f"The {name} field must be an http or https URL."
    return None


def cloud_report_problem(body: Any) -> Optional[str]:
    """The message of the 400 a Cloud report PUT gets, or None.  No field is required (the spec marks none)."""
    if not isinstance(body, dict):
        return "The request body must be a JSON object."
    problem = _cloud_common(body, CLOUD_REPORT_STRINGS, {"report_type": CLOUD_REPORT_TYPES, "result": CLOUD_RESULTS})
    if problem:
        return problem
    if isinstance(body.get("details"), str) and len(body["details"]) > CLOUD_DETAILS_MAX:
        return DETAILS_TOO_LONG
    enabled = body.get("remote_link_enabled")
    if enabled is not None and not isinstance(enabled, bool):
        return "The remote_link_enabled field must be true or false."
    data = body.get("data")
    if data is not None:
        if isinstance(data, list) and len(data) > CLOUD_MAX_DATA:
            return f"The data field cannot contain more than {CLOUD_MAX_DATA} elements."
        problems = data_problems(data, CLOUD_MAX_DATA, "text")
        if problems:
            return problems[0][1]
    return None


def cloud_annotation_problem(item: Any) -> Optional[str]:
    """The message of the 400 a Cloud annotation gets, or None."""
    if not isinstance(item, dict):
        return "An annotation must be a JSON object."
    problem = _cloud_common(
        item,
        CLOUD_ANNOTATION_STRINGS,
        {
            "annotation_type": ANNOTATION_TYPES,
            "severity": CLOUD_SEVERITIES,
            "result": CLOUD_ANNOTATION_RESULTS,
        },
    )
    if problem:
        return problem
    summary = item.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        return SUMMARY_REQUIRED
    if len(summary) > CLOUD_SUMMARY_MAX:
        return SUMMARY_TOO_LONG
    line = item.get("line")
    if line is not None and (not isinstance(line, int) or isinstance(line, bool) or line < 1):
        return "The line field must be a whole number of at least 1."
    return None
