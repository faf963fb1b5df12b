"""Issue 15: what ``pytest -n 2`` pays for the plugin when no test uses a server.

Runs a small suite of plain tests with ``-n 2``, with and without the plugin, taking turns
so that load on a shared machine falls on every configuration alike, and prints the wall
time (median and minimum) and the CPU time of all the run's processes (median).
``--compare DIR`` adds a third configuration: the plugin imported from the source folder
``DIR`` (for instance an older checkout's ``src``), put first on ``PYTHONPATH``.

    python benchmarks/fixed_cost.py [--runs 9] [--workers 2] [--compare DIR]
"""

from __future__ import annotations

import argparse
import os
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


def _one_run(
    folder: Path, workers: int, plugin: bool, pythonpath: str | None
) -> tuple[float, float]:
    """Return the wall time and the CPU time (all processes of the run) of one run."""
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", str(workers)]
    if not plugin:
        args += ["-p", "no:httpdouble"]
    env = dict(os.environ)
    env.pop("PORTSERVER_ADDRESS", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    cpu, started = _cpu(), time.perf_counter()
    done = subprocess.run(args, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    return elapsed, _cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--compare", metavar="DIR", default=None)
    options = parser.parse_args()
    configs: list[tuple[str, bool, str | None]] = [
        ("with the plugin", True, None),
        ("-p no:httpdouble", False, None),
    ]
    if options.compare:
        configs.append((f"plugin from {Path(options.compare).name}", True, options.compare))
    times: dict[str, list[tuple[float, float]]] = {label: [] for label, _, _ in configs}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "test_plain.py").write_text(PLAIN_TESTS)
        (folder / "pytest.ini").write_text("[pytest]\n")
        _one_run(folder, options.workers, True, None)  # warm the file cache
        for _ in range(options.runs):
            for label, plugin, pythonpath in configs:
                times[label].append(_one_run(folder, options.workers, plugin, pythonpath))
    print(f"pytest -n {options.workers}, 20 plain tests, {options.runs} runs each (ms):")
    print(f"  {'':<26} wall median  wall min  CPU median")
    base = "-p no:httpdouble"
    rows = {}
    for label, _, _ in configs:
        walls = [wall for wall, _ in times[label]]
        cpus = [cpu for _, cpu in times[label]]
        rows[label] = (statistics.median(walls), min(walls), statistics.median(cpus))
        print(f"  {label:<26} " + "".join(f"{v * 1000:11.0f}" for v in rows[label]))
    for label, plugin, _ in configs:
        if plugin:
            cost = [(a - b) * 1000 for a, b in zip(rows[label], rows[base], strict=True)]
            print(f"  {'cost: ' + label:<26} " + "".join(f"{v:11.0f}" for v in cost))


if __name__ == "__main__":
    main()
