"""Closing a Coveralls parallel build: its inputs."""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

from ..errors import InputError
from ..remotes.interface import StatusRemote
from . import values
from .entries import Input, reader
from .insights import InsightsConfig, parse_coverage_min
from .status import StatusInputs
from .values import show

INPUTS: tuple[Input, ...] = (
    Input(
        "coveralls-parallel-finished",
        "Close the Coveralls parallel build in this step (the fan-in job that needs all the parallel jobs), "
        "so Coveralls computes the aggregate coverage and notifies. Bitbucket inputs may then be left out.",
        default="false",
        metavar="BOOL",
        parse=values.boolean,
    ),
    Input(
        "coveralls-repo-token",
        "The repository token from Coveralls (required to close a build); it is masked and travels only in "
        "the request.",
        secret=True,
        metavar="TOKEN",
    ),
    Input(
        "coveralls-build-number",
        "The build number the parallel jobs uploaded with. The default is what the official Coveralls action "
        "uses; if the jobs append the run attempt, append it here too.",
        default="${{ github.run_id }}",
        fallback=lambda ctx: ctx.run_id,
        metavar="N",
    ),
    Input(
        "coveralls-carryforward",
        "Comma-separated flag names whose last coverage is carried forward into this build when a job of "
        "that flag did not upload (e.g. unit,integration).",
        metavar="FLAGS",
    ),
    Input(
        "coveralls-endpoint",
        "Coveralls base URL (Coveralls Enterprise users set their own).",
        default="https://coveralls.io",
        metavar="URL",
        parse=partial(values.base_url, example="https://coveralls.io"),
    ),
    Input(
        "coveralls-status",
        "After closing the parallel build, also post its aggregate coverage to Bitbucket as a build status "
        "(key coveralls and name Coveralls unless key and name are given; description e.g. 87.35% (+0.42); "
        "linked to the Coveralls build; FAILED below coverage-min), in place of this job's own status.",
        default="false",
        metavar="BOOL",
        parse=values.boolean,
    ),
)
value = reader(INPUTS)


class CoverallsConfig(NamedTuple):
    """Closing a Coveralls parallel build, then reading its coverage and taking it to Bitbucket."""

    endpoint: str
    repo_token: str
    build_number: str
    carryforward: tuple[str, ...]
    #: The commit whose build it is ("" when no commit is known): where the coverage is read when the
    #: webhook's answer gives no build page.
    commit: str = ""
    #: Read the build's coverage once it is closed (for the outputs, a status, a report).
    reads_coverage: bool = False
    coverage_min: float | None = None
    #: Where the coverage goes in Bitbucket (None: nowhere): a status (coveralls-status), a report.
    bitbucket: CoverallsBitbucket | None = None


class CoverallsBitbucket(NamedTuple):
    """The Coveralls build's coverage in Bitbucket."""

    remote: StatusRemote
    #: The status to post (coveralls-status: true), its state decided by the coverage; None: no status.
    status: StatusInputs | None
    #: The commits a report goes to, its key (insights-key) and whether reports are published.
    commits: tuple[str, ...]
    insights: InsightsConfig


def closes(raw: dict[str, str]) -> bool:
    """Whether this step closes a Coveralls parallel build."""
    return value(raw, "coveralls-parallel-finished")


def posts_status(raw: dict[str, str]) -> bool:
    """Whether the Coveralls build's coverage is posted as a build status (coveralls-status)."""
    return value(raw, "coveralls-status")


def parse_coveralls(
    raw: dict[str, str], commit: str = "", reads_coverage: bool = False, bitbucket: CoverallsBitbucket | None = None
) -> CoverallsConfig:
    token = value(raw, "coveralls-repo-token")
    if not token:
        raise InputError(
            "coveralls-repo-token",
            "is required with coveralls-parallel-finished: true (the repository token from the repository's "
            "settings page on Coveralls).",
        )
    endpoint = value(raw, "coveralls-endpoint")
    number = value(raw, "coveralls-build-number")
    if not number:
        raise InputError(
            "coveralls-build-number",
            "is empty: give the build number the parallel jobs uploaded with (on GitHub, ${{ github.run_id }}).",
        )
    if len(number) > 255 or any(ord(ch) < 32 for ch in number):
        raise InputError(
            "coveralls-build-number", f"'{show(number)}' is not a build number (one line, at most 255 characters)."
        )
    return CoverallsConfig(
        endpoint,
        token,
        number,
        parse_flags(raw["coveralls-carryforward"]),
        commit=commit,
        reads_coverage=reads_coverage,
        coverage_min=parse_coverage_min(raw),
        bitbucket=bitbucket,
    )


def parse_flags(given: str) -> tuple[str, ...]:
    """Comma-separated flag names: spaces around names trimmed, empty names rejected, duplicates dropped."""
    if not given.strip():
        return ()
    flags: list[str] = []
    for position, name in enumerate(given.split(","), start=1):
        name = name.strip()
        if not name:
            raise InputError(
                "coveralls-carryforward", f"flag {position} is empty; give flag names separated by commas (unit,e2e)."
            )
        if any(ord(ch) < 32 for ch in name) or len(name) > 255:
            raise InputError(
                "coveralls-carryforward", f"'{show(name)}' is not a flag name (one line, at most 255 characters)."
            )
        if name not in flags:
            flags.append(name)
    return tuple(flags)
