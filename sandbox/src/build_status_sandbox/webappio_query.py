"""webapp.io's run search language, as the ``search`` parameter of ``GET /api/v1/run/<repo>/search`` takes it.

Pure functions: :func:`parse` turns the text into a :class:`Query`, whose :meth:`Query.matches` says whether a
job record satisfies it.  Terms are separated by white space and all must hold:

- ``word``: a case-insensitive substring of the job's author, commit title or commit body;
- ``"exact text"``: a case-sensitive substring of one of them (inside quotes ``\\"`` is a quote, ``\\\\`` a
  backslash, and no other escape exists);
- ``-word`` / ``-"exact text"``: must not appear (only words and phrases can be negated);
- ``repo:NAME``, ``branch:NAME`` (exact, case-sensitive), ``id:N`` (decimal), ``status:VALUE`` (a calculated
  status, case-insensitive); a value may be double-quoted with the same escapes (``branch:"feature x"``), and
  the key is case-insensitive; a ``key:value`` word whose key is none of these is free text;
- ``running``, ``done``, ``failed`` (case-insensitive keywords): the calculated status is still going, is
  anything else, or is one of the failures.

A double quote inside an unquoted word is refused (quote the whole term); a backslash there is literal.
An empty query matches every job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

#: Every ``calculated_status`` a job can have.
CALCULATED_STATUSES = (
    "NEW",
    "STARTING_RUNNERS",
    "RUNNING",
    "SUCCEEDED",
    "FAILURE",
    "JOB_ERROR",
    "BAD_LAYERFILE",
    "RUNNER_ERROR",
    "RUNNER_CANCELLED",
)
#: The calculated statuses of a job that is still going (the ``running`` keyword); the rest are ``done``.
RUNNING_STATUSES = frozenset({"NEW", "STARTING_RUNNERS", "RUNNING"})
#: The calculated statuses the ``failed`` keyword matches (a cancelled runner is not a failure).
FAILED_STATUSES = frozenset({"JOB_ERROR", "BAD_LAYERFILE", "FAILURE", "RUNNER_ERROR"})

FILTER_KEYS = ("repo", "branch", "id", "status")
KEYWORDS = ("running", "done", "failed")
#: The job fields free text and phrases are looked for in.
TEXT_FIELDS = ("author", "title", "body")
#: The job fields the filters compare with.
FILTER_FIELDS = {"repo": "repository_name", "branch": "branch", "id": "id", "status": "calculated_status"}

_DECIMAL = re.compile(r"[0-9]+")

Value = Union[str, int, None]


class QueryError(ValueError):
    """The search text is malformed; the message says what is wrong (without the "Invalid search query" prefix)."""


def _needs_quotes(value: str) -> bool:
    return not value or any(char.isspace() or char in '"\\' for char in value)


def quote_always(value: str) -> str:
    """``value`` in double quotes, with ``"`` and ``\\`` escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote(value: str) -> str:
    """A filter value as clients write it: in double quotes (``"`` and ``\\`` escaped) when it is empty or
    contains white space, a double quote or a backslash; else as it is.  ``parse(f"branch:{quote(b)}")``
    finds exactly the branch ``b``."""
    if not isinstance(value, str):
        raise TypeError(f"quote takes a string, not {type(value).__name__}")
    return quote_always(value) if _needs_quotes(value) else value


@dataclass(frozen=True)
class Term:
    """One term: ``kind`` is ``"text"``, ``"phrase"``, a filter key (``repo``, ``branch``, ``id``, ``status``)
    or a keyword (``running``, ``done``, ``failed``); ``value`` is the text, the filter value (an int for
    ``id``, upper-case for ``status``) or None for keywords."""

    kind: str
    value: Value = None
    negated: bool = False

    def matches(self, job: Mapping[str, Any]) -> bool:
        return self._holds(job) != self.negated

    def _holds(self, job: Mapping[str, Any]) -> bool:
        kind = self.kind
        if kind == "text":
            needle = str(self.value).casefold()
            return any(needle in _text(job, name).casefold() for name in TEXT_FIELDS)
        if kind == "phrase":
            return any(str(self.value) in _text(job, name) for name in TEXT_FIELDS)
        if kind in FILTER_FIELDS:
            found = job.get(FILTER_FIELDS[kind])
            if kind == "id":
                return isinstance(found, int) and not isinstance(found, bool) and found == self.value
            return isinstance(found, str) and found == self.value
        status = job.get("calculated_status")
        if kind == "running":
            return status in RUNNING_STATUSES
        if kind == "done":
            return status not in RUNNING_STATUSES
        return status in FAILED_STATUSES  # "failed"

    def __str__(self) -> str:
        sign = "-" if self.negated else ""
        if self.kind == "text":
            return f"{sign}{self.value}"
        if self.kind == "phrase":
            return f"{sign}{quote_always(str(self.value))}"
        if self.kind in FILTER_FIELDS:
            return f"{sign}{self.kind}:{quote(str(self.value))}"
        return f"{sign}{self.kind}"


@dataclass(frozen=True)
class Query:
    """Parsed search text: every term must hold.  ``str(query)`` is a canonical text that parses back to it."""

    terms: tuple[Term, ...] = ()

    def matches(self, job: Mapping[str, Any]) -> bool:
        """Whether ``job`` satisfies every term.  ``job`` is a mapping with ``repository_name``, ``id``,
        ``branch``, ``calculated_status`` and (optional) ``author``, ``title``, ``body``."""
        return all(term.matches(job) for term in self.terms)

    def __str__(self) -> str:
        return " ".join(str(term) for term in self.terms)


def _text(job: Mapping[str, Any], name: str) -> str:
    value = job.get(name)
    return value if isinstance(value, str) else ""


class _Scanner:
    """Walks the search text one term at a time."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def _end_of_term(self) -> bool:
        return self.at >= len(self.text) or self.text[self.at].isspace()

    def quoted(self) -> str:
        """The quoted text starting at the current ``"``; leaves the scanner after the closing quote."""
        start = self.at
        self.at += 1
        chars: list[str] = []
        text = self.text
        while self.at < len(text):
            char = text[self.at]
            if char == '"':
                self.at += 1
                if not self._end_of_term():
                    raise QueryError(
                        f"text right after the closing quote at character {self.at + 1}; "
                        "separate terms with white space"
                    )
                return "".join(chars)
            if char == "\\":
                if self.at + 1 >= len(text):
                    break
                escaped = text[self.at + 1]
                if escaped not in '"\\':
                    raise QueryError(
                        f"unknown escape \\{escaped} at character {self.at + 1} "
                        '(inside quotes only \\" and \\\\ are escapes)'
                    )
                chars.append(escaped)
                self.at += 2
                continue
            chars.append(char)
            self.at += 1
        raise QueryError(f"unterminated quote starting at character {start + 1}")

    def word(self) -> str:
        """The unquoted text from here to the next white space."""
        start = self.at
        while not self._end_of_term():
            if self.text[self.at] == '"':
                raise QueryError(
                    f"a double quote inside the word starting at character {start + 1}; "
                    'quote the whole term or value, escaping quotes as \\"'
                )
            self.at += 1
        return self.text[start : self.at]

    def value(self) -> str:
        return self.quoted() if self.at < len(self.text) and self.text[self.at] == '"' else self.word()

    def terms(self) -> list[Term]:
        found = []
        text = self.text
        while True:
            while self.at < len(text) and text[self.at].isspace():
                self.at += 1
            if self.at >= len(text):
                return found
            found.append(self.term())

    def term(self) -> Term:
        start = self.at
        negated = self.text[self.at] == "-"
        if negated:
            self.at += 1
            if self._end_of_term():
                raise QueryError(f'"-" at character {start + 1} must be followed by a word or a quoted phrase')
        if self.text[self.at] == '"':
            phrase = self.quoted()
            if not phrase:
                raise QueryError(f"an empty quoted phrase at character {start + 1}")
            return Term("phrase", phrase, negated)
        raw_key, colon, _ = self.text[self.at :].partition(":")
        key = raw_key.lower()
        if colon and key in FILTER_KEYS:
            if negated:
                raise QueryError(
                    f"only words and quoted phrases can be negated, not the {key}: filter at character {start + 1}"
                )
            self.at += len(raw_key) + 1
            return _filter(key, self.value(), start)
        word = self.word()
        if word.lower() in KEYWORDS:
            if negated:
                raise QueryError(
                    f"only words and quoted phrases can be negated, not the keyword {word.lower()} "
                    f"at character {start + 1}"
                )
            return Term(word.lower())
        return Term("text", word, negated)


def _filter(key: str, value: str, start: int) -> Term:
    where = f"at character {start + 1}"
    if not value:
        raise QueryError(f"{key}: needs a value {where}")
    if key == "id":
        if not _DECIMAL.fullmatch(value):
            raise QueryError(f"id: must be a decimal number, not {value!r} {where}")
        return Term("id", int(value))
    if key == "status":
        status = value.upper()
        if status not in CALCULATED_STATUSES:
            raise QueryError(f"status: must be one of {', '.join(CALCULATED_STATUSES)}, not {value!r} {where}")
        return Term("status", status)
    return Term(key, value)


def parse(text: str) -> Query:
    """Parse search text into a :class:`Query`; raises :class:`QueryError` when it is malformed."""
    if not isinstance(text, str):
        raise QueryError(f"the query must be text, not {type(text).__name__}")
    return Query(tuple(_Scanner(text).terms()))
