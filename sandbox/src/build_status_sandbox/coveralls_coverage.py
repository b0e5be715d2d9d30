"""A Coveralls build's aggregate coverage, served as ``GET /builds/<build id>.json`` and
``GET /builds/<commit sha>.json``.

What is public (and *unverified*: used by client code, not in Coveralls' documentation): the answer is
``{created_at, url, commit_message, branch, committer_name, committer_email, commit_sha, repo_name, badge_url,
coverage_change, covered_percent}``; ``covered_percent`` is a float 0-100 at full precision, ``coverage_change``
is in percentage points rounded to 3 decimals; by commit, the newest build of that commit; 404s come as HTML.

The emulation's choices:

- A build's coverage merges its jobs line by line: per (file name, line), a line is relevant if any job
  says it is (``coverage`` entry not null) and covered if any job hit it (entry > 0).  The jobs are the build's
  uploads plus, for each carried-forward flag the build did not upload, the jobs of that flag in the build it
  was carried from (following earlier carries).  ``covered_percent`` = covered lines / relevant lines * 100;
  with no relevant line at all it is ``0.0``.
- Figures are computed once, when the build closes (the webhook's ``done``, or a job that is not parallel):
  until then ``covered_percent`` and ``coverage_change`` are ``null`` (and the badge is "unknown").
- ``coverage_change``: the build's percentage minus that of the build of the same repository and branch that
  closed last before it (builds without a branch compare with each other); a branch's first closed build has
  its own percentage as change (as in a captured Coveralls answer).  Rounded to 3 decimals.
- The commit, branch, commit message and committer come from the first job of the build that names them
  (``git.head.id``, ``git.branch``, ``git.head.message``, ``git.head.committer_*`` or else ``author_*``);
  ``repo_name`` from the first job's ``repo_name``, else ``sandbox/repo-<8 hex digits of the token's digest>``.
- ``url`` is ``null`` (as in the captured answers; the webhook answers the build's page URL);
  ``created_at`` is when the build's first job came, ``YYYY-MM-DDTHH:MM:SSZ``; ``badge_url`` is Coveralls'
  badge of the whole percentage (rounded down).
- The key is a build id (1-18 digits) or a full commit sha (40 or 64 hex digits, any case); anything else,
  and any build or commit not known, answers 404 with an HTML page.
- ``?repo_token=`` is optional: a known token limits the lookup to its repository (an unknown one is
  ignored).  With the setting ``private_builds`` on, a known token is needed, else the same 404 page.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import Any, Optional

from .coveralls_payloads import count_lines

BADGE_URL = "https://s3.amazonaws.com/assets.coveralls.io/badges/coveralls_{}.svg"
NOT_FOUND = "The page you were looking for doesn't exist."

#: The JSON fields, in Coveralls' order.
FIELDS = (
    "created_at",
    "url",
    "commit_message",
    "branch",
    "committer_name",
    "committer_email",
    "commit_sha",
    "repo_name",
    "badge_url",
    "coverage_change",
    "covered_percent",
)
#: The fields a build takes from the first job that names them: the build's name → the job's.
GIT_FIELDS = {
    "commit_sha": "commit",
    "branch": "branch",
    "commit_message": "commit_message",
    "committer_name": "committer_name",
    "committer_email": "committer_email",
}

_BUILD_ID = re.compile(r"[0-9]{1,18}")
_SHA = re.compile(r"[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64}")


def lookup_key(text: str) -> Optional[tuple[str, Any]]:
    """``("id", <int>)``, ``("commit", <lower-case sha>)``, or None when ``text`` is neither."""
    if _BUILD_ID.fullmatch(text):
        return ("id", int(text))
    if _SHA.fullmatch(text):
        return ("commit", text.lower())
    return None


def merge(parts: Iterable[dict[str, tuple[int, int]]]) -> tuple[int, int]:
    """(relevant lines, covered lines) of several jobs' lines merged per (file name, line)."""
    merged: dict[str, tuple[int, int]] = {}
    for lines in parts:
        for name, (relevant, covered) in lines.items():
            before = merged.get(name, (0, 0))
            merged[name] = (before[0] | relevant, before[1] | covered)
    relevant_lines = sum(count_lines(relevant) for relevant, _ in merged.values())
    covered_lines = sum(count_lines(relevant & covered) for relevant, covered in merged.values())
    return relevant_lines, covered_lines


def covered_percent(relevant: int, covered: int) -> float:
    return 100.0 * covered / relevant if relevant else 0.0


def coverage_change(percent: float, previous: Optional[float]) -> float:
    return round(percent - (previous if previous is not None else 0.0), 3)


def _iso(seconds: object) -> Optional[str]:
    if not isinstance(seconds, (int, float)):
        return None
    moment = datetime.datetime.fromtimestamp(int(seconds), tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def badge_url(percent: Optional[float]) -> str:
    return BADGE_URL.format("unknown" if percent is None else int(percent))


def build_document(build: dict[str, Any]) -> dict[str, Any]:
    """What ``GET /builds/<id>.json`` answers for a (public copy of a stored) build."""
    document = {name: build.get(name) for name in FIELDS}
    document.update(created_at=_iso(build.get("created_at")), url=None, badge_url=badge_url(build["covered_percent"]))
    return document


def not_found_page() -> str:
    from .page import esc, render_page

    return render_page(
        "The page you were looking for doesn't exist (404)",
        [("Not found", f"<p>{esc(NOT_FOUND)}</p><p>You may have mistyped the address or the page may have moved.</p>")],
        [("/", "sandbox overview")],
    )
