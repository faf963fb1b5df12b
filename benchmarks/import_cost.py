"""Import cost (issue 27): what importing us adds to a process, against pytest-httpserver 1.2.1.

    python benchmarks/import_cost.py [--quick] [--repetitions N] [--ours PYTHON]
                                     [--incumbent PYTHON] [--json PATH]

Each case runs in a fresh process under ``python -X importtime`` with bytecode cached, as on
a user's machine: ``PYTHONDONTWRITEBYTECODE`` is unset for these processes (some machines set
it, and then every module of ours is compiled from source in every process), and each case
runs once unmeasured first, so its ``__pycache__`` files exist. The figure is the sum of the
cumulative times of the top-level imports made after the prelude, the prelude's own imports
excluded:

``stack``        ``import werkzeug, pytest``, then ``import httpdouble.httpserver`` /
                 ``import pytest_httpserver`` (goal: ours <= 10 ms);
``stack+req``    the same after ``import requests`` too (issue 27's reference line);
``plugin``       ``import pytest``, then the ``pytest11`` module (``httpdouble.plugin`` /
                 ``pytest_httpserver.pytest_plugin``): what every pytest run and every xdist
                 worker pays;
``plain test``   after ``import werkzeug, pytest, http.client``: the imports, the server
                 start, one ``expect_request(...).respond_with_json(...)`` answered to
                 http.client, and the stop: every import a plain test makes, lazy ones
                 included.

Ours and the incumbent alternate, ``--repetitions`` times (9; ``--quick`` 3), each from a
virtualenv of the same shape (``costs.py``). Prints median [min-max] per case, the ratio
ours / incumbent per repetition, and the modules each case loads. Measures, never fails on
a number. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import costs
from suite import clean_env

HERE = Path(__file__).resolve().parent
MARKER = "colorsys"  # a small stdlib module neither side imports: where the prelude ends
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")

_PLAIN_TEST = """
server = HTTPServer(host="127.0.0.1", port=0)
server.start()
try:
    server.expect_request("/item").respond_with_json({"ok": True})
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/item")
    answer = connection.getresponse()
    body = answer.read()
    assert answer.status == 200 and b'"ok"' in body, (answer.status, body)
    connection.close()
    server.check_assertions()
finally:
    server.stop()
"""

# case -> (prelude, ours, incumbent)
CASES: dict[str, tuple[str, str, str]] = {
    "stack": (
        "import werkzeug, pytest",
        "import httpdouble.httpserver",
        "import pytest_httpserver",
    ),
    "stack+req": (
        "import requests, werkzeug, pytest",
        "import httpdouble.httpserver",
        "import pytest_httpserver",
    ),
    "plugin": (
        "import pytest",
        "import httpdouble.plugin",
        "import pytest_httpserver.pytest_plugin",
    ),
    "plain test": (
        "import werkzeug, pytest, http.client",
        "from httpdouble import HTTPServer\n" + _PLAIN_TEST,
        "from pytest_httpserver import HTTPServer\n" + _PLAIN_TEST,
    ),
}
LABELS = {
    "stack": "import the server stack after werkzeug, pytest (ms)",
    "stack+req": "the same after requests, werkzeug, pytest (ms)",
    "plugin": "import the pytest11 module after pytest (ms)",
    "plain test": "a plain test's imports, lazy ones too, after werkzeug, pytest (ms)",
}
GOALS = {"stack": 10.0}  # ms, ours; every other case: ours / incumbent reported, no bound


def program(prelude: str, body: str) -> str:
    return (
        textwrap.dedent(
            f"""\
        import sys
        {prelude}
        import {MARKER}
        before = set(sys.modules)
        """
        )
        + body
        + textwrap.dedent(
            """
        print("MODULES", len(set(sys.modules) - before))
        """
        )
    )


def cached_bytecode_env() -> dict[str, str]:
    """:func:`suite.clean_env` with bytecode written and read, as on a user's machine."""
    env = clean_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def measure(python: str, prelude: str, body: str) -> tuple[float, int]:
    """Return (ms of top-level imports after the prelude, modules loaded after it)."""
    done = subprocess.run(
        [python, "-X", "importtime", "-c", program(prelude, body)],
        capture_output=True,
        text=True,
        timeout=120,
        env=cached_bytecode_env(),
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{python} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    total, seen = 0, False
    for line in done.stderr.splitlines():
        match = _LINE.match(line)
        if not match or len(match.group(3)) != 1:  # one space: a top-level import
            continue
        if seen:
            total += int(match.group(2))
        seen = seen or match.group(4) == MARKER
    if not seen:
        raise RuntimeError(f"marker {MARKER} not imported by {python}: pick another")
    modules = int(done.stdout.split("MODULES", 1)[1].split()[0])
    return total / 1e3, modules


def run(pythons: dict[str, str], repetitions: int) -> dict[str, dict[str, dict[str, list[Any]]]]:
    """``case -> side -> {"ms": [...], "modules": [...]}``, sides alternating in order."""
    out: dict[str, dict[str, dict[str, list[Any]]]] = {
        case: {side: {"ms": [], "modules": []} for side in pythons} for case in CASES
    }
    # One unmeasured run of each case writes the __pycache__ files the measured ones read.
    for prelude, ours, theirs in CASES.values():
        for side in pythons:
            measure(pythons[side], prelude, theirs if side == "incumbent" else ours)
    print("  bytecode cached (PYTHONDONTWRITEBYTECODE unset, one warm-up run)", flush=True)
    for index in range(repetitions):
        sides = list(pythons) if index % 2 == 0 else list(reversed(pythons))
        for case, (prelude, ours, theirs) in CASES.items():
            for side in sides:
                body = theirs if side == "incumbent" else ours
                ms, modules = measure(pythons[side], prelude, body)
                out[case][side]["ms"].append(ms)
                out[case][side]["modules"].append(modules)
        print(f"  repetition {index + 1}/{repetitions} done", flush=True)
    return out


def tables(got: dict[str, dict[str, dict[str, list[Any]]]], repetitions: int) -> str:
    rows = []
    goals = []
    for case, sides in got.items():
        cells = {side: costs.spread(data["ms"]) for side, data in sides.items()}
        for side in ("ours", "before"):
            if "incumbent" in sides and side in sides:
                cells[f"{side} / incumbent"] = costs.ratios(
                    sides[side]["ms"], sides["incumbent"]["ms"]
                )
        rows.append((LABELS[case], cells))
        rows.append(
            (
                "  modules loaded",
                {side: costs.spread(data["modules"]) for side, data in sides.items()},
            )
        )
        if case in GOALS:
            name = f"{LABELS[case]}, ours"
            goals.append(
                costs.Goal(name, costs.spread(sides["ours"]["ms"]), "<=", GOALS[case], "ms")
            )
    title = (
        f"Import cost, {repetitions} alternating repetitions, each a fresh process,"
        " bytecode cached"
    )
    text = costs.spread_table(title, costs.columns(list(got[next(iter(got))])), rows)
    return text + "\n\nGoals (each checked in every repetition)\n" + costs.goals_table(goals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions")
    parser.add_argument("--repetitions", type=int, help="alternations (9; --quick: 3)")
    parser.add_argument("--ours", help="python with ours installed (default .venv-ours-suite)")
    parser.add_argument("--incumbent", help="python with pytest-httpserver (default 1.2.1's)")
    parser.add_argument("--before", help="python with an older ours, measured alongside")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    repetitions = args.repetitions or (3 if args.quick else 9)
    pythons = costs.pythons(args.ours, args.incumbent, args.before)
    got = run(pythons, repetitions)
    print()
    print(tables(got, repetitions))
    if args.json:
        Path(args.json).write_text(json.dumps({"import_cost": got}, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
