"""Issue 15: what ``pytest -n 2`` pays for the plugin when no test uses a server.

Runs a small suite of plain tests with ``-n 2``, with and without the plugin, alternating
the two so that load on a shared machine falls on both alike, and prints the medians.

    python benchmarks/fixed_cost.py [--runs 9] [--workers 2]
"""

from __future__ import annotations

import argparse
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


def _one_run(folder: Path, workers: int, plugin: bool) -> float:
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", str(workers)]
    if not plugin:
        args += ["-p", "no:httpdouble"]
    started = time.perf_counter()
    done = subprocess.run(args, cwd=folder, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    return elapsed


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
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(options.runs):
            for plugin in (True, False):
                times[plugin].append(_one_run(folder, options.workers, plugin))
    with_plugin = statistics.median(times[True]) * 1000
    without = statistics.median(times[False]) * 1000
    print(f"pytest -n {options.workers}, 20 plain tests, medians of {options.runs} runs:")
    print(f"  with the plugin:    {with_plugin:7.0f} ms")
    print(f"  -p no:httpdouble:   {without:7.0f} ms")
    print(f"  plugin's cost:      {with_plugin - without:7.0f} ms")


if __name__ == "__main__":
    main()
