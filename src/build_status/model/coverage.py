"""How many of the lines a coverage report counts were covered."""

from __future__ import annotations

import math
from typing import NamedTuple


def below_minimum(percent: float | None, minimum: float | None) -> bool:
    """Whether a coverage is below coverage-min (no minimum, or nothing covered to compare: never)."""
    return minimum is not None and percent is not None and percent < minimum


class CoverageTotals(NamedTuple):
    """Covered and coverable lines; ``a + b`` adds them field by field."""

    covered: int
    total: int

    @property
    def percent(self) -> float | None:
        """``covered / total * 100``, unrounded; None when there is no line to cover."""
        if not self.total:
            return None
        return self.covered / self.total * 100

    @property
    def shown(self) -> str:
        """The percentage rounded down to two decimals (``87.35``), so it reads 100 only when every line is
        covered; ``""`` when there is no line to cover."""
        if not self.total:
            return ""
        hundredths = self.covered * 10_000 // self.total
        return f"{hundredths // 100}.{hundredths % 100:02d}"

    def describe(self) -> str:
        """E.g. ``87.35% (1,234 of 1,413 lines)``; ``no lines`` for none."""
        if not self.total:
            return "no lines"
        noun = "line" if self.total == 1 else "lines"
        return f"{self.shown}% ({self.covered:,} of {self.total:,} {noun})"

    def __add__(self, other: object) -> CoverageTotals:  # type: ignore[override]
        if not isinstance(other, CoverageTotals):
            return NotImplemented
        return CoverageTotals(self.covered + other.covered, self.total + other.total)


class CoverallsCoverage(NamedTuple):
    """A Coveralls build's aggregate coverage, as its build JSON gives it."""

    percent: float
    #: In points; None when Coveralls gives none.
    change: float | None
    #: The build's page ("" when unknown).
    url: str

    @property
    def shown(self) -> str:
        """``87.35`` (rounded down to two decimals, so 100 only when it is)."""
        hundredths = math.floor(round(self.percent * 100, 6))
        return f"{hundredths // 100}.{hundredths % 100:02d}"

    @property
    def change_shown(self) -> str:
        """``+0.42``, ``-1.50``, ``+0.00``; ``""`` when there is no change to show."""
        return "" if self.change is None else f"{self.change:+.2f}"

    def describe(self) -> str:
        """``87.35% (+0.42)``, the description of the coveralls-status."""
        change = f" ({self.change_shown})" if self.change_shown else ""
        return f"{self.shown}%{change}"
