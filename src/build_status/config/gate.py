"""The gate's inputs (``check: true``): read every status back and pass only when the commit is green."""

from __future__ import annotations

from typing import NamedTuple

from ..errors import InputError
from ..remotes.interface import StatusRemote
from . import values
from .entries import Input, reader
from .status import StatusInputs
from .values import FALSE_WORDS, MAX_TIMEOUT, TRUE_WORDS, show

#: check-wait: true waits this long (seconds).
DEFAULT_CHECK_WAIT = 30 * 60

INPUTS: tuple[Input, ...] = (
    Input(
        "check",
        "Read back every build status of the commit(s) instead of posting one, show the tally as Bitbucket "
        "does and fail unless the gate is green: nothing FAILED, nothing still INPROGRESS, at least one status "
        "on each commit and every check-keys pattern matched. The step's own key is left out.",
        default="false",
        metavar="BOOL",
        parse=values.boolean,
    ),
    Input(
        "check-wait",
        "With check: wait until no build is INPROGRESS and no key is missing any more: false, true (up to 30 "
        "minutes) or how long (e.g. 20m). Builds still running or missing at the deadline fail the check.",
        default="false",
        metavar="DURATION",
    ),
    Input(
        "check-interval",
        "With check-wait: how often to read the statuses again: seconds, or a number with ms, s or m.",
        default="10s",
        metavar="DURATION",
        parse=values.seconds_between(0.1, 600),
    ),
    Input(
        "check-keys",
        "With check: keys that must have a build status, as patterns where * matches any characters and ? one "
        "([ ] are plain characters, as in matrix keys; the step's own key never counts): one per line, or "
        "comma-separated on one line, where a comma inside [ ] belongs to the key (CI/test[os=ubuntu,py=3.12]). "
        "A pattern no key matches fails the check; check-wait waits for it.",
        metavar="PATTERNS",
        parse=lambda name, given: values.patterns(name, given, what="key pattern"),
    ),
)
value = reader(INPUTS)


class Waiting(NamedTuple):
    """How the gate waits, and for which keys: ``check-wait``, ``check-interval``, ``check-keys``."""

    #: How long to wait for INPROGRESS builds to end, in seconds (0: do not wait).
    wait: float
    #: How often to read again while waiting, in seconds.
    interval: float
    #: ``check-keys``: patterns (``*`` any characters, ``?`` one) of keys that must have a status.
    keys: tuple[str, ...] = ()


class GateConfig(NamedTuple):
    """Reading back the commits' build statuses (``check: true``)."""

    remote: StatusRemote
    commits: tuple[str, ...]
    #: The step's own key, left out of everything.
    own_key: str
    waiting: Waiting


def parse_waiting(raw: dict[str, str]) -> Waiting | None:
    """``check``, ``check-wait``, ``check-interval`` and ``check-keys``; None when the step does not check."""
    checking = value(raw, "check")
    wait_text = value(raw, "check-wait")
    word = wait_text.lower()
    if word in FALSE_WORDS:
        wait = 0.0
    elif word in TRUE_WORDS:
        wait = DEFAULT_CHECK_WAIT
    else:
        wait = values.seconds("check-wait", wait_text, minimum=1, maximum=MAX_TIMEOUT)
    interval = value(raw, "check-interval")
    keys = value(raw, "check-keys")
    if not checking:
        if wait:
            raise InputError("check-wait", "is only used with check: true (reading the statuses back).")
        if keys:
            raise InputError(
                "check-keys", "is only used with check: true (the keys a gate requires); set check: true or drop it."
            )
        return None
    return Waiting(wait=wait, interval=interval, keys=keys)


def gate_config(waiting: Waiting, remote: StatusRemote, status: StatusInputs) -> GateConfig:
    """The gate over the commits of ``status``, its key limits and own key checked against the remote."""
    for pattern in waiting.keys:
        if len(pattern) > remote.key_limit:
            raise InputError(
                "check-keys",
                f"'{show(pattern)}' is longer than {remote.key_limit} characters, the longest key Bitbucket keeps.",
            )
    if status.key in waiting.keys:
        raise InputError(
            "check-keys",
            f"'{show(status.key)}' is this step's own key, which the check leaves out (a gate does not wait "
            "for itself), so it can never be matched; name the other jobs' keys.",
        )
    return GateConfig(remote, status.commits, status.key, waiting)
