"""What every user of the plugin pays, whether or not a test uses a server.

* ``import_ms``: ``python -X importtime -c "import pytest; import <plugin module>"`` in a
  fresh process, and the cumulative time of every top-level import after pytest's: what
  importing the plugin adds to a run, since pytest is imported before any plugin.
  ``import_total_ms`` is the cumulative time of importing the plugin module alone
  (pytest included), for reference.
* ``fixed_costs``: a one-test suite that uses no fixture of ours, run with the plugin and
  with ``-p no:httpdouble`` (the name of our ``pytest11`` entry point), in pairs, each
  run a fresh pytest process; the difference of each pair is one repetition.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from suite import clean_env, time_pytest

ENTRY_POINT = "httpdouble"  # [project.entry-points.pytest11] in pyproject.toml
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")


def _top_level(stderr: str) -> list[tuple[str, int]]:
    """The (module, cumulative us) of each top-level import in ``-X importtime`` output."""
    out = []
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if match and len(match.group(3)) == 1:  # one space: not nested in another import
            out.append((match.group(4), int(match.group(2))))
    return out


def _importtime(python: str, code: str) -> str:
    done = subprocess.run(
        [python, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
        check=True,
    )
    return done.stderr


def import_ms(python: str, module: str) -> float:
    """Milliseconds the import of ``module`` adds once pytest is imported."""
    lines = _top_level(_importtime(python, f"import pytest; import {module}"))
    names = [name for name, _ in lines]
    after = lines[names.index("pytest") + 1 :]
    return sum(cumulative for _, cumulative in after) / 1e3


def import_total_ms(python: str, module: str) -> float:
    """Milliseconds of importing ``module`` alone, pytest and all."""
    lines = _top_level(_importtime(python, f"import {module}"))
    # The package (and its parents) show as top-level lines of their own before the module.
    package = module.split(".")[0]
    return sum(c for name, c in lines if name.split(".")[0] == package) / 1e3


def write_one_test(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    (folder / "test_one.py").write_text("def test_one():\n    pass\n")


def fixed_costs(python: str, folder: Path, workers: int, runs: int) -> dict[str, list[float]]:
    """Wall milliseconds of the one-test run with and without the plugin, ``runs`` pairs."""
    args = [str(folder / "test_one.py")]
    if workers:
        args += ["-n", str(workers)]
    out: dict[str, list[float]] = {"with": [], "without": [], "added": []}
    for index in range(runs):
        # Alternate which goes first, so neither always runs on a warmer page cache.
        order = (False, True) if index % 2 else (True, False)
        got = {}
        for plugin in order:
            extra = [] if plugin else ["-p", f"no:{ENTRY_POINT}"]
            got[plugin] = time_pytest(python, folder, [*args, *extra]) * 1e3
        out["with"].append(got[True])
        out["without"].append(got[False])
        out["added"].append(got[True] - got[False])
    return out
