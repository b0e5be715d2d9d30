"""Checking build-status request bodies against the contract's schemas, with Bitbucket-like messages.

``jsonschema`` is imported on first use, so importing the sandbox stays light.
"""

from __future__ import annotations

from typing import Any

from build_status.model.states import STATES

LABELS = {
    "state": "The build state",
    "key": "Key",
    "url": "URL",
    "name": "Name",
    "description": "Description",
    "buildNumber": "Build number",
    "parent": "Parent",
    "ref": "Ref",
    "duration": "Duration",
    "lastUpdated": "Last updated",
    "testResults": "Test results",
    "testResults.successful": "The number of successful tests",
    "testResults.failed": "The number of failed tests",
    "testResults.skipped": "The number of skipped tests",
}

TYPE_WORDS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "object": "a JSON object",
    "array": "a list",
    "boolean": "true or false",
}


def _validator_for(schema: dict) -> Any:
    # Schemas are module constants; cache one validator per schema object.
    cached = _VALIDATORS.get(id(schema))
    if cached is None or cached[0] is not schema:
        from jsonschema import Draft7Validator

        cached = _VALIDATORS[id(schema)] = (schema, Draft7Validator(schema))
    return cached[1]


_VALIDATORS: dict[int, tuple[dict, Any]] = {}


def error(context: str | None, message: str, exception_name: str) -> dict:
    return {"context": context, "message": message, "exceptionName": exception_name}


def states_text(states: list[str] | tuple[str, ...]) -> str:
    ordered = [state for state in STATES if state in states]
    return ", ".join(ordered)


def validate(body: Any, schema: dict, exception_name: str, not_blank: tuple[str, ...] = ()) -> list[dict]:
    """The errors in ``body`` (empty when valid), one per field, sorted by field."""
    if not isinstance(body, dict):
        return [error(None, "The request body must be a JSON object.", exception_name)]
    errors: dict[str, dict] = {}
    for name in schema.get("required", ()):
        if body.get(name) is None:
            errors[name] = error(name, f"{LABELS.get(name, name)} is required.", exception_name)
    for problem in _validator_for(schema).iter_errors(body):
        if problem.validator == "required":
            continue
        context = ".".join(str(part) for part in problem.absolute_path) or None
        if context in errors:
            continue
        errors[context or ""] = error(context, _message(context, problem), exception_name)
    for name in not_blank:
        value = body.get(name)
        if name not in errors and isinstance(value, str) and not value.strip():
            errors[name] = error(name, f"{LABELS.get(name, name)} must not be blank.", exception_name)
    return [errors[name] for name in sorted(errors)]


def _message(context: str | None, problem: Any) -> str:
    label = LABELS.get(context or "", context or "The request body")
    kind = problem.validator
    value = problem.validator_value
    if kind == "enum":
        return f"{label} must be one of {states_text(value) if context == 'state' else ', '.join(map(str, value))}."
    if kind == "maxLength":
        return f"{label} must not be longer than {value} characters."
    if kind == "minLength":
        return f"{label} must not be blank." if value == 1 else f"{label} must be at least {value} characters long."
    if kind == "type":
        return f"{label} must be {TYPE_WORDS.get(value, value)}."
    if kind == "pattern" and context == "ref":
        return "Ref must be a full ref name starting with refs/, such as refs/heads/main."
    if kind == "pattern":
        return f"{label} must match {value}."
    return f"{label}: {problem.message}"
