"""Issue 15: what ``pytest -n 2`` pays for the plugin when no test uses a server.

Runs a small suite of plain tests with ``-n 2``, with and without the plugin, alternating
the two so that load on a shared machine falls on both alike, and prints the medians.

    python benchmarks/fixed_cost.py [--runs 9] [--workers 2]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLAIN_TESTS = """\
import pytest


@pytest.mark.parametrize("n", range(20))
def test_plain(n):
    assert n >= 0
"""


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _one_run(folder: Path, workers: int, plugin: bool) -> tuple[float, float]:
    """Return the wall time and the CPU time (all processes of the run) of one run."""
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", str(workers)]
    if not plugin:
        args += ["-p", "no:httpdouble"]
    cpu, started = _cpu(), time.perf_counter()
    done = subprocess.run(args, cwd=folder, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    return elapsed, _cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "test_plain.py").write_text(PLAIN_TESTS)
        (folder / "pytest.ini").write_text("[pytest]\n")
        _one_run(folder, options.workers, True)  # warm the file cache
        times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        for _ in range(options.runs):
            for plugin in (True, False):
                times[plugin].append(_one_run(folder, options.workers, plugin))
    print(f"pytest -n {options.workers}, 20 plain tests, {options.runs} runs each (ms):")
    print("                     wall median  wall min  CPU median")
    rows = {}
    for plugin, label in ((True, "with the plugin"), (False, "-p no:httpdouble")):
        walls = [wall for wall, _ in times[plugin]]
        cpus = [cpu for _, cpu in times[plugin]]
        rows[plugin] = (statistics.median(walls), min(walls), statistics.median(cpus))
        print(f"  {label:<18} " + "".join(f"{v * 1000:11.0f}" for v in rows[plugin]))
    cost = [(a - b) * 1000 for a, b in zip(rows[True], rows[False], strict=True)]
    label = "plugin's cost"
    print(f"  {label:<18} " + "".join(f"{v:11.0f}" for v in cost))


if __name__ == "__main__":
    main()
