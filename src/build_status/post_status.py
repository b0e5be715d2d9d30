"""The Bitbucket step: choose the endpoint, fit the state, post to each commit, report the outcome."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import NamedTuple

import requests

from . import jobend, naming, payload
from .bitbucket import Bitbucket, Capabilities
from .context import Context
from .contract import BUILDS, COMMITS, ENDPOINT_LABEL
from .errors import DeadlineExceeded, InputError, RemoteError
from .settings import BitbucketSettings, Settings
from .states import BADGE, INPROGRESS, NEWER_STATES, accepted
from .transport.deadline import Deadline
from .workflow import Console, markdown_cell, markdown_link


class Plan(NamedTuple):
    api: str
    newer_states: bool
    why: str


class Outcome:
    __slots__ = ("message", "ok", "sha")

    def __init__(self, sha: str, ok: bool, message: str = "") -> None:
        self.sha = sha
        self.ok = ok
        self.message = message


def static_plan(settings: BitbucketSettings) -> Plan | None:
    """The endpoint when it is known without asking the server; None when the server must be asked."""
    if settings.api == COMMITS or (settings.api == "auto" and not settings.repository_scoped):
        why = "bitbucket-api: commits" if settings.api == COMMITS else "no bitbucket-project/-repo given"
        return Plan(COMMITS, False, why)
    if settings.api == BUILDS and settings.state not in NEWER_STATES:
        return Plan(BUILDS, True, "bitbucket-api: builds")
    return None


def ask_plan(settings: BitbucketSettings, client: Bitbucket) -> Plan:
    """Ask ``build/capabilities`` once and choose from the answer."""
    caps: Capabilities = client.capabilities()
    if settings.api == BUILDS:
        return Plan(BUILDS, caps.newer_states, "bitbucket-api: builds")
    if caps.builds:
        return Plan(BUILDS, caps.newer_states, "the server offers richBuildStatus")
    return Plan(COMMITS, False, "the server has no repository-scoped endpoint (Bitbucket older than 7.4)")


def final_state(settings: BitbucketSettings, plan: Plan) -> str:
    """The state to post; an explicit state the endpoint cannot take is an input error."""
    state = accepted(settings.state, newer_states=plan.newer_states)
    if state != settings.state and settings.state_explicit:
        raise InputError(
            "state",
            f"{settings.state} is not accepted here ({ENDPOINT_LABEL[plan.api]}; {plan.why}): it needs the "
            "repository-scoped endpoint of Bitbucket 8.0 or later. Use SUCCESSFUL, FAILED or INPROGRESS.",
        )
    return state


def body_for(settings: BitbucketSettings, context: Context, plan: Plan, state: str) -> dict:
    description = settings.description or naming.default_description(
        context, state, duration_ms=settings.duration_ms, tests=settings.tests
    )
    if plan.api == COMMITS and not settings.description:
        description = naming.shorten(description, 255)
    body = payload.build(settings, plan.api, state, description)
    payload.validate(body, plan.api)
    return body


def target_url(client: Bitbucket, settings: BitbucketSettings, plan: Plan, sha: str) -> str:
    if plan.api == BUILDS:
        return client.builds_url(settings.project, settings.repo, sha)
    return client.commits_url(sha)


def read_tests(settings: BitbucketSettings, console: Console) -> BitbucketSettings:
    """Count the tests in the test-results files (before the first request: a bad file is an input error)."""
    if not settings.test_results:
        return settings
    from . import junit

    collected = junit.collect(settings.test_results)
    for pattern in collected.unmatched:
        console.warning(
            f"test-results: no file matches '{pattern}' (in {os.getcwd()}); the status goes without its counts.",
            title="No test results",
        )
    if collected.counts is not None:
        console.info(f"Test results: {collected.counts.describe()} ({len(collected.files)} file(s)).")
    return settings._replace(tests=collected.counts)


def check(settings: BitbucketSettings, context: Context) -> Plan | None:
    """Everything checkable without the server, before the first request: raises InputError.

    Returns the endpoint when it is known already, None when the server's capabilities decide.
    """
    plan = static_plan(settings)
    provisional = plan or Plan(BUILDS, True, "")
    body_for(settings, context, provisional, final_state(settings, provisional))
    return plan


def run(
    settings: BitbucketSettings,
    common: Settings,
    context: Context,
    console: Console,
    session: requests.Session,
    deadline: Deadline,
    plan: Plan | None,
) -> bool:
    """Post the status to every commit; True when all landed (or on a dry run)."""
    client = Bitbucket(session, deadline, settings.base_url, settings.auth)
    if common.dry_run:
        plan = dry_run(settings, context, console, client, plan)
        if jobend.remembers(common, settings.state):
            jobend.remember(console, settings, plan.api, plan.newer_states)
        return True
    keep = None
    if jobend.remembers(common, settings.state):

        def keep(found: Plan | None) -> bool:
            # Saved before INPROGRESS is posted: a start whose end cannot follow is not posted at all.
            return jobend.remember(console, settings, found.api if found else "", _newer(found))

    progress = deliver(settings, context, console, client, deadline, plan, before_post=keep)
    state = progress.state or settings.state
    if keep is not None:
        if progress.saved:
            console.info("The job's final state will be posted when the job ends (report-job-end).")
    elif state != INPROGRESS:
        jobend.mark_final(console, settings.key, [outcome.sha for outcome in progress.outcomes if outcome.ok])
    return report(settings, common.fail_on_error, console, progress)


def _newer(plan: Plan | None) -> bool:
    return bool(plan and plan.newer_states)


def deliver(
    settings: BitbucketSettings,
    context: Context,
    console: Console,
    client: Bitbucket,
    deadline: Deadline,
    plan: Plan | None,
    *,
    before_post: Callable[[Plan | None], bool] | None = None,
) -> Progress:
    """Post ``settings.state`` to every commit within the deadline; returns what happened (nothing printed
    but progress lines: :func:`report` writes the annotations, outputs and summary).

    ``before_post`` is called once the endpoint is known (with None when it could not be learnt), before
    the first post; when it returns False nothing is posted.
    """
    progress = Progress(plan)
    try:
        with deadline.enforced():
            _post_all(settings, context, console, client, progress, before_post)
    except DeadlineExceeded as exc:
        progress.give_up(settings.commits, _explain(exc, "talking to Bitbucket"))
    return progress


class Progress:
    """What has been decided and posted so far (kept when the deadline cuts a run short)."""

    __slots__ = ("body", "outcomes", "plan", "saved", "state")

    def __init__(
        self, plan: Plan | None, state: str = "", body: dict | None = None, outcomes: list[Outcome] | None = None
    ) -> None:
        self.plan = plan
        self.state = state
        self.body = body
        self.outcomes: list[Outcome] = [] if outcomes is None else outcomes
        #: Whether ``before_post`` said yes (the post stage's state was saved).
        self.saved = False

    def give_up(self, commits: tuple[str, ...], message: str) -> None:
        done = {outcome.sha for outcome in self.outcomes}
        self.outcomes.extend(Outcome(sha, False, message) for sha in commits if sha not in done)


def _post_all(
    settings: BitbucketSettings,
    context: Context,
    console: Console,
    client: Bitbucket,
    progress: Progress,
    before_post: Callable[[Plan | None], bool] | None,
) -> None:
    try:
        if progress.plan is None:
            progress.plan = ask_plan(settings, client)
    except RemoteError as exc:
        # The start did not land, but the job's end still can: the post stage asks for the endpoint again.
        progress.saved = before_post is not None and before_post(None)
        progress.give_up(settings.commits, _explain(exc, "asking for the build capabilities"))
        return
    plan = progress.plan
    state = progress.state = final_state(settings, plan)
    body = progress.body = body_for(settings, context, plan, state)
    if before_post is not None:
        progress.saved = before_post(plan)
        if not progress.saved:
            where = (
                "could not be saved (neither in GITHUB_STATE nor in the job's environment, GITHUB_ENV)"
                if console.env.get("GITHUB_STATE") or console.env.get("GITHUB_ENV")
                else "has nowhere to go: GITHUB_STATE is not set (this runner keeps no state for post stages; "
                f"{jobend.INSTEAD})"
            )
            progress.give_up(
                settings.commits,
                f"Nothing was posted: the state the post stage needs {where}, and {state} without the job's end "
                "to follow would stay on the commit for ever.",
            )
            return
    if state != settings.state:
        console.info(f"{settings.state} is not known to this server; posting {state} instead.")
    console.info(
        f"Posting {state} as '{body['key']}' to {len(settings.commits)} commit(s) on {settings.base_url} "
        f"({ENDPOINT_LABEL[plan.api]}: {plan.why})."
    )
    for sha in settings.commits:
        what = f"posting {state}"
        try:
            client.post(target_url(client, settings, plan, sha), body, what=what, api=plan.api)
        except DeadlineExceeded as exc:
            progress.give_up(settings.commits, _explain(exc, what))
            return
        except RemoteError as exc:
            progress.outcomes.append(Outcome(sha, False, exc.message))
            continue
        progress.outcomes.append(Outcome(sha, True))
        console.info(f"✓ {sha} {state}")


def _explain(exc: RemoteError, what: str) -> str:
    if isinstance(exc, DeadlineExceeded):
        return f"Gave up {what or 'talking to Bitbucket'}: {exc.message}; raise timeout if Bitbucket is slow."
    return exc.message


def report(settings: BitbucketSettings, fail_on_error: bool, console: Console, progress: Progress) -> bool:
    """Annotations (one per distinct failure), outputs and summary; True when every post landed."""
    failed: dict[str, list[str]] = {}
    for outcome in progress.outcomes:
        if not outcome.ok:
            failed.setdefault(outcome.message, []).append(outcome.sha)
    for message, shas in failed.items():  # one annotation per distinct failure
        which = shas[0] if len(shas) == 1 else f"{len(shas)} commits ({', '.join(s[:12] for s in shas)})"
        text = f"Build status for {which} was not posted. {message}"
        if fail_on_error:
            console.error(text, title="Bitbucket build status")
        else:
            console.warning(text + " (fail-on-error is false)", title="Bitbucket build status")
    _outputs(console, settings, progress.plan, progress.state, "failed" if failed else "posted")
    _summary(console, settings, progress.plan, progress.state, progress.outcomes)
    return not failed


def _outputs(console: Console, settings: BitbucketSettings, plan: Plan | None, state: str, result: str) -> None:
    console.set_output("state", state)
    console.set_output("key", settings.key)
    console.set_output("name", settings.name)
    console.set_output("url", settings.url)
    console.set_output("commits", ",".join(settings.commits))
    console.set_output("api", plan.api if plan else "")
    console.set_output("result", result)
    if settings.tests is not None:
        console.set_output("tests-passed", str(settings.tests.passed))
        console.set_output("tests-failed", str(settings.tests.failed))
        console.set_output("tests-skipped", str(settings.tests.skipped))


def _summary(
    console: Console,
    settings: BitbucketSettings,
    plan: Plan | None,
    state: str,
    outcomes: list[Outcome],
    label: str = "posted",
) -> None:
    where = ENDPOINT_LABEL[plan.api] if plan else "no endpoint reached"
    lines = [
        "### Bitbucket build status",
        "",
        f"{markdown_cell(settings.base_url)} · {where}",
        "",
        *([f"Tests: {settings.tests.describe()}", ""] if settings.tests is not None else []),
        "| Commit | State | Key | Name | Result |",
        "| --- | --- | --- | --- | --- |",
    ]
    name = markdown_link(markdown_cell(settings.name), settings.url)
    for outcome in outcomes:
        shown = f"{BADGE.get(state, '')} {state}".strip() if state else "—"
        result = label if outcome.ok else "**not posted**: " + markdown_cell(outcome.message)
        lines.append(f"| `{outcome.sha[:12]}` | {shown} | `{markdown_cell(settings.key)}` | {name} | {result} |")
    console.summary("\n".join(lines) + "\n\n")


def dry_run(
    settings: BitbucketSettings, context: Context, console: Console, client: Bitbucket, plan: Plan | None
) -> Plan:
    if plan is None:
        plan = Plan(BUILDS, True, "dry run: capabilities not asked; assuming Bitbucket 8.0+")
        console.info(
            "dry-run: build/capabilities is not asked; showing the repository-scoped endpoint of "
            "Bitbucket 8.0+ (an older server gets the commit-only endpoint instead)."
        )
    state = final_state(settings, plan)
    body = body_for(settings, context, plan, state)
    shown_auth = f"{settings.auth.scheme} ***"

    for sha in settings.commits:
        console.group(f"dry-run: POST {target_url(client, settings, plan, sha)}")
        console.info(f"Authorization: {shown_auth}")
        console.info("Content-Type: application/json")
        console.info(json.dumps(body, indent=2, ensure_ascii=False))
        console.endgroup()
    console.info(f"dry-run: nothing was sent ({len(settings.commits)} request(s) shown).")
    _outputs(console, settings, plan, state, "dry-run")
    _summary(console, settings, plan, state, [Outcome(sha, True) for sha in settings.commits], "dry run")
    return plan
