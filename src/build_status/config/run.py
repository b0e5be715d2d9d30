"""The inputs of the run as a whole: TLS, the deadline, what a failure does, dry run."""

from __future__ import annotations

from typing import NamedTuple

from . import values
from .entries import Input, reader

INPUTS: tuple[Input, ...] = (
    Input(
        "ca-cert",
        "CA certificate(s) to trust in addition to the usual ones, as a file path or PEM text "
        "(for a Bitbucket behind a private CA).",
        metavar="PEM",
        parse=values.ca_cert,
    ),
    Input(
        "insecure",
        "Skip TLS certificate verification (not recommended: use ca-cert).",
        default="false",
        metavar="BOOL",
        parse=values.boolean,
    ),
    Input(
        "timeout",
        "Deadline in seconds for the step's exchanges with the servers, retries included (waiting for a "
        "webapp.io run is bounded by webappio-timeout instead).",
        default="60",
        metavar="SECONDS",
        parse=values.timeout,
    ),
    Input(
        "fail-on-error",
        "Fail the step when a server cannot be reached or refuses the status; false turns that into a warning. "
        "With check it covers only reading the statuses: a gate that is not green fails regardless.",
        default="true",
        metavar="BOOL",
        parse=values.boolean,
    ),
    Input(
        "dry-run",
        "Print the requests that would be sent (secrets masked) and send nothing.",
        default="false",
        metavar="BOOL",
        parse=values.boolean,
    ),
)
value = reader(INPUTS)


class RunConfig(NamedTuple):
    #: PEM text of the extra CA certificate(s) to trust, or "".
    ca_cert: str
    insecure: bool
    timeout: float
    fail_on_error: bool
    dry_run: bool


def parse_run(raw: dict[str, str]) -> RunConfig:
    return RunConfig(
        ca_cert=value(raw, "ca-cert"),
        insecure=value(raw, "insecure"),
        timeout=value(raw, "timeout"),
        fail_on_error=value(raw, "fail-on-error"),
        dry_run=value(raw, "dry-run"),
    )
