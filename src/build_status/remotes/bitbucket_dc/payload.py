"""The request body for each of Bitbucket Data Center's endpoints, checked against the contract's JSON Schema."""

from __future__ import annotations

import re
from typing import Any

from ...errors import InputError
from ...model.status import BuildStatus
from .contract import BUILDS, BUILDS_REQUEST, ENDPOINT_LABEL, LEGACY_REQUEST

#: Payload field → the input it comes from (for error messages).
FIELD_INPUT = {
    "state": "state",
    "key": "key",
    "name": "name",
    "url": "url",
    "description": "description",
    "buildNumber": "build-number",
    "ref": "ref",
    "parent": "parent",
    "duration": "duration",
    "testResults": "test-results",
}


def build(status: BuildStatus, api: str) -> dict[str, Any]:
    """The JSON body that posts ``status`` on endpoint ``api`` (``commits`` or ``builds``)."""
    body: dict[str, Any] = {"state": status.state, "key": status.key, "url": status.url}
    if status.name:
        body["name"] = status.name
    if status.description:
        body["description"] = status.description
    if api == BUILDS:
        if status.build_number:
            body["buildNumber"] = status.build_number
        if status.ref:
            body["ref"] = status.ref
        if status.parent:
            body["parent"] = status.parent
        if status.duration_ms is not None:
            body["duration"] = status.duration_ms
        if status.tests is not None:
            tests = status.tests
            body["testResults"] = {"successful": tests.passed, "failed": tests.failed, "skipped": tests.skipped}
    return body


def validate(body: dict[str, Any], api: str) -> None:
    """Raise :class:`InputError` naming the input behind the first rule ``body`` breaks.

    ``jsonschema`` is the judge, but importing it costs about as much as the whole post (some 40 ms), so a
    body that plainly keeps every rule the schema states is let through without it: see :func:`plainly_valid`.
    """
    schema = BUILDS_REQUEST if api == BUILDS else LEGACY_REQUEST
    if not plainly_valid(body, schema):
        from jsonschema import Draft7Validator

        errors = sorted(Draft7Validator(schema).iter_errors(body), key=lambda e: list(e.path))
        if errors:
            raise _input_error(errors[0], body, api)
    for field in ("key", "url"):  # the contract allows "" here, Bitbucket does not
        if not body.get(field, "").strip():
            raise InputError(FIELD_INPUT[field], "must not be empty.")


#: The JSON types the contract's flat schemas use, as Python checks (bool is not an integer in JSON Schema).
_TYPES = {
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
}
#: The keywords :func:`plainly_valid` understands; a schema using any other is left to jsonschema.
_KNOWN = {"type", "enum", "minLength", "maxLength", "pattern", "format"}


def plainly_valid(body: dict[str, Any], schema: dict[str, Any]) -> bool:
    """True only when ``body`` surely keeps every rule of ``schema``; False means "ask jsonschema".

    A sound shortcut, not a second validator: it never says yes where jsonschema would say no (a
    hypothesis test holds it to that), and it never produces an error message.
    """
    properties = schema.get("properties", {})
    if any(name not in body for name in schema.get("required", ())):
        return False
    for name, value in body.items():
        rules = properties.get(name)
        if rules is None or set(rules) - _KNOWN or rules.get("type") not in _TYPES:
            return False
        if not _TYPES[rules["type"]](value):
            return False
        if "enum" in rules and value not in rules["enum"]:
            return False
        if isinstance(value, str):
            if not rules.get("minLength", 0) <= len(value) <= rules.get("maxLength", len(value)):
                return False
            if "pattern" in rules and not re.search(rules["pattern"], value):
                return False
    return True


def _input_error(error: Any, body: dict[str, Any], api: str) -> InputError:
    field = error.path[0] if error.path else (error.validator_value[0] if error.validator == "required" else "")
    name = FIELD_INPUT.get(str(field), str(field))
    where = f"the {ENDPOINT_LABEL[api]}"
    value = body.get(field)
    rule = error.validator
    if rule == "maxLength":
        return InputError(name, f"is {len(value)} characters; {where} takes at most {error.validator_value}.")
    if rule == "minLength":
        return InputError(name, "must not be empty.")
    if rule == "enum":
        return InputError(name, f"{value} is not taken by {where}; it takes {', '.join(error.validator_value)}.")
    if rule == "pattern" and field == "ref":
        return InputError(name, f"'{value}' must start with refs/ (e.g. refs/heads/main).")
    if rule == "required":
        return InputError(name, "is required.")
    return InputError(name, f"is not accepted by {where}: {error.message}")
