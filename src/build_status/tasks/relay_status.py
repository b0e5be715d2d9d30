"""The statuses a relayed webapp.io run posts: built from the run, checked before the first request, and
shown by a dry run."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from ..config.selection import RelayConfig
from ..context import Context
from ..model import naming
from ..model.status import BuildStatus
from ..redaction import cut
from ..remotes.interface import Endpoint
from ..remotes.webappio import Run, Webappio
from ..report import Report
from ..transport.deadline import Deadline
from .post import Posting, check_posting, show_posting

#: The longest calculated status webapp.io has: the inputs are checked with it, so that it always fits.
LONGEST_STATUS = "RUNNER_CANCELLED"


def relay_posting(config: RelayConfig, state: str, description: str, url: str) -> Posting:
    """The status of the run as it is posted to Bitbucket."""
    inputs, remote = config.status, config.remote
    assert inputs is not None and remote is not None
    status = BuildStatus(
        state=state,
        key=inputs.key,
        name=inputs.name,
        url=url,
        description=description,
        build_number=inputs.build_number,
        ref=inputs.ref,
        parent=inputs.parent,
        duration_ms=inputs.duration_ms,
    )
    return Posting(remote, inputs.commits, status, explicit=False)


def check_relay(config: RelayConfig, context: Context) -> Endpoint | None:
    """The checks before the first request, on the most demanding status a relay posts (the longest
    description, some URL); the endpoint when it is known already."""
    inputs = config.status
    if inputs is None:
        return None
    description = naming.webappio_description(10**18, LONGEST_STATUS, inputs.description)
    return check_posting(relay_posting(config, "INPROGRESS", description, inputs.url or "https://webapp.io"), context)


def show_relay(
    config: RelayConfig, context: Context, report: Report, session: requests.Session, endpoint: Endpoint | None
) -> None:
    """The dry run: the request that finds or starts the run, and the statuses it would post."""
    ws = config.webappio
    client = Webappio(session, Deadline(1), ws.endpoint, ws.token, ws.repo)
    if ws.trigger:
        report.show_request(client.create_request(ws.branch, ws.ref, ws.accept_buttons, ws.extra))
    else:
        report.show_request(client.search_request(ws.query))
    wait = f"then poll every {ws.poll_interval:g} s for up to {ws.wait_timeout:g} s" if ws.wait else "no waiting"
    report.console.info(f"dry-run: {wait}; INPROGRESS and the final state would be posted to Bitbucket.")
    inputs = config.status
    if inputs is not None and config.remote is not None:
        description = naming.webappio_description("N", "RUNNING", inputs.description)
        sample = relay_posting(config, "INPROGRESS", description, inputs.url or run_origin(ws.endpoint))
        show_posting(sample, context, report.console, report, endpoint)


def run_description(run: Run, given: str, limit: int) -> str:
    """The description of a relayed run, within the remote's limit whatever webapp.io's status says: the
    status is cut to fit (the inputs were checked with LONGEST_STATUS, which always fits)."""
    text = naming.webappio_description(run.id, run.calculated_status, given)
    over = len(text) - limit
    if over > 0:
        status = run.calculated_status
        text = naming.webappio_description(run.id, cut(status, max(len(status) - over, len(LONGEST_STATUS))), given)
    return cut(text, limit)


def run_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
