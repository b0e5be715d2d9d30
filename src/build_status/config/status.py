"""The inputs that describe the build status to post (or, for a gate, which commits and which own key)."""

from __future__ import annotations

import re
from typing import NamedTuple

from ..context import Context
from ..errors import InputError
from ..model import naming
from ..model.states import INPROGRESS, STATES, from_job_status, parse_state
from ..remotes.interface import StatusRemote
from . import values
from .entries import Input, reader
from .values import show

SHA_RE = re.compile(r"^[0-9a-fA-F]{40}$")
#: What the status inputs are read for: posting this job's status, relaying a webapp.io run's, a gate, the
#: coverage of a closed Coveralls build (coveralls-status).
POST, RELAY, GATE, COVERALLS = "post", "relay", "gate", "coveralls"
#: The Coveralls status's key and name when key and name are not given.
COVERALLS_KEY, COVERALLS_NAME = "coveralls", "Coveralls"

INPUTS: tuple[Input, ...] = (
    Input(
        "commit",
        "Commit SHA(s) to report on, full 40 characters; several separated by commas or white space get "
        "the same status. Default: the pull request's head commit, else the pushed commit.",
        default="${{ github.event.pull_request.head.sha || github.sha }}",
        fallback=lambda ctx: ctx.head_sha,
        metavar="SHA",
    ),
    Input(
        "state",
        "INPROGRESS, SUCCESSFUL, FAILED, CANCELLED or UNKNOWN (any case; on Bitbucket Cloud CANCELLED is "
        "posted as STOPPED and UNKNOWN is refused). Empty: taken from job-status (or from the webapp.io run "
        "relayed).",
        metavar="STATE",
    ),
    Input(
        "job-status",
        "The job's outcome, used when state is empty: success → SUCCESSFUL, failure → FAILED, "
        "cancelled → CANCELLED where the server accepts it (STOPPED on Bitbucket Cloud), else FAILED.",
        default="${{ job.status }}",
        metavar="STATUS",
    ),
    Input(
        "key",
        "Build key, at most 255 characters (40 on Bitbucket Cloud). Default: stable across re-runs and distinct "
        "per workflow, job and matrix combination, so a re-run replaces a red result (webapp.io/<webappio-repo> "
        "when relaying, coveralls with coveralls-status); a longer one keeps its start and ends with a hash of "
        "the whole.",
        metavar="KEY",
    ),
    Input(
        "name",
        "Build name shown in Bitbucket, at most 255 characters. Default: 'workflow › job (matrix values)'.",
        metavar="NAME",
    ),
    Input(
        "url",
        "Link from Bitbucket to the build, at most 450 characters. Default: the workflow run page.",
        metavar="URL",
    ),
    Input(
        "description",
        "Description of the result. Default: the outcome and the run number.",
        metavar="TEXT",
    ),
    Input(
        "matrix",
        "The job's matrix values as JSON, for the default key and name.",
        default="${{ toJSON(matrix) }}",
        metavar="JSON",
    ),
    Input(
        "build-number",
        "Build number (repository-scoped endpoint). Default: the workflow run number.",
        default="${{ github.run_number }}",
        fallback=lambda ctx: ctx.run_number,
        metavar="N",
    ),
    Input(
        "ref",
        "The pushed ref, starting with refs/ (repository-scoped endpoint; on Bitbucket Cloud its branch is "
        "the status's refname, which shows it on that branch's pull requests). Default: the pull request's "
        "head branch, else the pushed ref.",
        default="${{ github.event.pull_request.head.ref && "
        "format('refs/heads/{0}', github.event.pull_request.head.ref) || github.ref }}",
        fallback=lambda ctx: ctx.pushed_ref,
        metavar="REF",
    ),
    Input(
        "parent",
        "Parent key, used by Bitbucket's Required builds merge check (repository-scoped endpoint). "
        "Default with the default key: the key without the matrix values, so one required build covers "
        "all matrix jobs.",
        metavar="KEY",
    ),
    Input(
        "duration",
        "How long the build took (repository-scoped endpoint): milliseconds, or a number with ms, s, m or h.",
        metavar="DURATION",
        parse=values.duration_ms,
    ),
    Input(
        "report-job-end",
        "With the default state: post INPROGRESS now and, from the action's post stage, the job's final "
        "state (from job.status, with its duration) when the job ends; a final state posted explicitly in "
        "the meantime is left alone. false: post the state as it stands now, once. (The Docker action only: "
        "composite actions, such as the portable variant, have no post stage.)",
        default="true",
        metavar="BOOL",
        parse=values.boolean,
    ),
    Input(
        "test-results",
        "JUnit XML files whose test counts go with the final state (testResults on the repository-scoped "
        "endpoint, the description and the step summary): glob patterns, one per line or comma-separated, "
        "** for any depth (e.g. build/test-results/**/*.xml).",
        metavar="GLOBS",
        parse=values.patterns,
    ),
)
value = reader(INPUTS)


class StatusInputs(NamedTuple):
    """The status as the inputs describe it (the state before a remote fits it; no test counts yet)."""

    commits: tuple[str, ...]
    #: The state asked for (INPROGRESS where a relay or a gate decides).
    state: str
    #: True when ``state`` was given explicitly: then a server that cannot take it is an input error.
    explicit: bool
    key: str
    name: str
    url: str
    #: True when ``url`` was given (a relayed webapp.io run's page replaces only the default).
    url_given: bool
    #: Empty: a default is written once the final state is known.
    description: str
    build_number: str
    ref: str
    parent: str
    duration_ms: int | None
    #: Glob patterns of JUnit XML files whose counts go with the status (none: no counts).
    test_results: tuple[str, ...]
    #: report-job-end: an INPROGRESS posted by the action's main stage is followed by the final state.
    report_end: bool


def parse_commits(name: str, given: str) -> tuple[str, ...]:
    words = [word for word in re.split(r"[\s,]+", given.strip()) if word]
    if not words:
        raise InputError(name, "is empty: give the full 40-character SHA of the commit to report on.")
    commits: list[str] = []
    for word in words:
        if not SHA_RE.match(word):
            raise InputError(name, f"'{show(word)}' is not a full 40-character hexadecimal commit SHA.")
        if word.lower() not in commits:
            commits.append(word.lower())
    return tuple(commits)


def parse_wanted_state(raw: dict[str, str]) -> tuple[str, bool]:
    """The state asked for, and whether it was explicit (``state``) rather than mapped (``job-status``)."""
    given = value(raw, "state")
    if given:
        state = parse_state(given)
        if state is None:
            raise InputError("state", f"'{show(given)}' is not a build state; use one of {', '.join(STATES)}.")
        return state, True
    status = value(raw, "job-status")
    if not status:
        raise InputError("state", f"is empty and so is job-status: give a state ({', '.join(STATES)}) or a job-status.")
    state = from_job_status(status)
    if state is None:
        raise InputError("job-status", f"'{show(status)}' is not a job status; use success, failure or cancelled.")
    return state, False


def parse_status(raw: dict[str, str], context: Context, remote: StatusRemote, purpose: str) -> StatusInputs:
    """The status inputs for ``purpose`` (POST, RELAY, GATE or COVERALLS): with RELAY the state comes from a
    webapp.io run, not from state/job-status, and with COVERALLS from the coverage; with GATE nothing is
    posted, so no state or URL is needed."""
    relay = purpose == RELAY
    commits = parse_commits("commit", raw["commit"])
    if purpose == GATE:
        if value(raw, "state"):
            raise InputError("state", "must be empty with check: true, which reads the statuses rather than posting.")
        state, explicit = INPROGRESS, False
    elif relay:
        if value(raw, "state"):
            raise InputError(
                "state", "must be empty when a webapp.io run is relayed: the run's result gives the state."
            )
        state, explicit = INPROGRESS, False
    elif purpose == COVERALLS:
        if value(raw, "state"):
            raise InputError(
                "state", "must be empty with coveralls-status: true: the Coveralls build's coverage gives the state."
            )
        state, explicit = INPROGRESS, False
    else:
        state, explicit = parse_wanted_state(raw)
    remote.check_state(state, explicit)
    try:
        matrix = naming.parse_matrix(raw["matrix"])
    except (ValueError, RecursionError):
        raise InputError("matrix", "is not a JSON object; leave it at its default ${{ toJSON(matrix) }}.") from None

    key = value(raw, "key")
    key_given = bool(key)
    webappio_repo = raw["webappio-repo"].strip()
    if not key:
        key = (
            naming.webappio_key(webappio_repo, remote.key_limit)
            if relay
            else COVERALLS_KEY
            if purpose == COVERALLS
            else naming.default_key(context, matrix, remote.key_limit)
        )
    url_given = bool(value(raw, "url"))
    url = value(raw, "url") or context.run_url
    if not url and purpose == POST:
        raise InputError("url", "is required outside GitHub Actions: the link to this build's page.")
    parent = value(raw, "parent")
    if not parent and not key_given and matrix and purpose in (POST, GATE):
        parent = naming.job_id(context)
    name = value(raw, "name") or (
        naming.webappio_name(webappio_repo, remote.name_limit)
        if relay
        else COVERALLS_NAME
        if purpose == COVERALLS
        else naming.default_name(context, matrix, remote.name_limit)
    )
    return StatusInputs(
        commits=commits,
        state=state,
        explicit=explicit,
        key=key,
        name=name,
        url=url,
        url_given=url_given,
        description=value(raw, "description"),
        build_number=value(raw, "build-number"),
        ref=value(raw, "ref"),
        parent=parent,
        duration_ms=value(raw, "duration"),
        test_results=value(raw, "test-results"),
        report_end=value(raw, "report-job-end"),
    )


def first_commit(raw: dict[str, str]) -> str:
    """The first commit given (for a webapp.io run started without a Bitbucket status), or ""."""
    return parse_commits("commit", raw["commit"])[0] if raw["commit"].strip() else ""
