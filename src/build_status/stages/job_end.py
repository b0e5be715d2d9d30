"""report-job-end: one step posts INPROGRESS when it runs and the job's final state when the job ends.

The runner runs ``post.py`` (``runs.post-entrypoint``, ``post-if: always()``) when the job ends, with the
inputs evaluated again, so that ``job-status``'s default ``${{ job.status }}`` is the job's final status,
and with what the main stage saved through ``$GITHUB_STATE`` back as ``STATE_build_status``.

Runners built on act (nektos/act, Gitea's and Forgejo's act_runner) give a Docker action's post stage no
``STATE_*`` variables, and only the inputs written under ``with:`` (no action.yml defaults, so no
``job.status`` unless ``job-status: ${{ job.status }}`` is written there). So the main stage also leaves its
record in ``$GITHUB_ENV`` as ``BUILD_STATUS_STARTED_<hash of GITHUB_ACTION>`` (the step's id, the same in
both stages), which every later step sees, post stages included; the post stage reads ``STATE_build_status``
when present, else that mark of its own step.  When it cannot post the end, it says so as a warning with
the fix, never silently.

Any final state this tool posts in a job also leaves a mark in ``$GITHUB_ENV``
(``BUILD_STATUS_FINAL_<hash of the key>`` = the commits), which every later step sees, post stages
included: a final state a later step posted explicitly is not overwritten by the post stage.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from ..config.selection import PostConfig, parse_config
from ..context import Context
from ..errors import InputError
from ..model.states import from_job_status
from ..model.status import BuildStatus, TestCounts

if TYPE_CHECKING:
    from ..remotes.interface import Endpoint
    from ..tasks.post import Posting

#: The state's name: it comes back to the post stage as ``STATE_build_status``.
STATE_NAME = "build_status"
STATE_VERSION = 1
MARK_PREFIX = "BUILD_STATUS_FINAL_"
STARTED_PREFIX = "BUILD_STATUS_STARTED_"
#: The way round a job's end that the post stage cannot post.
INSTEAD = "set report-job-end: false and post the final state from a last step under if: always()"
#: What to do when no job status reaches the post stage (act-based runners).
FIX = (
    "add `job-status: ${{ job.status }}` under `with:` (act, Gitea and Forgejo pass only the inputs written "
    f"there to the post stage), or {INSTEAD}."
)


class Saved(NamedTuple):
    """What the main stage posted INPROGRESS to, for the post stage."""

    started_ms: int
    base_url: str
    key: str
    commits: tuple[str, ...]
    #: The endpoint the main stage used ("" when it never learnt it) and whether it takes CANCELLED.
    api: str
    newer_states: bool
    #: The start's name and parent: the end keeps them (act gives the post stage no matrix to derive them).
    name: str = ""
    parent: str = ""


def remember(console: Any, posting: Posting, endpoint: Endpoint | None) -> bool:
    """Save, for the post stage, where INPROGRESS goes (never a credential: those come from the inputs).

    Returns False when the state could not be written (the console has said why).
    """
    status = posting.status
    record = {
        "v": STATE_VERSION,
        # The job's start as far as the duration goes: the step that posts INPROGRESS runs first.
        "started": int(time.time() * 1000),
        "base_url": posting.remote.base_url,
        "key": status.key,
        "commits": list(posting.commits),
        "api": endpoint.name if endpoint else "",
        "newer_states": bool(endpoint and endpoint.newer_states),
        "name": status.name,
        "parent": status.parent,
    }
    text = json.dumps(record, separators=(",", ":"))
    kept = console.save_state(STATE_NAME, text)
    # For runners that give post stages no STATE_* (act, Gitea, Forgejo); never a credential either.
    return console.set_env(started_mark(console.env), text) or kept


def started_mark(env: dict[str, str]) -> str:
    """The ``$GITHUB_ENV`` name of this step's record: one per step (``GITHUB_ACTION``), so another step's
    post stage never takes it for its own."""
    step = env.get("GITHUB_ACTION", "")
    return STARTED_PREFIX + hashlib.sha256(step.encode("utf-8")).hexdigest()[:16].upper()


def load(env: dict[str, str]) -> Saved | None:
    """What the main stage saved (``STATE_build_status``, else this step's mark in the job's environment),
    or None (it posted a final state, failed before posting, or was off)."""
    text = env.get(f"STATE_{STATE_NAME}", "").strip() or env.get(started_mark(env), "")
    if not text.strip():
        return None
    try:
        record = json.loads(text)
        saved = Saved(
            started_ms=int(record["started"]),
            base_url=str(record["base_url"]),
            key=str(record["key"]),
            commits=tuple(str(sha) for sha in record["commits"]),
            api=str(record.get("api") or ""),
            newer_states=bool(record.get("newer_states")),
            name=str(record.get("name") or ""),
            parent=str(record.get("parent") or ""),
        )
    except (ValueError, KeyError, TypeError):
        return None
    if record.get("v") != STATE_VERSION or not saved.key or not saved.commits:
        return None
    return saved


def unreported_end(raw: dict[str, str], saved: Saved | None, context: Context) -> str:
    """Why the post stage cannot post the job's end though the main stage left it to it ("" when it can,
    or when there is no end to post): the warning to give instead of ending silently."""
    if saved is not None:
        if raw["job-status"].strip():
            return ""
        return (
            f"The job's end was not reported: no job status reached the post stage, so '{saved.key}' stays "
            f"INPROGRESS on {len(saved.commits)} commit(s). To fix it, {FIX}"
        )
    if not _main_defers(raw, context):
        return ""
    return (
        "The job's end was not reported: the main stage's record (STATE_build_status, or its mark in the job's "
        f"environment) did not reach the post stage, so the status it posted stays INPROGRESS. To fix it, {INSTEAD}."
    )


def _main_defers(raw: dict[str, str], context: Context) -> bool:
    """Whether, by these inputs, the main stage posted INPROGRESS and left the end to the post stage: the
    rule of :attr:`PostConfig.ends_later`, with the job still running as it was then."""
    try:
        config = parse_config({**raw, "job-status": raw["job-status"].strip() or "success"}, context, "main")
    except InputError:
        return False  # the main stage refused these inputs too, and said so
    return bool(config.post and config.post.ends_later)


def job_end_posting(
    post: PostConfig, job_status: str, saved: Saved, env: dict[str, str], now_ms: int, tests: TestCounts | None
) -> Posting | None:
    """The post stage's status: the job's final state to the commits and key the main stage started.

    None when there is nothing left to post: every commit already got its final state from a later step.
    """
    from ..tasks.post import Posting

    state = from_job_status(job_status)
    if state is None:
        shown = job_status.strip()[:60]
        raise InputError("job-status", f"'{shown}' is not a job status; use success, failure or cancelled.")
    done = marked(env, saved.key)
    commits = tuple(sha for sha in saved.commits if sha not in done)
    if not commits:
        return None
    inputs = post.status
    status = BuildStatus(
        state=state,
        key=saved.key,
        name=saved.name or inputs.name,
        url=inputs.url,
        # The description given was the start's; the end gets its outcome, counts and duration.
        description="",
        build_number=inputs.build_number,
        ref=inputs.ref,
        parent=saved.parent or inputs.parent,
        duration_ms=max(0, now_ms - saved.started_ms),
        tests=tests,
    )
    return Posting(post.remote, commits, status, explicit=False)


def mark_name(key: str) -> str:
    return MARK_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16].upper()


def marked(env: dict[str, str], key: str) -> set[str]:
    """The commits that already have a final state under ``key`` in this job."""
    return {sha for sha in env.get(mark_name(key), "").split(",") if sha}


def mark_final(console: Any, key: str, commits: list[str]) -> None:
    """Note, for the job's later steps, that these commits have their final state under ``key``."""
    if not commits or not console.env.get("GITHUB_ENV"):
        return
    done = marked(console.env, key)
    merged = sorted(done | set(commits))
    value = ",".join(merged)
    console.set_env(mark_name(key), value)
    console.env[mark_name(key)] = value
