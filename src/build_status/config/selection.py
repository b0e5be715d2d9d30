"""Which tasks a step runs, decided once from the inputs: :func:`parse_config`.

- ``check: true``: the gate (after closing a Coveralls build, when the step does both);
- a webapp.io input: relay the run (its status goes to Bitbucket when Bitbucket inputs are given);
- otherwise post this job's status, unless the step only closes a Coveralls build;
- ``coveralls-parallel-finished: true``: close the Coveralls parallel build.
"""

from __future__ import annotations

from typing import NamedTuple, Union

from ..context import Context
from ..errors import InputError
from ..model.states import INPROGRESS, SUCCESSFUL
from ..remotes.interface import StatusRemote
from . import bitbucket_cloud, bitbucket_dc, coveralls, gate, webappio
from .coveralls import CoverallsConfig
from .gate import GateConfig
from .run import RunConfig, parse_run
from .status import GATE, POST, RELAY, StatusInputs, first_commit, parse_status
from .webappio import WebappioConfig


class PostConfig(NamedTuple):
    """Posting this job's build status."""

    remote: StatusRemote
    status: StatusInputs
    #: report-job-end applies: the state is not final yet (INPROGRESS, or job.status while the job runs),
    #: so the action's main stage posts INPROGRESS and leaves the job's end to its post stage.
    ends_later: bool = False


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
    (and reads no test results: the job's later steps write them); anything else posts the state as it is.
    """
    closing = coveralls.closes(raw)
    relaying = webappio.relays(raw)
    waiting = gate.parse_waiting(raw)
    if waiting and relaying:
        raise InputError("check", "reads statuses back; it cannot relay a webapp.io run in the same step (use two).")
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
        status = parse_status(raw, context, remote, GATE if waiting else RELAY if relaying else POST)
    if raw["test-results"].strip() and (waiting or relaying or not status):
        doing = "check: true reads statuses" if waiting else "a relayed webapp.io run brings its own result"
        if not (waiting or relaying):
            doing = "no Bitbucket status is posted in this step"
        raise InputError("test-results", f"has nothing to go with: {doing}. Give it to the step that posts the status.")
    tasks: list[Task] = []
    checking = gate.gate_config(waiting, remote, status) if waiting and remote and status else None
    if relaying:
        commit = (lambda: status.commits[0]) if status else (lambda: first_commit(raw))
        tasks.append(RelayConfig(webappio.parse_webappio(raw, context, commit), remote, status))
    elif remote and status and not waiting:
        tasks.append(_post_config(remote, status, stage))
    if closing:
        tasks.append(coveralls.parse_coveralls(raw))
    if checking:  # after closing Coveralls: a fan-in job's gate comes last
        tasks.append(checking)
    return Config(tuple(tasks), parse_run(raw))


def _post_config(remote: StatusRemote, status: StatusInputs, stage: str) -> PostConfig:
    """A state that comes from ``job.status`` while the job still runs (``success``) is not final yet;
    ``failure`` and ``cancelled`` are (a job does not recover), and so is any state given explicitly but
    INPROGRESS."""
    ends_later = status.report_end and (
        status.state == INPROGRESS or (not status.explicit and status.state == SUCCESSFUL)
    )
    if ends_later and stage == "main":
        status = status._replace(state=INPROGRESS, test_results=())
    return PostConfig(remote, status, ends_later)
