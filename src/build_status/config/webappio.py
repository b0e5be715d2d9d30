"""Relaying a webapp.io run: its inputs."""

from __future__ import annotations

import re
from functools import partial
from typing import Callable, NamedTuple

from ..context import Context
from ..errors import InputError
from . import values
from .entries import Input, reader
from .values import MAX_TIMEOUT, show

WEBAPPIO_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")
JOB_ID_RE = re.compile(r"^#?([0-9]{1,18})$")

INPUTS: tuple[Input, ...] = (
    Input(
        "webappio-token",
        "webapp.io API token: relay a webapp.io CI run's result to Bitbucket (with webappio-repo). Masked; "
        "it travels only as the token query parameter.",
        secret=True,
        metavar="TOKEN",
    ),
    Input("webappio-repo", "The repository name as webapp.io knows it.", metavar="NAME"),
    Input(
        "webappio-endpoint",
        "webapp.io API base URL.",
        default="https://webapp.io/api/v1",
        metavar="URL",
        parse=partial(values.base_url, example="https://webapp.io/api/v1"),
    ),
    Input("webappio-job-id", "Find the webapp.io run by its id (the number in its page's address).", metavar="N"),
    Input(
        "webappio-branch",
        "Find the most recent webapp.io run on this branch (exact, case sensitive); with webappio-trigger, "
        "the branch to run (default: the pull request's head branch, else the pushed branch; required where "
        "there is neither, as on a tag push or outside GitHub Actions).",
        metavar="BRANCH",
        parse=values.single_line,
    ),
    Input(
        "webappio-query",
        "Find the most recent webapp.io run matching this query in webapp.io's search language "
        "(e.g. 'branch:main -\"wip\"'); combined with webappio-job-id and webappio-branch when those are set.",
        metavar="QUERY",
        parse=partial(values.single_line, limit=1000),
    ),
    Input(
        "webappio-trigger",
        "Start a new webapp.io run (on webappio-branch at webappio-ref) and follow it.",
        default="false",
        metavar="BOOL",
        parse=values.boolean,
    ),
    Input(
        "webappio-ref",
        "The commit a triggered run checks out. Default: the commit reported on.",
        metavar="SHA",
        parse=values.single_line,
    ),
    Input(
        "webappio-accept-buttons",
        "Let a triggered run accept its BUTTON steps (e.g. to deploy).",
        default="false",
        metavar="BOOL",
        parse=values.boolean,
    ),
    Input("webappio-extra", "Text given to a triggered run as API_EXTRA.", metavar="TEXT"),
    Input(
        "webappio-wait",
        "Wait until the webapp.io run ends and post its final state (INPROGRESS is posted while it runs); "
        "false posts its current state once.",
        default="true",
        metavar="BOOL",
        parse=values.boolean,
    ),
    Input(
        "webappio-poll-interval",
        "How often to ask webapp.io while waiting: seconds, or a number with ms, s or m.",
        default="15s",
        metavar="DURATION",
        parse=values.seconds_between(0.1, 600),
    ),
    Input(
        "webappio-timeout",
        "How long to wait for the webapp.io run to end: seconds, or a number with s, m or h. Each exchange "
        "with a server is still bounded by timeout.",
        default="30m",
        metavar="DURATION",
        parse=values.seconds_between(1, MAX_TIMEOUT),
    ),
)
#: Inputs that ask for a webapp.io run to be relayed (besides webappio-trigger).
FINDING = ("webappio-token", "webappio-repo", "webappio-job-id", "webappio-branch", "webappio-query")
value = reader(INPUTS)


class WebappioConfig(NamedTuple):
    """Finding (or starting) a webapp.io CI run and relaying its result."""

    endpoint: str
    token: str
    repo: str
    #: The search query that finds the run (empty when the run is triggered).
    query: str
    trigger: bool
    #: For a triggered run: the branch and ref it checks out, and its options.
    branch: str
    ref: str
    accept_buttons: bool
    extra: str
    wait: bool
    poll_interval: float
    wait_timeout: float


def relays(raw: dict[str, str]) -> bool:
    """Whether this step relays a webapp.io run (found or started)."""
    return value(raw, "webappio-trigger") or any(raw[name].strip() for name in FINDING)


def parse_webappio(raw: dict[str, str], context: Context, commit: Callable[[], str]) -> WebappioConfig:
    """Where the run is, how to find or start it, how long to wait for it; ``commit()`` is what a started run
    checks out by default."""
    from ..remotes.webappio import build_query  # the search language is webapp.io's

    token = value(raw, "webappio-token")
    if not token:
        raise InputError("webappio-token", "is required to relay a webapp.io run: the API token from webapp.io.")
    if any(ch.isspace() or ord(ch) < 32 for ch in token):
        raise InputError("webappio-token", "must not contain white space or control characters.")
    repo = value(raw, "webappio-repo")
    if not repo:
        raise InputError("webappio-repo", "is required to relay a webapp.io run: the repository name webapp.io uses.")
    if not WEBAPPIO_REPO_RE.match(repo):
        raise InputError(
            "webappio-repo", f"'{show(repo)}' is not a webapp.io repository name (letters, digits, . _ -)."
        )
    endpoint = value(raw, "webappio-endpoint")
    job_id = value(raw, "webappio-job-id")
    if job_id:
        match = JOB_ID_RE.match(job_id)
        if not match or int(match.group(1)) < 1:
            raise InputError("webappio-job-id", f"'{show(job_id)}' is not a run id; give the run's number, e.g. 42.")
        job_id = str(int(match.group(1)))
    branch = value(raw, "webappio-branch")
    query = value(raw, "webappio-query")
    ref = value(raw, "webappio-ref")
    if ref and any(ch.isspace() for ch in ref):
        raise InputError("webappio-ref", f"'{show(ref)}' is not a commit: it contains white space.")
    extra = value(raw, "webappio-extra")
    if len(extra) > 65536:
        raise InputError("webappio-extra", "is longer than 65536 characters.")
    trigger = value(raw, "webappio-trigger")
    if trigger:
        for name, given in (("webappio-job-id", job_id), ("webappio-query", query)):
            if given:
                raise InputError(name, "cannot be used with webappio-trigger: true, which follows the run it starts.")
        # webapp.io would run an unnamed branch as master: a branch that may not exist, or not be this commit's.
        branch = branch or context.head_branch
        if not branch:
            raise InputError(
                "webappio-branch",
                "is needed to start a webapp.io run here: no branch was pushed (a tag, or not in GitHub Actions), "
                "so give the branch the run is for, e.g. main.",
            )
        ref = ref or commit()
    else:
        given = {
            "webappio-ref": bool(ref),
            "webappio-extra": bool(extra),
            "webappio-accept-buttons": value(raw, "webappio-accept-buttons"),
        }
        for name, used in given.items():
            if used:
                raise InputError(name, "is only used with webappio-trigger: true (starting a run).")
        if not (job_id or branch or query):
            raise InputError(
                "webappio-job-id",
                "no run to relay: give webappio-job-id, webappio-branch or webappio-query to find a webapp.io run, "
                "or webappio-trigger: true to start one.",
            )
    return WebappioConfig(
        endpoint=endpoint,
        token=token,
        repo=repo,
        query="" if trigger else build_query(job_id=job_id, branch=branch, query=query),
        trigger=trigger,
        branch=branch,
        ref=ref,
        accept_buttons=value(raw, "webappio-accept-buttons"),
        extra=extra,
        wait=value(raw, "webappio-wait"),
        poll_interval=value(raw, "webappio-poll-interval"),
        wait_timeout=value(raw, "webappio-timeout"),
    )
