"""Spreads and goals: what every section of the benchmarks reports, and how it is printed.

A measure is repeated (5 rotated repetitions of the peers, 5+ fresh processes for a
startup figure, interleaved suite runs); it is reported as its median and its range
over the repetitions. A goal is a bound on a value each repetition yields (a ratio of
two servers measured in the same repetition, a difference of two paired runs); it is
met only if it holds in every repetition, not in the best one or the median.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


def fmt(value: float | None) -> str:
    """A number to three significant figures or so, with thousands separators."""
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


@dataclass(frozen=True)
class Spread:
    """The values one measure took over the repetitions (``None``: not measured then)."""

    values: tuple[float | None, ...]

    @property
    def present(self) -> list[float]:
        return [v for v in self.values if v is not None]

    @property
    def median(self) -> float | None:
        return statistics.median(self.present) if self.present else None

    def text(self) -> str:
        """``median [min-max]``, or the one value when there is one."""
        present = self.present
        if not present:
            return "-"
        if len(present) == 1:
            return fmt(present[0])
        return f"{fmt(self.median)} [{fmt(min(present))}-{fmt(max(present))}]"

    def as_json(self) -> dict[str, Any]:
        present = self.present
        return {
            "values": list(self.values),
            "median": self.median,
            "min": min(present) if present else None,
            "max": max(present) if present else None,
        }


def ratio(top: float | None, bottom: float | None) -> float | None:
    if top is None or bottom is None or bottom == 0:
        return None
    return top / bottom


def ratios(tops: Sequence[float | None], bottoms: Sequence[float | None]) -> Spread:
    """Per-repetition ratios of two measures taken in the same repetitions."""
    return Spread(tuple(ratio(t, b) for t, b in zip(tops, bottoms, strict=True)))


@dataclass(frozen=True)
class Goal:
    """A bound on a value measured once per repetition."""

    name: str
    spread: Spread
    op: str  # ">=" or "<="
    bound: float
    unit: str = "x"

    def held(self, value: float) -> bool:
        return value >= self.bound if self.op == ">=" else value <= self.bound

    @property
    def every(self) -> bool | None:
        """Met in every repetition (``None``: not measured in some)."""
        if not self.spread.values or any(v is None for v in self.spread.values):
            return None
        return all(self.held(v) for v in self.spread.present)

    @property
    def target(self) -> str:
        return f"{self.op} {fmt(self.bound)}{'' if self.unit == 'x' else ' '}{self.unit}"

    def as_json(self) -> dict[str, Any]:
        return {
            "goal": self.name,
            "target": self.target,
            "every_repetition": self.every,
            "met": [None if v is None else self.held(v) for v in self.spread.values],
            **self.spread.as_json(),
        }


def _grid(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    rows = [list(head), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def goals_table(goals: Sequence[Goal]) -> str:
    answer = {True: "yes", False: "NO", None: "not measured"}
    rows = [
        (g.name, g.spread.text(), g.target, answer[g.every], f"{len(g.spread.present)}")
        for g in goals
    ]
    return _grid(("goal", "median [min-max]", "target", "met every rep", "reps"), rows)


def spread_table(
    title: str, servers: Sequence[str], rows: Sequence[tuple[str, dict[str, Spread]]]
) -> str:
    """One row per measure, one column per server: median [min-max]."""
    body = [
        (name, *(cells[s].text() if s in cells else "-" for s in servers)) for name, cells in rows
    ]
    return f"{title}\n" + _grid(("measure", *servers), body)
