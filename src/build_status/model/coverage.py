"""How many of the lines a coverage report counts were covered."""

from __future__ import annotations

from typing import NamedTuple


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
