"""The stages a step runs in: the command line, the action's main stage (which may leave the job's end to
the post stage), the post stage (report-job-end) and the portable variant (which has no post stage)."""

from __future__ import annotations

import time

from ..config.selection import Config, parse_config
from ..context import Context
from ..errors import EXIT_OK
from ..remotes.interface import Endpoint
from ..workflow import Console
from . import job_end
from .run_tasks import PostHooks, run_tasks

MAIN, POST, PORTABLE = "main", "post", "portable"


def run_stage(raw: dict[str, str], env: dict[str, str], context: Context, console: Console, stage: str) -> int:
    """Run the step's tasks in ``stage`` ("" for the command line); raises InputError before any request."""
    saved = None
    if stage == POST:
        saved = job_end.load(env)
        problem = job_end.unreported_end(raw, saved, context)
        if problem:  # an end the post stage cannot post: never silently (act-based runners)
            console.warning(problem, title="report-job-end")
            return EXIT_OK
        if saved is None:  # the main stage posted a final state, or nothing (report-job-end is off)
            console.debug("report-job-end: the main stage left no job end to report.")
            return EXIT_OK
    config = parse_config(raw, context, stage)
    console.fail_on_error = config.run.fail_on_error
    if saved is not None:
        return _job_end(config, raw["job-status"], saved, env, context, console)
    if stage == PORTABLE:
        _no_post_stage(config, console)
    hooks = PostHooks(after_final=lambda state, commits: _mark_final(console, config, commits))
    if stage == MAIN and config.post and config.post.ends_later:
        hooks = _handing_over(config, console)
    return run_tasks(config, context, console, hooks)


def _handing_over(config: Config, console: Console) -> PostHooks:
    """The main stage of a post whose end comes later: INPROGRESS now, and a record for the post stage,
    saved before INPROGRESS is posted (a start whose end cannot follow is not posted at all)."""
    from ..tasks.post import posting_for

    assert config.post is not None
    posting = posting_for(config.post, None)  # the main stage reads no test results: the end does

    def before_post(endpoint: Endpoint | None, state: str) -> str:
        if job_end.remember(console, posting, endpoint):
            return ""
        where = (
            "could not be saved (neither in GITHUB_STATE nor in the job's environment, GITHUB_ENV)"
            if console.env.get("GITHUB_STATE") or console.env.get("GITHUB_ENV")
            else "has nowhere to go: GITHUB_STATE is not set (this runner keeps no state for post stages; "
            f"{job_end.INSTEAD})"
        )
        return (
            f"Nothing was posted: the state the post stage needs {where}, and {state} without the job's end "
            "to follow would stay on the commit for ever."
        )

    def after_dry_run(endpoint: Endpoint) -> None:
        job_end.remember(console, posting, endpoint)

    return PostHooks(before_post=before_post, after_dry_run=after_dry_run)


def _mark_final(console: Console, config: Config, commits: list[str]) -> None:
    key = config.post.status.key if config.post else ""
    job_end.mark_final(console, key, commits)


def _job_end(
    config: Config, job_status: str, saved: job_end.Saved, env: dict[str, str], context: Context, console: Console
) -> int:
    """The action's post stage: the job's final state where the main stage posted INPROGRESS."""
    from ..tasks.results import read_results

    post = config.post
    posting = results = None
    if post is not None:
        results = read_results(post.status.test_results, post.insights.coverage_results, console)
        posting = job_end.job_end_posting(post, job_status, saved, env, int(time.time() * 1000), results.counts)
    if posting is None:
        console.info(
            f"The job ended ({job_status.strip()}); '{saved.key}' already has its final state on every commit, "
            "posted by a later step: nothing more to post."
        )
        return EXIT_OK
    console.info(f"The job ended ({job_status.strip()}): reporting it as '{saved.key}'.")
    endpoint = post.remote.saved_endpoint(saved.api, saved.newer_states, "as the main stage found")
    only_post = Config((post,), config.run)
    hooks = PostHooks(
        posting=posting,
        results=results,
        endpoint=endpoint,
        after_final=lambda state, commits: job_end.mark_final(console, saved.key, commits),
    )
    return run_tasks(only_post, context, console, hooks)


def _no_post_stage(config: Config, console: Console) -> None:
    """The portable (composite) action has no post stage: say so where the Docker action would defer."""
    post = config.post
    if post is None or not post.ends_later or post.status.explicit:
        return
    console.notice(
        f"The portable action has no post stage (composite actions have none), so it posts "
        f"{post.status.state} now, as job.status stands, and not the job's end. Run it last with if: always() "
        "(or post INPROGRESS first with state: INPROGRESS); report-job-end: false silences this note.",
        title="report-job-end",
    )
