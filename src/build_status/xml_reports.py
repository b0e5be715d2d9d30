"""Reading a report's XML safely, for the test and the coverage readers alike: streamed (``iterparse``),
entity declarations and external references refused by defusedxml, and every refusal one InputError that
names the file and where the parser stopped. defusedxml is imported on first use (start-up time)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO, TypeVar

from .errors import InputError, sentence

T = TypeVar("T")
_POSITION = re.compile(r":\s*line \d+, column \d+$")


def malformed(name: str, kind: str, where: str, reason: str, hint: str) -> str:
    """``name is not well-formed <kind> (<where>): <reason>.`` and what the input should point at."""
    place = f" ({where})" if where else ""
    return sentence(f"{name} is not well-formed {kind}{place}: {reason}") + f" {hint}"


def walk_xml(
    stream: BinaryIO,
    walk: Callable[[Iterable[tuple[str, Any]]], T],
    *,
    input_name: str,
    name: str,
    reports: str,
    hint: str,
) -> T:
    """``walk`` over the ``start``/``end`` events of the XML in ``stream`` (the file ``name``): its result, or
    an InputError for ``input_name`` (``reports``: what the reports are, for "… need none")."""
    from defusedxml import DefusedXmlException, EntitiesForbidden
    from defusedxml.ElementTree import ParseError, iterparse

    try:
        return walk(iterparse(stream, ("start", "end")))
    except DefusedXmlException as exc:
        if isinstance(exc, EntitiesForbidden):
            why = "declares XML entities, which are refused (protection against entity expansion)"
        else:
            why = "refers to an external DTD or entity, which is refused (no file or URL is read for it)"
        raise InputError(input_name, f"{name} {why}; {reports} need none.") from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        where = f"line {line}, column {column + 1}"
        raise InputError(input_name, malformed(name, "XML", where, _POSITION.sub("", str(exc)), hint)) from None
    except (ValueError, LookupError) as exc:  # an encoding expat cannot read
        raise InputError(input_name, malformed(name, "XML", "", str(exc), hint)) from None
