"""Code Insights and coverage: which reports a step publishes beside its build status, and their inputs."""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from ..errors import InputError
from . import values
from .entries import Input, reader
from .values import show

#: ``insights``: publish where the target takes reports (auto), or required (true), or never (false).
AUTO, ON, OFF = "auto", "true", "false"
KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

INPUTS: tuple[Input, ...] = (
    Input(
        "coverage-results",
        "Coverage reports whose line coverage goes with the final state (a Code Insights report, the "
        "coverage-percent output and the step summary): glob patterns like test-results'. Cobertura XML "
        "(coverage.py, istanbul, gcovr), JaCoCo XML or lcov tracefiles, told apart by their content.",
        metavar="GLOBS",
        parse=values.patterns,
    ),
    Input(
        "insights",
        "Publish Code Insights reports (tests, with an annotation per failed test, and coverage) with the final "
        "state: auto publishes where the target takes them (Data Center with bitbucket-project and "
        "bitbucket-repo, 5.15+; Bitbucket Cloud) and there is something to report; true requires it; false "
        "never publishes.",
        default=AUTO,
        metavar="auto|true|false",
    ),
    Input(
        "insights-key",
        "The start of the reports' keys (letters, digits, '.', '_' and '-', at most 100): the test report is "
        "<insights-key>.tests, the coverage report <insights-key>.coverage, the Coveralls report "
        "<insights-key>.coveralls. Default: build-status.<kind>.<hash of the build key>, stable per job and "
        "matrix combination.",
        metavar="KEY",
    ),
    Input(
        "coverage-min",
        "The lowest line coverage that passes, as a percentage (e.g. 80 or 87.5): below it the coverage "
        "report's result is FAIL (a merge check can require it), the Coveralls status is FAILED and the step "
        "writes a warning.",
        metavar="PERCENT",
    ),
)
value = reader(INPUTS)


class InsightsConfig(NamedTuple):
    """The reports that go with a final state."""

    #: AUTO, ON or OFF.
    mode: str
    #: insights-key, or "" for the default derived from the build key.
    key: str
    #: Glob patterns of coverage reports (none: no coverage).
    coverage_results: tuple[str, ...]
    #: coverage-min, or None.
    coverage_min: float | None

    @property
    def publishing(self) -> bool:
        return self.mode != OFF


def parse_mode(raw: dict[str, str]) -> str:
    given = value(raw, "insights").lower()
    if given in ("", AUTO):
        return AUTO
    if given in values.TRUE_WORDS:
        return ON
    if given in values.FALSE_WORDS:
        return OFF
    raise InputError("insights", f"'{show(given)}' is not auto, true or false.")


def parse_coverage_min(raw: dict[str, str]) -> float | None:
    given = value(raw, "coverage-min").removesuffix("%").strip()
    if not given:
        return None
    try:
        number = float(given)
    except ValueError:
        number = math.nan
    if not 0 <= number <= 100:  # also refuses nan
        raise InputError("coverage-min", f"'{show(given)}' is not a percentage from 0 to 100 (e.g. 80 or 87.5).")
    return number


def parse_key(raw: dict[str, str]) -> str:
    key = value(raw, "insights-key")
    if key and not KEY_RE.match(key):
        raise InputError(
            "insights-key",
            f"'{show(key)}' is not a report key: use 1 to 100 letters, digits, '.', '_' and '-', starting with a "
            "letter or digit (e.g. com.example.ci).",
        )
    return key


def parse_insights(raw: dict[str, str]) -> InsightsConfig:
    return InsightsConfig(
        mode=parse_mode(raw),
        key=parse_key(raw),
        coverage_results=value(raw, "coverage-results"),
        coverage_min=parse_coverage_min(raw),
    )
