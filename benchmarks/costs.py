"""What ``import_cost.py`` and ``fixture_cost.py`` share (issue 27).

Both compare ours with pytest-httpserver 1.2.1, each from a virtualenv of the same shape
(pytest, pytest-xdist, requests and the plugin): ours is ``envs.ensure_suite_venv``'s
``.venv-ours-suite``; the incumbent's release here is 1.2.1, the one users run today, in
``.venv-incumbent-1.2.1`` (``envs.ensure_incumbent`` keeps 1.1.5 for issue 15's tables).
Both are made on first use and reused while what they hold is unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import envs
from report import Goal, Spread, goals_table, ratios, spread_table

HERE = Path(__file__).resolve().parent
INCUMBENT_RELEASE = "1.2.1"
INCUMBENT_RELEASE_VENV = HERE / f".venv-incumbent-{INCUMBENT_RELEASE}"
INCUMBENT_RELEASE_PINS = (f"pytest-httpserver=={INCUMBENT_RELEASE}", *envs.SHARED)

__all__ = ["Goal", "Spread", "goals_table", "pythons", "ratios", "spread_table"]


def _note(text: str) -> None:
    print(f"  note: {text}", flush=True)


def ensure_incumbent_release() -> str | None:
    """Return the python of pytest-httpserver 1.2.1's virtualenv, making it if needed."""
    python = INCUMBENT_RELEASE_VENV / "bin" / "python"
    marker = INCUMBENT_RELEASE_VENV / "installed.txt"
    wanted = " ".join(INCUMBENT_RELEASE_PINS)
    if marker.exists() and marker.read_text().strip() == wanted:
        return str(python)
    print(f"making {INCUMBENT_RELEASE_VENV.name} with {wanted} ...", flush=True)
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(INCUMBENT_RELEASE_VENV)], check=True)
        install = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*install, *INCUMBENT_RELEASE_PINS], check=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as exc:
        _note(f"incumbent not measured: its virtualenv could not be made ({exc})")
        return None
    marker.write_text(wanted + "\n")
    return str(python)


def pythons(ours: str | None, incumbent: str | None, before: str | None = None) -> dict[str, str]:
    """The interpreters to compare: given ones win, else the benchmark virtualenvs.

    ``before``: a python with an older checkout of ours installed (``--before``), measured
    in the same run: how the before/after tables of docs/performance.rst were made.
    """
    # Absolute, not resolved: a virtualenv's python is a symlink that must stay one.
    chosen = {"ours": os.path.abspath(ours or envs.ensure_suite_venv(_note) or sys.executable)}
    theirs = incumbent or ensure_incumbent_release()
    if theirs is not None:
        chosen["incumbent"] = os.path.abspath(theirs)
    if before is not None:
        chosen["before"] = os.path.abspath(before)
    return chosen


def columns(sides: Sequence[str]) -> list[str]:
    """The table's columns: each side, then each of ours and before over the incumbent."""
    out = [side for side in ("ours", "before", "incumbent") if side in sides]
    if "incumbent" in sides:
        out += [f"{side} / incumbent" for side in ("ours", "before") if side in sides]
    return out


def spread(values: Sequence[float | None]) -> Spread:
    return Spread(tuple(values))
