"""Which tasks a step runs, decided once from the inputs: :func:`parse_config`.

- ``check: true``: the gate (after closing a Coveralls build, when the step does both);
- a webapp.io input: relay the run (its status goes to Bitbucket when Bitbucket inputs are given);
- otherwise post this job's status, unless the step only closes a Coveralls build;
- ``coveralls-parallel-finished: true``: close the Coveralls parallel build (then, with Bitbucket inputs, its
  coverage as a report, and with ``coveralls-status: true`` as a status in place of this job's own);
- a posted final state takes its test and coverage reports with it (``insights``).
"""

from __future__ import annotations

from typing import NamedTuple, Union

from ..context import Context
from ..errors import InputError
from ..model.states import INPROGRESS, SUCCESSFUL
from ..remotes.interface import StatusRemote
from . import bitbucket_cloud, bitbucket_dc, coveralls, gate, insights, webappio
from .coveralls import CoverallsBitbucket, CoverallsConfig
from .gate import GateConfig
from .insights import InsightsConfig
from .run import RunConfig, parse_run
from .status import COVERALLS, GATE, RELAY, StatusInputs, first_commit, parse_status
from .status import POST as POST_STATUS
from .webappio import WebappioConfig


class PostConfig(NamedTuple):
    """Posting this job's build status."""

    remote: StatusRemote
    status: StatusInputs
    #: report-job-end applies: the state is not final yet (INPROGRESS, or job.status while the job runs),
    #: so the action's main stage posts INPROGRESS and leaves the job's end to its post stage.
    ends_later: bool = False
    #: The reports that go with the final state (none with the default: insights off, no coverage).
    insights: InsightsConfig = InsightsConfig(insights.OFF, "", (), None)


class RelayConfig(NamedTuple):
    """Relaying a webapp.io run, and where its status goes (no remote: webapp.io only)."""

    webappio: WebappioConfig
    remote: StatusRemote | None
    status: StatusInputs | None


Task = Union[PostConfig, RelayConfig, CoverallsConfig, GateConfig]


class Config(NamedTuple):
    """Everything one step does: its tasks, in the order they run, and the run's own settings."""

    tasks: tuple[Task, ...]
    run: RunConfig

    def first(self, kind: type) -> Task | None:
        return next((task for task in self.tasks if isinstance(task, kind)), None)

    @property
    def post(self) -> PostConfig | None:
        return self.first(PostConfig)  # type: ignore[return-value]

    @property
    def relay(self) -> RelayConfig | None:
        return self.first(RelayConfig)  # type: ignore[return-value]

    @property
    def gate(self) -> GateConfig | None:
        return self.first(GateConfig)  # type: ignore[return-value]

    @property
    def coveralls(self) -> CoverallsConfig | None:
        return self.first(CoverallsConfig)  # type: ignore[return-value]


def parse_config(raw: dict[str, str], context: Context, stage: str = "") -> Config:
    """Validate every input; raises :class:`InputError` for the first one that is wrong.

    ``stage``: "main" for the action's main stage, where a post whose end comes later posts INPROGRESS
    (and reads no test or coverage results: the job's later steps write them); anything else posts the
    state as it is.
    """
    closing = coveralls.closes(raw)
    coveralls_status = coveralls.posts_status(raw)
    relaying = webappio.relays(raw)
    waiting = gate.parse_waiting(raw)
    reports = insights.parse_insights(raw)
    if waiting and relaying:
        raise InputError("check", "reads statuses back; it cannot relay a webapp.io run in the same step (use two).")
    if coveralls_status and not closing:
        raise InputError(
            "coveralls-status",
            "needs coveralls-parallel-finished: true: it posts the coverage of the Coveralls build this step closes.",
        )
    if coveralls_status and relaying:
        raise InputError("coveralls-status", "cannot go with a relayed webapp.io run in the same step (use two).")
    remote: StatusRemote | None = None
    status: StatusInputs | None = None
    if (
        waiting
        or not (closing or relaying)
        or bitbucket_cloud.wanted(raw)
        or any(raw[name].strip() for name in bitbucket_dc.NAMES)
    ):
        remote = (
            bitbucket_cloud.parse_cloud_remote(raw) if bitbucket_cloud.wanted(raw) else bitbucket_dc.parse_remote(raw)
        )
        purpose = GATE if waiting else RELAY if relaying else COVERALLS if coveralls_status else POST_STATUS
        status = parse_status(raw, context, remote, purpose)
    elif coveralls_status:
        raise InputError(
            "coveralls-status",
            "needs a Bitbucket to post to: give bitbucket-url and bitbucket-token (with bitbucket-workspace for "
            "Bitbucket Cloud).",
        )
    posting = bool(remote and status and not (waiting or relaying or coveralls_status))
    _check_results(raw, reports, posting, waiting, relaying, coveralls_status, closing)
    _check_insights(reports, remote, posting, closing, raw)
    tasks: list[Task] = []
    checking = gate.gate_config(waiting, remote, status) if waiting and remote and status else None
    if relaying:
        commit = (lambda: status.commits[0]) if status else (lambda: first_commit(raw))
        tasks.append(RelayConfig(webappio.parse_webappio(raw, context, commit), remote, status))
    elif posting and remote and status:
        tasks.append(_post_config(remote, status, reports, stage))
    if closing:
        tasks.append(_coveralls_config(raw, context, remote, status, reports, coveralls_status))
    if checking:  # after closing Coveralls: a fan-in job's gate comes last
        tasks.append(checking)
    return Config(tuple(tasks), parse_run(raw))


def _check_results(
    raw: dict[str, str],
    reports: InsightsConfig,
    posting: bool,
    waiting: bool,
    relaying: bool,
    coveralls_status: bool,
    closing: bool,
) -> None:
    """test-results and coverage-results go with this job's status; coverage-min needs a coverage."""
    for name in ("test-results", "coverage-results"):
        if not raw[name].strip() or posting:
            continue
        doing = (
            "check: true reads statuses"
            if waiting
            else "a relayed webapp.io run brings its own result"
            if relaying
            else "with coveralls-status: true this step posts the Coveralls build's coverage, not this job's status"
            if coveralls_status
            else "no Bitbucket status is posted in this step"
        )
        raise InputError(name, f"has nothing to go with: {doing}. Give it to the step that posts the status.")
    if reports.coverage_min is not None and not (reports.coverage_results or closing):
        raise InputError(
            "coverage-min", "has no coverage to compare with: give coverage-results (or close a Coveralls build)."
        )


def _check_insights(
    reports: InsightsConfig, remote: StatusRemote | None, posting: bool, closing: bool, raw: dict[str, str]
) -> None:
    """insights: true must be able to publish something, before any request."""
    if reports.mode != insights.ON:
        return
    if not (posting or closing):
        raise InputError(
            "insights",
            "is true, but this step publishes no report: reports go with this job's final status (test-results, "
            "coverage-results) or with the Coveralls build it closes.",
        )
    if remote is None:
        raise InputError("insights", "is true, but no Bitbucket is given to publish the Coveralls report to.")
    if not remote.takes_reports:
        raise InputError("insights", f"is true, but {remote.why_no_reports}")
    if posting and not closing and not (raw["test-results"].strip() or reports.coverage_results):
        raise InputError("insights", "is true, but there is nothing to report: give test-results or coverage-results.")


def _coveralls_config(
    raw: dict[str, str],
    context: Context,
    remote: StatusRemote | None,
    status: StatusInputs | None,
    reports: InsightsConfig,
    coveralls_status: bool,
) -> CoverallsConfig:
    """Closing the build; with a Bitbucket, its coverage as a report and (coveralls-status) a status."""
    bitbucket = None
    if remote is not None and status is not None:
        shown = parse_status(raw, context, remote, COVERALLS) if coveralls_status else None
        bitbucket = CoverallsBitbucket(remote, shown, status.commits, reports)
    commit = status.commits[0] if status else first_commit(raw)
    reads = coveralls_status or reports.publishing
    return coveralls.parse_coveralls(raw, commit, reads, bitbucket)


def _post_config(remote: StatusRemote, status: StatusInputs, reports: InsightsConfig, stage: str) -> PostConfig:
    """A state that comes from ``job.status`` while the job still runs (``success``) is not final yet;
    ``failure`` and ``cancelled`` are (a job does not recover), and so is any state given explicitly but
    INPROGRESS."""
    ends_later = status.report_end and (
        status.state == INPROGRESS or (not status.explicit and status.state == SUCCESSFUL)
    )
    if ends_later and stage == "main":
        status = status._replace(state=INPROGRESS, test_results=())
        reports = reports._replace(coverage_results=())
    return PostConfig(remote, status, ends_later, reports)
