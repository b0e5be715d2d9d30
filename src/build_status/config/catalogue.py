"""The catalogue of inputs and outputs, and reading the raw input values.

``action.yml``, the portable variant, the CLI's ``--flags`` and the README's tables are generated from (or
tested against) this catalogue. Each section's inputs are listed beside the parser of its section; this
module puts them in their order. Reading is a pure function of the environment mapping and the CLI's values.
"""

from __future__ import annotations

from ..context import Context
from . import bitbucket_cloud, bitbucket_dc, coveralls, gate, insights, run, status, webappio
from .entries import Input, Output

INPUTS: tuple[Input, ...] = (
    *bitbucket_dc.INPUTS,
    *bitbucket_cloud.INPUTS,
    *status.INPUTS,
    *insights.INPUTS,
    *gate.INPUTS,
    *run.INPUTS,
    *coveralls.INPUTS,
    *webappio.INPUTS,
)

OUTPUTS: tuple[Output, ...] = (
    Output("state", "The state posted (after mapping job-status and the server's capabilities)."),
    Output("key", "The build key used."),
    Output("name", "The build name used."),
    Output("url", "The build URL used."),
    Output("commits", "The commit SHAs reported on, comma-separated."),
    Output(
        "api",
        "The endpoint used: builds (repository-scoped) or commits (commit-only) on Data Center, cloud on "
        "Bitbucket Cloud.",
    ),
    Output("result", "posted, failed (with fail-on-error false) or dry-run."),
    Output("tests-passed", "Tests that passed in the test-results files (empty without test-results)."),
    Output("tests-failed", "Tests that failed or errored in the test-results files."),
    Output("tests-skipped", "Tests that were skipped in the test-results files."),
    Output(
        "coverage-percent",
        "Line coverage in percent, two decimals rounded down: from coverage-results, or the closed Coveralls "
        "build's aggregate.",
    ),
    Output("coverage-change", "The closed Coveralls build's change in coverage, in points (e.g. +0.42)."),
    Output(
        "reports",
        "The Code Insights reports published, as JSON: key, title, result and annotations of each (empty when "
        "none was).",
    ),
    Output(
        "check-result",
        "With check: red (some key FAILED), else missing (a check-keys pattern that no key matches, or a commit "
        "without statuses), else pending (some key still INPROGRESS), else green. Only green passes.",
    ),
    Output(
        "check-tally",
        "With check: the count of each state as JSON, in Bitbucket's words "
        '(e.g. {"successful": 3, "failed": 1, "inProgress": 0, "cancelled": 0, "unknown": 0}).',
    ),
    Output("failed-keys", "With check: the keys whose state is FAILED, one per line (matrix keys hold commas)."),
    Output("missing-keys", "With check: the check-keys patterns that no key matches, one per line."),
    Output("coveralls-url", "The Coveralls build page, once the parallel build is closed."),
    Output(
        "coveralls-jobs",
        "How many jobs the closed Coveralls build has as Coveralls counts them, carried-forward flags included "
        "(when Coveralls says).",
    ),
    Output("webappio-job-id", "The id of the webapp.io run relayed."),
    Output("webappio-status", "The webapp.io run's calculated_status as last seen (e.g. SUCCEEDED, FAILURE)."),
    Output("webappio-url", "The webapp.io run's page, when webapp.io gives one."),
)

BY_NAME = {item.name: item for item in INPUTS}


def read_raw(env: dict[str, str], flags: dict[str, str | None] | None, context: Context) -> dict[str, str]:
    """Each input's value: a CLI flag, else a non-empty ``INPUT_*`` variable, else its fallback, else ``""``.

    Surrounding white space is kept here (secrets may need it); :mod:`entries` strips where it matters.
    """
    flags = flags or {}
    raw: dict[str, str] = {}
    for item in INPUTS:
        value = flags.get(item.name)
        if value is None:
            for env_name in item.env_names:
                candidate = env.get(env_name)
                if candidate is not None and candidate.strip():
                    value = candidate
                    break
        if value is None or not value.strip():
            value = item.fallback(context) if item.fallback else item.static_default
        raw[item.name] = value
    return raw
