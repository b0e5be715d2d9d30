"""Close the Coveralls parallel build and report where it is."""

from __future__ import annotations

import requests

from ..config.coveralls import CoverallsConfig
from ..errors import DeadlineExceeded, RemoteError
from ..remotes.coveralls import Closed, Coveralls, close_request
from ..report import Report
from ..transport.deadline import Deadline
from ..workflow import markdown_cell, markdown_link

TITLE = "Coveralls"


def show_close(config: CoverallsConfig, report: Report) -> None:
    """The dry run: the webhook request that would close the build."""
    report.show_request(close_request(config.endpoint, config.repo_token, config.build_number, config.carryforward))
    report.section(
        TITLE,
        f"Dry run: parallel build `{markdown_cell(config.build_number)}` would be closed "
        f"(carry-forward flags: {markdown_cell(_flags(config))}).",
    )


def close_build(
    config: CoverallsConfig, report: Report, session: requests.Session, deadline: Deadline
) -> Closed | None:
    """Close the build; what Coveralls said, or None when it did not close it."""
    client = Coveralls(session, deadline, config.endpoint, config.repo_token)
    console = report.console
    try:
        with deadline.enforced():
            closed = client.close(config.build_number, config.carryforward)
    except DeadlineExceeded as exc:
        return _failed(config, report, f"Gave up closing the build: {exc.message}; raise timeout.")
    except RemoteError as exc:
        return _failed(config, report, exc.message)
    # The count is Coveralls' own (the answer's jobs): the output, the log and the summary all say that one.
    jobs_text = _jobs(closed.jobs, config.carryforward)
    if closed.closed_before:
        console.warning(
            f"Coveralls parallel build {config.build_number} was closed by an earlier attempt of this request "
            "whose answer was lost; nothing more to do.",
            title=TITLE,
        )
    else:
        jobs = f", {jobs_text}" if closed.jobs is not None else ""
        console.info(f"Closed Coveralls parallel build {config.build_number}{jobs}: {closed.url or '(no URL given)'}")
    outputs = {}
    if closed.url:
        outputs["coveralls-url"] = closed.url
    if closed.jobs is not None:
        outputs["coveralls-jobs"] = str(closed.jobs)
    report.outputs(outputs)
    build = markdown_link(f"`{markdown_cell(config.build_number)}`", closed.url)
    report.section(
        TITLE, f"Closed parallel build {build}: {jobs_text}; carry-forward flags: {markdown_cell(_flags(config))}."
    )
    return closed


def _flags(config: CoverallsConfig) -> str:
    return ", ".join(config.carryforward) or "none"


def _jobs(count: int | None, carryforward: tuple[str, ...]) -> str:
    """Coveralls' count of the build's jobs, which includes the carried-forward flags."""
    if count is None:
        return "jobs not reported"
    return f"{count} job(s)" + (" as Coveralls counts them, carried-forward flags included" if carryforward else "")


def _failed(config: CoverallsConfig, report: Report, message: str) -> None:
    report.failure(f"The Coveralls parallel build was not closed. {message}", title=TITLE)
    report.section(
        TITLE, f"Parallel build `{markdown_cell(config.build_number)}` **not closed**: {markdown_cell(message)}"
    )
