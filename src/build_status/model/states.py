"""The one table that turns a job's outcome into a Bitbucket build state."""

from __future__ import annotations

SUCCESSFUL = "SUCCESSFUL"
FAILED = "FAILED"
INPROGRESS = "INPROGRESS"
CANCELLED = "CANCELLED"
UNKNOWN = "UNKNOWN"
#: Bitbucket Cloud's word for a build that was stopped (it has no CANCELLED or UNKNOWN).
STOPPED = "STOPPED"

#: Every state Bitbucket knows, in the order its documentation lists them.
STATES = (SUCCESSFUL, FAILED, INPROGRESS, CANCELLED, UNKNOWN)
#: The one mapping table: for each source of an outcome, what its words mean as a Bitbucket state.
#: A word a source has that is not here is reported as UNKNOWN (a remote without UNKNOWN fits it to its own).
MAPPING: dict[str, dict[str, str]] = {
    # GitHub's ``job.status`` (also what ``steps.<id>.outcome`` says).
    "job-status": {
        "success": SUCCESSFUL,
        "failure": FAILED,
        "cancelled": CANCELLED,
    },
    # webapp.io's ``calculated_status`` of a CI run.
    "webappio": {
        "NEW": INPROGRESS,
        "STARTING_RUNNERS": INPROGRESS,
        "RUNNING": INPROGRESS,
        "SUCCEEDED": SUCCESSFUL,
        "FAILURE": FAILED,
        "JOB_ERROR": FAILED,
        "BAD_LAYERFILE": FAILED,
        "RUNNER_ERROR": FAILED,
        "RUNNER_CANCELLED": CANCELLED,
    },
}
JOB_STATUS = MAPPING["job-status"]
WEBAPPIO_STATUS = MAPPING["webappio"]

#: The badge each state gets in the step summary.
BADGE = {SUCCESSFUL: "✅", FAILED: "❌", INPROGRESS: "🔵", CANCELLED: "⚪", UNKNOWN: "❔", STOPPED: "⚪"}

#: Human words for the default description.
LABELS = {
    SUCCESSFUL: "Succeeded",
    FAILED: "Failed",
    INPROGRESS: "In progress",
    CANCELLED: "Cancelled",
    UNKNOWN: "Unknown",
    STOPPED: "Stopped",
}


def parse_state(value: str) -> str | None:
    """``value`` as a Bitbucket state (any case), or None when it is not one."""
    upper = value.strip().upper().replace("-", "").replace("_", "")
    return upper if upper in STATES else None


def from_job_status(value: str) -> str | None:
    """The state for a job outcome word (any case), or None when the word is unknown."""
    return JOB_STATUS.get(value.strip().lower())


def from_webappio(calculated_status: str) -> tuple[str, bool]:
    """The state for a webapp.io ``calculated_status``, and whether the word is known (else UNKNOWN)."""
    state = WEBAPPIO_STATUS.get(calculated_status.strip().upper())
    return (state, True) if state else (UNKNOWN, False)


def is_final(state: str) -> bool:
    """Whether a state ends the build (everything but INPROGRESS)."""
    return state != INPROGRESS
