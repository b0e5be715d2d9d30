"""The reliability report: every scenario the suite tried, what was expected and what was observed.

Tests call :func:`record`; ``test_zz_report.py`` (collected last) renders the rows as the tables of
``docs/reliability.md`` and checks that the committed file says the same, or rewrites it when
``BUILD_STATUS_WRITE_REPORT=1``.  The *measured* column (times, counts) is written but not compared,
since it varies from run to run; everything else must match exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reliability.md"
WRITE_VARIABLE = "BUILD_STATUS_WRITE_REPORT"

#: The report's sections, in order, with the sentence that introduces each.
SECTIONS: dict[str, str] = {
    "Faults: Bitbucket": "Posting a status (commit-only endpoint) while Bitbucket misbehaves; `timeout: 4`.",
    "Faults: Bitbucket Cloud": "Posting a commit status to Bitbucket Cloud (an access token as Bearer) while it "
    "misbehaves; `timeout: 4`.",
    "Faults: Coveralls": "Closing a parallel build while Coveralls misbehaves; `timeout: 4`.",
    "Faults: webapp.io": "Relaying a run (search, then a status to Bitbucket) while webapp.io misbehaves; "
    "`timeout: 4`.",
    "Faults: webapp.io (starting a run)": "`webappio-trigger: true` while webapp.io misbehaves: starting a run "
    "must never happen twice.",
    "Faults: Code Insights (Data Center)": "A final status with `test-results` (2 failed tests) on Data Center with "
    "`bitbucket-project` and `bitbucket-repo`: the status, then the tests report (PUT), the deletion of its old "
    "annotations and the new ones (POST), with a deadline of their own, while the insights endpoints misbehave "
    "(the status's own endpoint does not); `timeout: 4`. Connection refused and an unresolvable name hit the "
    "status first (same host).",
    "Faults: Code Insights (Cloud)": "The same on Bitbucket Cloud: the status, then the report (PUT) and its "
    "annotations (POST, 100 a request) while the reports' endpoints misbehave; `timeout: 4`.",
    "Hostile answers": "Answers that are not what they claim, too large, too deep or endless; name servers that "
    "never answer; `timeout: 4`. Peak memory is the step process's own high-water mark (VmHWM).",
    "Said while it happens": "What the step prints while it retries and waits.",
    "Load": "Many job processes at once against a rate-limited sandbox.",
    "Bad and hostile input": "Generated and hand-picked inputs and server texts.",
    "TLS and proxies": "Verification, private CAs, the CA bundle variables and proxies on loopback.",
}


@dataclass(frozen=True)
class Row:
    section: str
    scenario: str
    expected: str
    observed: str
    measured: str = ""


_ROWS: dict[tuple[str, str], Row] = {}


def record(section: str, scenario: str, expected: str, observed: str, measured: str = "") -> None:
    """Note one scenario's outcome (recording the same scenario again replaces it)."""
    if section not in SECTIONS:
        raise KeyError(f"unknown report section {section!r}; add it to SECTIONS")
    for text in (scenario, expected, observed, measured):
        if "\n" in text or "|" in text:
            raise ValueError(f"report cells are one line without '|': {text!r}")
    _ROWS[(section, scenario)] = Row(section, scenario, expected, observed, measured)


def rows() -> list[Row]:
    return list(_ROWS.values())


def render(all_rows: list[Row]) -> str:
    lines = [
        "# Reliability and security report",
        "",
        "Written by the test suite (`tests/reliability/`): every scenario runs the real `entrypoint.py` as a",
        "process against servers on loopback (the sandbox with its fault switches, real TLS servers with a",
        "generated CA, a forward proxy), bounded in time. `scripts/test` checks that this file matches what",
        "the suite observed; after `scripts/test` has set up `.venv`,",
        "`BUILD_STATUS_WRITE_REPORT=1 .venv/bin/pytest tests/reliability` rewrites it. The *Measured* column",
        "is from the run that wrote the file and is not compared.",
        "",
        "Every scenario also checks that no secret (Bitbucket token and password, the Basic header's base64,",
        "Bitbucket Cloud's access token and API token with the base64 of e-mail and API token, the Coveralls",
        "repo token, the webapp.io token), nor any six characters in a row of one, appears in stdout, stderr,",
        "`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY` or any file the run wrote, apart from the `::add-mask::`",
        "lines that mask them, and that no Python traceback is printed.",
    ]
    for section, intro in SECTIONS.items():
        members = [row for row in all_rows if row.section == section]
        if not members:
            continue
        lines += ["", f"## {section}", "", intro, "", "| Scenario | Expected | Observed | Measured |"]
        lines.append("| --- | --- | --- | --- |")
        lines += [f"| {row.scenario} | {row.expected} | {row.observed} | {row.measured} |" for row in members]
    return "\n".join(lines) + "\n"


def comparable(text: str) -> list[str]:
    """The document's lines with the Measured column blanked, for comparing."""
    out = []
    for line in text.splitlines():
        if line.startswith("| ") and line.count(" | ") >= 3 and not line.startswith("| ---"):
            cells = line.split(" | ")
            line = " | ".join([*cells[:-1], ""])
        out.append(line)
    return out
