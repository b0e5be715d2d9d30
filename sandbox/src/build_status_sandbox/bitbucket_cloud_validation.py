"""Checking Bitbucket Cloud commit-status bodies as Bitbucket does, with its (Django-worded) messages, and the
error document it answers with: ``{"type": "error", "error": {"message": ..., "fields": {...}}}``."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

#: The states Bitbucket Cloud takes (no CANCELLED or UNKNOWN as on Data Center).
STATES = ("SUCCESSFUL", "FAILED", "INPROGRESS", "STOPPED")
#: The fields a status body may set, in the order errors are reported.
FIELDS = ("key", "state", "name", "description", "url", "refname")
REQUIRED = ("key", "state")
#: Bitbucket answers 400 to a longer key (seen 2016-2026; not in the published contract).
KEY_MAX_LENGTH = 40
#: Unverified caps: a Jenkins plugin asserts "name must be less than 255 characters" and "URL must be less than
#: 450 characters" for Bitbucket Server and Cloud; Atlassian documents neither.
NAME_MAX_LENGTH = 254
URL_MAX_LENGTH = 449
MAX_LENGTHS = {"key": KEY_MAX_LENGTH, "name": NAME_MAX_LENGTH, "url": URL_MAX_LENGTH}

REQUIRED_MESSAGE = "This field is required."
NOT_A_STRING = "Not a valid string."
INVALID_URL = "Enter a valid URL."
#: The message of a 400 whose cause is not one field (a body that is not a JSON object).
BAD_REQUEST = "Bad request"

#: URI template variables Bitbucket expands when it shows the URL: ``{repository.full_name}``, ``{commit.hash}``.
_TEMPLATE = re.compile(r"\{(?:repository|commit)(?:\.[A-Za-z0-9_]+)+\}")
# Django's URLValidator, with http(s) only: user info, a host name with a dotted top-level domain, localhost,
# an IPv4 or a bracketed IPv6 address, a port, then anything without white space.
_LABEL = r"[a-z\u00a1-\uffff0-9](?:[a-z\u00a1-\uffff0-9-]{0,61}[a-z\u00a1-\uffff0-9])?"
_DOMAIN = r"(?:\.(?!-)[a-z\u00a1-\uffff0-9-]{1,63}(?<!-))*"
_TLD = r"\.(?!-)(?:[a-z\u00a1-\uffff-]{2,63}|xn--[a-z0-9]{1,59})(?<!-)\.?"
_URL = re.compile(
    r"(?:https?)://(?:[^\s:@/]+(?::[^\s:@/]*)?@)?"
    r"(?P<host>\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\]|" + _LABEL + _DOMAIN + _TLD + r"|localhost)"
    r"(?::\d{1,5})?(?:[/?#]\S*)?",
    re.IGNORECASE,
)


def error_document(message: str, fields: dict[str, list[str]] | None = None, detail: str | None = None) -> dict:
    """Bitbucket Cloud's error body."""
    error: dict[str, Any] = {"message": message}
    if fields:
        error["fields"] = fields
    if detail:
        error["detail"] = detail
    return {"type": "error", "error": error}


def field_errors_document(errors: dict[str, list[str]]) -> dict:
    """The 400 body for field errors: each ``field: message`` in ``message`` (one a line), and ``fields``."""
    ordered = {name: errors[name] for name in FIELDS if name in errors}
    lines = [f"{name}: {message}" for name, messages in ordered.items() for message in messages]
    return error_document("\n".join(lines), ordered)


def valid_url(url: str) -> bool:
    """Whether Bitbucket would take ``url`` (its rules are a guess: they read like Django's URLValidator)."""
    expanded = _TEMPLATE.sub("x", url)
    match = _URL.fullmatch(expanded)
    if match is None:
        return False
    host = match.group("host")
    try:
        if host.startswith("["):
            ipaddress.IPv6Address(host[1:-1])
        elif re.fullmatch(r"[\d.]+", host):
            ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def validate(body: Any, partial: bool = False) -> tuple[dict[str, Any], dict[str, list[str]] | str]:
    """The status fields of ``body`` and its errors: a dict of field → messages, or a message when the body is
    not a JSON object.  ``partial`` (an update): the required fields may be left out.  ``null`` counts as
    left out; fields other than :data:`FIELDS` are ignored."""
    if not isinstance(body, dict):
        return {}, "The request body must be a JSON object."
    fields: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in FIELDS:
        value = body.get(name)
        if value is None or (name in REQUIRED and value == ""):
            if name in REQUIRED and not partial:
                errors[name] = [REQUIRED_MESSAGE]
            continue
        if not isinstance(value, str):
            errors[name] = [NOT_A_STRING]
            continue
        problem = _problem(name, value)
        if problem:
            errors[name] = [problem]
            continue
        fields[name] = value
    return fields, errors


def _problem(name: str, value: str) -> str | None:
    limit = MAX_LENGTHS.get(name)
    if limit is not None and len(value) > limit:
        return f"Ensure this value has at most {limit} characters (it has {len(value)})."
    if name == "state" and value not in STATES:
        return f"Select a valid choice. {value} is not one of the available choices."
    if name == "url" and value and not valid_url(value):
        return INVALID_URL
    return None
