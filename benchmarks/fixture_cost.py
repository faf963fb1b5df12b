"""Fixture cost (issue 27): setup, call and teardown of ``httpserver``, and collection.

    python benchmarks/fixture_cost.py [--quick] [--repetitions N] [--tests N]
                                      [--ours PYTHON] [--incumbent PYTHON] [--json PATH]

Writes a suite of ``--tests`` tests (200) in pytest-httpserver's API, the same text for
both: GET and POST JSON, a oneshot handler, two ordered handlers, a handler function and
headers, each answered to ``http.client`` and ended with ``check_assertions()``, as the
incumbent's documentation asks. It runs with ours and with pytest-httpserver 1.2.1,
alternating, ``--repetitions`` times (5; ``--quick`` 2), each run a fresh pytest from a
virtualenv of the same shape (``costs.py``).

A conftest records each phase's duration as pytest reports it (``report.duration``:
setup, call, teardown), the main thread's CPU time in each phase (``time.thread_time``,
steadier than wall time on a shared machine) and the time of the collection hook (werkzeug
imported beforehand: the incumbent's plugin imports it at startup, ours on first use); each
run gives the median
over its tests, and the table shows the median [min-max] of those over the runs, with
the ratio ours / incumbent per repetition. ``pytest --co -q`` of the same suite, wall
time of the whole process, is measured alongside. Measures, never fails on a number.
Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import costs
from suite import clean_env

TESTS = 200
PHASES = ("setup", "call", "teardown")

CONFTEST = """
import json
import os
import time

import pytest

# What the suite imports, imported before collection: the incumbent's plugin imports
# werkzeug at startup and ours when a test first needs it, so without this the collection
# hook would charge ours for werkzeug (about 40 ms). The whole-process row counts it.
import http.client
import werkzeug

DURATIONS = {"setup": [], "call": [], "teardown": []}
CPU = {"setup": [], "call": [], "teardown": []}
COLLECTION = []


def _cpu(phase):
    # The main thread's CPU time: steadier than wall time on a loaded machine (another
    # process's turn on the core does not count), and the server's threads do not count.
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def hook(item):
        began = time.thread_time()
        try:
            return (yield)
        finally:
            CPU[phase].append(time.thread_time() - began)

    return hook


pytest_runtest_setup = _cpu("setup")
pytest_runtest_call = _cpu("call")
pytest_runtest_teardown = _cpu("teardown")


@pytest.hookimpl(wrapper=True)
def pytest_collection(session):
    began = time.perf_counter()
    try:
        return (yield)
    finally:
        COLLECTION.append(time.perf_counter() - began)


def pytest_runtest_logreport(report):
    DURATIONS[report.when].append(report.duration)


def pytest_sessionfinish(session):
    out = os.environ.get("FIXTURE_COST_OUT")
    if out:
        with open(out, "w") as stream:
            json.dump({"durations": DURATIONS, "cpu": CPU, "collection": COLLECTION}, stream)
"""

HEADER = """
import http.client
import json

from werkzeug import Response


def fetch(server, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        connection.close()
"""

KINDS = (
    """
def test_get_json_{n}(httpserver):
    httpserver.expect_request("/items/{n}").respond_with_json({{"id": {n}}})
    status, _, body = fetch(httpserver, "GET", "/items/{n}")
    assert status == 200 and json.loads(body) == {{"id": {n}}}
    httpserver.check_assertions()
""",
    """
def test_post_json_{n}(httpserver):
    httpserver.expect_request("/items", method="POST", json={{"n": {n}}}).respond_with_json(
        {{"created": {n}}}, status=201
    )
    sent = json.dumps({{"n": {n}}})
    kind = {{"Content-Type": "application/json"}}
    status, _, body = fetch(httpserver, "POST", "/items", sent, kind)
    assert status == 201 and json.loads(body) == {{"created": {n}}}
    httpserver.check_assertions()
""",
    """
def test_oneshot_{n}(httpserver):
    httpserver.expect_oneshot_request("/once/{n}").respond_with_data("once")
    status, _, body = fetch(httpserver, "GET", "/once/{n}")
    assert status == 200 and body == b"once"
    httpserver.check_assertions()
""",
    """
def test_ordered_{n}(httpserver):
    httpserver.expect_ordered_request("/first").respond_with_data("1")
    httpserver.expect_ordered_request("/second").respond_with_data("2")
    assert fetch(httpserver, "GET", "/first")[2] == b"1"
    assert fetch(httpserver, "GET", "/second")[2] == b"2"
    httpserver.check_assertions()
""",
    """
def test_handler_{n}(httpserver):
    def handler(request):
        return Response(request.args.get("q", "") + "-{n}", status=200)

    httpserver.expect_request("/handler").respond_with_handler(handler)
    status, _, body = fetch(httpserver, "GET", "/handler?q=x")
    assert status == 200 and body == b"x-{n}"
    httpserver.check_assertions()
""",
    """
def test_headers_{n}(httpserver):
    httpserver.expect_request("/headers", headers={{"X-Key": "k{n}"}}).respond_with_data(
        "ok", headers={{"X-Seen": "{n}"}}
    )
    status, headers, _ = fetch(httpserver, "GET", "/headers", headers={{"X-Key": "k{n}"}})
    assert status == 200 and headers["X-Seen"] == "{n}"
    httpserver.check_assertions()
""",
)


def write_suite(folder: Path, tests: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    (folder / "conftest.py").write_text(CONFTEST)
    body = "".join(KINDS[n % len(KINDS)].format(n=n) for n in range(tests))
    (folder / "test_suite.py").write_text(HEADER + body)


def _pytest(python: str, folder: Path, args: list[str], out: Path | None) -> float:
    command = [python, "-m", "pytest", "-q", "-c", str(folder / "pytest.ini")]
    command += ["--rootdir", str(folder), *args]
    env = clean_env()
    # As on a user's machine: pytest keeps its assertion-rewritten bytecode (of the suite and
    # of each plugin) in __pycache__, so only the warm-up run pays for rewriting.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if out is not None:
        env["FIXTURE_COST_OUT"] = str(out)
    began = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=600, env=env, cwd=folder, check=False
    )
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
        )
    return elapsed


def one_run(python: str, folder: Path) -> dict[str, float]:
    """Median ms of each phase over the tests, the collection hook's ms, --co wall ms."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "durations.json"
        _pytest(python, folder, ["test_suite.py"], out)
        data = json.loads(out.read_text())
        collect_only = _pytest(python, folder, ["--co", "test_suite.py"], None)
    figures = {phase: statistics.median(data["durations"][phase]) * 1e3 for phase in PHASES}
    figures["mean setup"] = statistics.fmean(data["durations"]["setup"]) * 1e3
    figures["mean teardown"] = statistics.fmean(data["durations"]["teardown"]) * 1e3
    figures["setup + teardown"] = figures["setup"] + figures["teardown"]
    for phase in PHASES:
        figures[f"cpu {phase}"] = statistics.median(data["cpu"][phase]) * 1e3
    figures["cpu setup + teardown"] = figures["cpu setup"] + figures["cpu teardown"]
    figures["collection"] = data["collection"][0] * 1e3
    figures["--co wall"] = collect_only * 1e3
    return figures


LABELS = {
    "setup": "setup, median over the tests (ms)",
    "call": "call, median over the tests (ms)",
    "teardown": "teardown, median over the tests (ms)",
    "setup + teardown": "setup + teardown (ms)",
    "cpu setup": "setup, main thread's CPU, median (ms)",
    "cpu call": "call, main thread's CPU, median (ms)",
    "cpu teardown": "teardown, main thread's CPU, median (ms)",
    "cpu setup + teardown": "setup + teardown, main thread's CPU (ms)",
    "mean setup": "setup, mean over the tests (first test's server start included) (ms)",
    "mean teardown": "teardown, mean over the tests (last test's server stop included) (ms)",
    "collection": "collection hook (ms)",
    "--co wall": "pytest --co -q, whole process (ms)",
}


def run(
    pythons: dict[str, str], folder: Path, repetitions: int
) -> dict[str, list[dict[str, float]]]:
    out: dict[str, list[dict[str, float]]] = {side: [] for side in pythons}
    for python in pythons.values():  # warm-up: bytecode written, page cache filled
        _pytest(python, folder, ["test_suite.py"], None)
    for index in range(repetitions):
        sides = list(pythons) if index % 2 == 0 else list(reversed(pythons))
        for side in sides:
            out[side].append(one_run(pythons[side], folder))
        print(f"  repetition {index + 1}/{repetitions} done", flush=True)
    return out


def tables(got: dict[str, list[dict[str, float]]], tests: int, repetitions: int) -> str:
    rows: list[tuple[str, dict[str, Any]]] = []
    for key, label in LABELS.items():
        cells = {side: costs.spread([r[key] for r in runs]) for side, runs in got.items()}
        for side in ("ours", "before"):
            if "incumbent" in got and side in got:
                cells[f"{side} / incumbent"] = costs.ratios(
                    [r[key] for r in got[side]], [r[key] for r in got["incumbent"]]
                )
        rows.append((label, cells))
    title = (
        f"Fixture cost, a {tests}-test suite, {repetitions} alternating repetitions,"
        " each run a fresh pytest"
    )
    text = costs.spread_table(title, costs.columns(list(got)), rows)
    goals = []
    if "incumbent" in got:
        pairs = (("setup + teardown", 1.0), ("cpu setup + teardown", 1.0), ("collection", 1.0))
        for key, bound in pairs:
            spread = costs.ratios(
                [r[key] for r in got["ours"]], [r[key] for r in got["incumbent"]]
            )
            goals.append(costs.Goal(f"{LABELS[key]}: ours / incumbent", spread, "<=", bound))
    if goals:
        text += "\n\nGoals (each checked in every repetition)\n" + costs.goals_table(goals)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 repetitions")
    parser.add_argument("--repetitions", type=int, help="alternations (5; --quick: 2)")
    parser.add_argument("--tests", type=int, default=TESTS, help=f"tests in the suite ({TESTS})")
    parser.add_argument("--ours", help="python with ours installed (default .venv-ours-suite)")
    parser.add_argument("--incumbent", help="python with pytest-httpserver (default 1.2.1's)")
    parser.add_argument("--before", help="python with an older ours, measured alongside")
    parser.add_argument("--keep", help="write the suite into this folder and keep it")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    repetitions = args.repetitions or (2 if args.quick else 5)
    pythons = costs.pythons(args.ours, args.incumbent, args.before)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.keep) if args.keep else Path(scratch)
        write_suite(folder, args.tests)
        got = run(pythons, folder, repetitions)
    print()
    print(tables(got, args.tests, repetitions))
    if args.json:
        Path(args.json).write_text(json.dumps({"fixture_cost": got}, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
