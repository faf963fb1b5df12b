"""Print the tables of a ``run.py`` results file as reStructuredText list-tables.

    python benchmarks/rst.py [benchmarks/results.json]

For ``docs/performance.rst``: the tables there are pasted from one full run, and this
keeps them the run's own figures, cell for cell. Each text table ``run.py`` printed is
split into columns where its ruler line of dashes has gaps.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from report import Spread

HERE = Path(__file__).resolve().parent


def _columns(ruler: str) -> list[tuple[int, int]]:
    spans = []
    start = None
    for index, char in enumerate(ruler + " "):
        if char == "-" and start is None:
            start = index
        elif char != "-" and start is not None:
            spans.append((start, index))
            start = None
    return spans


def _cells(line: str, spans: list[tuple[int, int]]) -> list[str]:
    # A cell may run past its ruler (a long value): it ends where the next one starts.
    starts = [s for s, _ in spans] + [len(line) + 1]
    return [line[starts[i] : starts[i + 1]].strip() for i in range(len(spans))]


def list_table(text: str) -> str:
    """One ``run.py`` text table (optional title line, header, ruler, rows) as RST."""
    lines = text.splitlines()
    ruler_at = next(i for i, line in enumerate(lines) if set(line) <= {"-", " "} and line)
    title = lines[: ruler_at - 1]
    spans = _columns(lines[ruler_at])
    rows = [_cells(line, spans) for line in [lines[ruler_at - 1], *lines[ruler_at + 1 :]]]
    out = [f"**{t}**\n" for t in title]
    out.append(".. list-table::\n   :header-rows: 1\n")
    for row in rows:
        out.append(f"   * - {_literal(row[0])}")
        out += [f"     - {_cell(cell)}" for cell in row[1:]]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    # A lone "-" (not measured) would start a nested bullet list.
    return r"\-" if text == "-" else text


def _literal(text: str) -> str:
    return text.replace("log[-1]", "``log[-1]``").replace(
        "-p no:httpdouble", "``-p no:httpdouble``"
    )


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "results.json"
    data: dict[str, Any] = json.loads(path.read_text())
    print(f".. {data['mode']} run: {data['seconds']:.0f} s, {data['command']}\n")
    for text in data["tables"]:
        print(list_table(text))
    goals = data["goals"]
    print(".. list-table::\n   :header-rows: 1\n")
    print("   * - goal\n     - median [min-max]\n     - target\n     - met in every repetition")
    for goal in goals:
        spread = "-" if goal["median"] is None else _spread(goal)
        every = {True: "yes", False: "no", None: "not measured"}[goal["every_repetition"]]
        print(f"   * - {_literal(goal['goal'])}")
        print(f"     - {_cell(spread)}\n     - {goal['target']}\n     - {every}")


def _spread(goal: dict[str, Any]) -> str:
    return Spread(tuple(goal["values"])).text()


if __name__ == "__main__":
    main()
