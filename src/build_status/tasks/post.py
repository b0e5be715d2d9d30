"""Post one build status to some commits: fit it to the remote's endpoint, send it, say how it went.

The post of this job's status, the post stage's job end and each status of a relayed webapp.io run all go
through :func:`deliver`; what is sent is what the remote's ``status_requests`` makes of the status, so the
checks before the first request, the dry run and the sending agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from ..config.selection import PostConfig
from ..context import Context
from ..errors import DeadlineExceeded, RemoteError
from ..model.naming import default_description
from ..model.status import BuildStatus, TestCounts
from ..remotes.interface import Endpoint, Request, StatusConnection, StatusRemote
from ..report import Report
from ..transport.deadline import Deadline
from ..workflow import Console
from . import post_view

#: Called once the endpoint is known (None when it could not be learnt) with the state to post, before
#: the first post: "" to go on, else why nothing may be posted.
BeforePost = Callable[["Endpoint | None", str], str]


class Posting(NamedTuple):
    """One build status to post to some commits, before the remote fits it."""

    remote: StatusRemote
    commits: tuple[str, ...]
    #: The state asked for, and the rest; an empty description gets the default for the state posted.
    status: BuildStatus
    #: True when the state was given explicitly: an endpoint that cannot take it is an input error.
    explicit: bool


class Outcome(NamedTuple):
    sha: str
    ok: bool
    message: str = ""


class Delivery:
    """What has been decided and posted so far (kept when the deadline cuts a run short)."""

    __slots__ = ("endpoint", "outcomes", "saved", "state")

    def __init__(self, endpoint: Endpoint | None) -> None:
        self.endpoint = endpoint
        self.state = ""
        self.outcomes: list[Outcome] = []
        #: Whether ``before_post`` said yes.
        self.saved = False

    def give_up(self, commits: tuple[str, ...], message: str) -> None:
        done = {outcome.sha for outcome in self.outcomes}
        self.outcomes.extend(Outcome(sha, False, message) for sha in commits if sha not in done)

    @property
    def landed(self) -> list[str]:
        return [outcome.sha for outcome in self.outcomes if outcome.ok]


def final_status(posting: Posting, context: Context, endpoint: Endpoint) -> BuildStatus:
    """The status as ``endpoint`` takes it: its state fitted, the default description written for it."""
    status = posting.status
    state = posting.remote.fit_state(status.state, posting.explicit, endpoint)
    if status.description:
        return status._replace(state=state)
    description = default_description(context, state, duration_ms=status.duration_ms, tests=status.tests)
    return status._replace(state=state, description=description, description_given=False)


def status_requests(posting: Posting, context: Context, endpoint: Endpoint) -> tuple[BuildStatus, list[Request]]:
    status = final_status(posting, context, endpoint)
    return status, posting.remote.status_requests(endpoint, status, posting.commits)


def check_posting(posting: Posting, context: Context) -> Endpoint | None:
    """Everything checkable without the server, before the first request: raises InputError.

    Returns the endpoint when it is known already, None when the server must be asked.
    """
    known = posting.remote.known_endpoint(posting.status.state)
    status_requests(posting, context, known or posting.remote.assumed_endpoint())
    return known


def say_ignored(posting: Posting, console: Console) -> None:
    """A debug line for each input the remote has no field for."""
    for name in posting.remote.ignored(posting.status):
        console.debug(f"{name}: {posting.remote.product} has no such field; it is not sent.")


def deliver(
    posting: Posting,
    context: Context,
    console: Console,
    connection: StatusConnection,
    deadline: Deadline,
    endpoint: Endpoint | None,
    *,
    before_post: BeforePost | None = None,
) -> Delivery:
    """Post to every commit within the deadline; returns what happened (nothing printed but progress
    lines: :func:`report_delivery` writes the annotations, outputs and summary)."""
    delivery = Delivery(endpoint)
    try:
        with deadline.enforced():
            _post_all(posting, context, console, connection, delivery, before_post)
    except DeadlineExceeded as exc:
        delivery.give_up(posting.commits, explain(exc, posting.remote, "talking to Bitbucket"))
    return delivery


def _post_all(
    posting: Posting,
    context: Context,
    console: Console,
    connection: StatusConnection,
    delivery: Delivery,
    before_post: BeforePost | None,
) -> None:
    remote, wanted = posting.remote, posting.status.state
    try:
        if delivery.endpoint is None:
            delivery.endpoint = connection.ask_endpoint(wanted)
    except RemoteError as exc:
        # The start did not land, but the job's end still can: the post stage asks for the endpoint again.
        delivery.saved = before_post is not None and not before_post(None, wanted)
        delivery.give_up(posting.commits, explain(exc, remote, remote.asking))
        return
    endpoint = delivery.endpoint
    status, requests = status_requests(posting, context, endpoint)
    state = delivery.state = status.state
    if before_post is not None:
        problem = before_post(endpoint, state)
        delivery.saved = not problem
        if problem:
            delivery.give_up(posting.commits, problem)
            return
    if state != wanted:
        console.info(remote.fitted_note(wanted, state))
    console.info(
        f"Posting {state} as '{status.key}' to {len(posting.commits)} commit(s) on {remote.base_url} "
        f"({endpoint.label}: {endpoint.why})."
    )
    for request in requests:
        try:
            connection.send(request)
        except DeadlineExceeded as exc:
            delivery.give_up(posting.commits, explain(exc, remote, request.what))
            return
        except RemoteError as exc:
            delivery.outcomes.append(Outcome(request.commit, False, exc.message))
            continue
        delivery.outcomes.append(Outcome(request.commit, True))
        console.info(f"✓ {request.commit} {state}")


def explain(exc: RemoteError, remote: StatusRemote, what: str) -> str:
    if isinstance(exc, DeadlineExceeded):
        return (
            f"Gave up {what or f'talking to {remote.service}'}: {exc.message}; raise timeout if {remote.service} "
            "is slow."
        )
    return exc.message


def report_delivery(posting: Posting, report: Report, delivery: Delivery) -> bool:
    """Annotations (one per distinct failure), outputs and summary; True when every post landed."""
    failed: dict[str, list[str]] = {}
    for outcome in delivery.outcomes:
        if not outcome.ok:
            failed.setdefault(outcome.message, []).append(outcome.sha)
    for message, shas in failed.items():  # one annotation per distinct failure
        which = shas[0] if len(shas) == 1 else f"{len(shas)} commits ({', '.join(s[:12] for s in shas)})"
        report.failure(f"Build status for {which} was not posted. {message}", title="Bitbucket build status")
    result = "failed" if failed else "posted"
    report.outputs(post_view.post_outputs(posting, delivery.endpoint, delivery.state, result))
    report.summary(post_view.post_summary(posting, delivery.endpoint, delivery.state, delivery.outcomes))
    return not failed


def show_posting(
    posting: Posting, context: Context, console: Console, report: Report, endpoint: Endpoint | None
) -> Endpoint:
    """The dry run: the requests that would post the status, outputs and summary; nothing is sent."""
    if endpoint is None:
        endpoint, note = posting.remote.unasked_endpoint()
        console.info(note)
    status, requests = status_requests(posting, context, endpoint)
    for request in requests:
        report.show_request(request)
    console.info(f"dry-run: nothing was sent ({len(requests)} request(s) shown).")
    report.outputs(post_view.post_outputs(posting, endpoint, status.state, "dry-run"))
    outcomes = [Outcome(sha, True) for sha in posting.commits]
    report.summary(post_view.post_summary(posting, endpoint, status.state, outcomes, "dry run"))
    return endpoint


def posting_for(config: PostConfig, tests: TestCounts | None) -> Posting:
    """This job's status as the inputs describe it, with the test counts read."""
    inputs = config.status
    status = BuildStatus(
        state=inputs.state,
        key=inputs.key,
        name=inputs.name,
        url=inputs.url,
        description=inputs.description,
        build_number=inputs.build_number,
        ref=inputs.ref,
        parent=inputs.parent,
        duration_ms=inputs.duration_ms,
        tests=tests,
    )
    return Posting(config.remote, inputs.commits, status, inputs.explicit)
