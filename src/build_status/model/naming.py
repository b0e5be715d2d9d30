"""Default build key, name, parent and description, derived from the run."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..context import Context
from ..redaction import cut
from .states import LABELS

#: How many hex digits of SHA-256 stand for the tail of a key that is too long.
HASH_DIGITS = 16


def parse_matrix(text: str) -> list[tuple[str, str]]:
    """The matrix values as ``(name, value)`` pairs, in the order the workflow gives them.

    ``toJSON(matrix)`` is ``null`` (or ``{}``) for a job without a matrix.  Raises ValueError for text that
    is not a JSON object.
    """
    text = text.strip()
    if not text:
        return []
    data = json.loads(text)
    if data is None:
        return []
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return [(str(name), _scalar(value)) for name, value in data.items()]


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def job_id(context: Context) -> str:
    """``workflow/job``: what identifies a job across runs and re-runs."""
    workflow = context.workflow or "build"
    return f"{workflow}/{context.job}" if context.job else workflow


def default_key(context: Context, matrix: list[tuple[str, str]], limit: int) -> str:
    """``workflow/job[name=value,...]``, at most ``limit`` characters (a longer tail is replaced by its hash).

    The matrix's names are in a canonical (sorted) order: the same combination gets the same key whatever
    order the runner lists them in (GitHub keeps the workflow's, act sorts them) or a later edit of the
    workflow puts them in.
    """
    key = job_id(context)
    if matrix:
        key += "[" + ",".join(f"{name}={value}" for name, value in sorted(matrix)) + "]"
    return fit_key(key, limit)


def fit_key(key: str, limit: int) -> str:
    """Shorten a key to ``limit`` characters keeping it distinct: the tail is replaced by a hash of the whole."""
    if len(key) <= limit:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:HASH_DIGITS]
    return f"{key[: limit - HASH_DIGITS - 1]}~{digest}"


def default_name(context: Context, matrix: list[tuple[str, str]], limit: int) -> str:
    """``workflow › job (value, value)``, cut with an ellipsis at ``limit`` characters."""
    parts = [part for part in (context.workflow, context.job) if part]
    name = " › ".join(parts) or "build"
    if matrix:
        name += " (" + ", ".join(value for _, value in matrix) + ")"
    return cut(name, limit)


def webappio_key(repo: str, limit: int) -> str:
    """The default key of a relayed webapp.io run: one per webapp.io repository (and so per commit)."""
    return fit_key(f"webapp.io/{repo}", limit)


def webappio_name(repo: str, limit: int) -> str:
    return cut(f"webapp.io › {repo}", limit)


def webappio_description(run_id: int | str, calculated_status: str, given: str = "") -> str:
    """The description of a relayed run: the calculated status, after the user's own text if any."""
    status = f"webapp.io run #{run_id}: {calculated_status}"
    return f"{given} ({status})" if given else status


def default_description(context: Context, state: str, *, duration_ms: int | None = None, tests: Any = None) -> str:
    """``Succeeded in 3m 12s · 118 passed, 2 skipped · run #17`` (the parts that are known)."""
    label = LABELS.get(state, state.title())
    if duration_ms is not None and state != "INPROGRESS":
        label += f" in {format_duration(duration_ms)}"
    if tests is not None:
        label += f" · {tests.describe()}"
    if context.run_number:
        label += f" · run #{context.run_number}"
        if context.run_attempt and context.run_attempt != "1":
            label += f", attempt {context.run_attempt}"
    return label


def format_duration(milliseconds: int) -> str:
    """``850ms``, ``12s``, ``3m 12s``, ``1h 4m``."""
    if milliseconds < 1000:
        return f"{milliseconds}ms"
    seconds = round(milliseconds / 1000)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds}s" if seconds else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m" if minutes else f"{hours}h"
