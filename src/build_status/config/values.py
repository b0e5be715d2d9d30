"""The parsers of single input values: each takes the input's name and its raw text, and returns the value
or raises :class:`~build_status.errors.InputError` naming the input and what would be right."""

from __future__ import annotations

import math
import re
from typing import Callable
from urllib.parse import urlsplit

from ..errors import InputError
from ..redaction import cut
from ..workflow import escape_controls

DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$", re.IGNORECASE)
DURATION_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0", ""}
MAX_TIMEOUT = 6 * 3600
MAX_DURATION_MS = 366 * 24 * 3600 * 1000


def text(name: str, value: str) -> str:
    """The value with surrounding white space removed."""
    del name
    return value.strip()


def boolean(name: str, value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InputError(name, f"'{show(value)}' is not a boolean; use true or false.")


def base_url(name: str, value: str, *, example: str = "https://bitbucket.example.com") -> str:
    """An http(s) base URL without credentials, query or fragment, and without a trailing slash."""
    given = value.strip()
    if not given:
        raise InputError(name, f"is required: the base URL, e.g. {example}.")
    if any(ch.isspace() or ord(ch) < 32 for ch in given):
        raise InputError(name, "must not contain white space or control characters.")
    shown = show(without_secrets(given))
    try:
        parts = urlsplit(given)
        port = parts.port  # raises ValueError for a bad port
    except ValueError as exc:
        raise InputError(name, f"'{shown}' is not a valid URL ({exc}).") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(name, f"'{shown}' is not an http(s) URL; expected e.g. {example}.")
    if parts.username or parts.password:
        raise InputError(name, "must not contain credentials; use bitbucket-token or bitbucket-username/-password.")
    if parts.query or parts.fragment:
        raise InputError(name, "must not have a query or fragment; give the base URL with any context path.")
    del port
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path}"


def timeout(name: str, value: str) -> float:
    stripped = value.strip().lower().removesuffix("s").strip()
    try:
        seconds = float(stripped)
    except ValueError:
        seconds = math.nan
    if not (0 < seconds <= MAX_TIMEOUT):
        raise InputError(name, f"'{show(value)}' is not a number of seconds between 0 and {MAX_TIMEOUT}.")
    return seconds


def seconds(name: str, value: str, *, minimum: float, maximum: float) -> float:
    """A length of time: seconds, or a number with ms, s, m or h; between ``minimum`` and ``maximum``."""
    match = DURATION_RE.match(value.strip())
    found = math.nan
    if match:
        found = float(match.group(1)) * DURATION_UNITS_MS[(match.group(2) or "s").lower()] / 1000
    if not (minimum <= found <= maximum):
        raise InputError(
            name,
            f"'{show(value)}' is not a length of time between {minimum:g} s and {maximum:g} s "
            "(give seconds, or a number with ms, s, m or h: 15s, 2m).",
        )
    return found


def seconds_between(minimum: float, maximum: float) -> Callable[[str, str], float]:
    """The parser of a length of time between ``minimum`` and ``maximum`` seconds."""
    return lambda name, value: seconds(name, value, minimum=minimum, maximum=maximum)


def duration_ms(name: str, value: str) -> int | None:
    """How long a build took, in milliseconds (None when not given)."""
    given = value.strip()
    if not given:
        return None
    match = DURATION_RE.match(given)
    if not match:
        raise InputError(name, f"'{show(given)}' is not a duration; use milliseconds (90000) or 90s, 1.5m, 1h.")
    unit = (match.group(2) or "ms").lower()
    milliseconds = float(match.group(1)) * DURATION_UNITS_MS[unit]
    if not milliseconds <= MAX_DURATION_MS:
        raise InputError(name, f"'{show(given)}' is longer than a year; give the build's real duration.")
    return round(milliseconds)


def ca_cert(name: str, value: str) -> str:
    """The PEM text given, or read from the file named (checked to hold at least one certificate)."""
    given = value.strip()
    if not given:
        return ""
    if "-----BEGIN" in given:
        pem = given
    else:
        try:
            with open(given, encoding="utf-8", errors="replace") as handle:
                pem = handle.read()
        except (OSError, ValueError):  # ValueError: a NUL byte in the path
            raise InputError(
                name, f"no readable file at '{show(given)}'; give a path to a PEM file or the PEM text itself."
            ) from None
    if "-----BEGIN CERTIFICATE-----" not in pem or "-----END CERTIFICATE-----" not in pem:
        raise InputError(name, "holds no PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----).")
    return pem.strip() + "\n"


def single_line(name: str, value: str, limit: int = 255) -> str:
    stripped = value.strip()
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in stripped):
        raise InputError(name, "must be one line without control characters.")
    if len(stripped) > limit:
        raise InputError(name, f"is longer than {limit} characters.")
    return stripped


def patterns(name: str, value: str, what: str = "glob pattern") -> tuple[str, ...]:
    """Patterns (``test-results``, ``check-keys``), one per line or comma-separated, duplicates dropped.

    A comma inside ``[…]`` belongs to the pattern, as in the default key of a matrix job
    ``CI/test[os=ubuntu,py=3.12]`` or a glob's ``[ab,]``.
    """
    found: list[str] = []
    for line in re.split(r"\r\n|\r|\n", value):
        for word in _split_outside_brackets(line):
            word = word.strip()
            if not word:
                continue
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in word):
                raise InputError(name, f"'{show(word)}' is not a {what}: it holds control characters.")
            if word not in found:
                found.append(word)
    return tuple(found)


def _split_outside_brackets(line: str) -> list[str]:
    """``a, b[x=1,y=2]`` → ``["a", " b[x=1,y=2]"]``: commas split, but not inside square brackets."""
    words, depth, start = [], 0, 0
    for position, ch in enumerate(line):
        if ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
        elif ch == "," and not depth:
            words.append(line[start:position])
            start = position + 1
    words.append(line[start:])
    return words


def without_secrets(url: str) -> str:
    """A URL as it may be shown: no user info (``user:password@``), no query or fragment."""
    url = re.sub(r"^([^:/?#]*:?//)[^/?#]*@", r"\1***@", url)
    return re.split(r"[?#]", url, maxsplit=1)[0]


def show(value: str, limit: int = 60) -> str:
    """A user's value for an error message: line breaks, tabs and other control characters shown as escapes,
    secrets masked, shortened."""
    value = value.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\x09")
    return cut(escape_controls(value), limit)
