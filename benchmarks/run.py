"""Benchmarks of issue 15: ours beside the incumbent and three peers, in one run.

    python benchmarks/run.py [--quick] [--sections peers,startup,suite,logs,matrix]
                             [--repetitions N] [--json PATH] [--before-src DIR]

Sections (all but ``matrix`` by default):

``peers``    ours, pytest-httpserver 1.1.5, uvicorn (httptools, uvloop), an asyncio
             Protocol with httptools and a raw thread-per-connection responder (and,
             with ``--before-src DIR``, ours from an older checkout's ``src``), each in
             a process of its own, rotated, ``--repetitions`` times (``rotation.py``);
``startup``  what importing the plugin adds, and a one-test run with and without it,
             plain and ``-n 2`` (``startup.py``);
``suite``    per-test overhead of a 2,000-test suite, ours, the incumbent and a floor,
             plain and ``-n 2`` (``suite.py``);
``logs``     reading the request log: ``log_reads.py`` on ours and on the incumbent, in
             turn, 3 repetitions (or ``--repetitions``);
``matrix``   the issue 4 cases: start/stop, three clients, threads, handlers, TLS
             (``matrix.py``).

Prints, for every measure, its median and range over the repetitions, and for every
goal whether it held in every repetition; writes everything as JSON
(``benchmarks/results.json``, not committed). This is a measurement, not a test:
nothing here fails on a number. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import envs
import matrix
import rotation
import startup
import suite
from report import Goal, Spread, goals_table, ratios, spread_table

from clients import Budget

HERE = Path(__file__).resolve().parent
SECTIONS = ("peers", "startup", "suite", "logs", "matrix")
DEFAULT_SECTIONS = "peers,startup,suite,logs"


class Run:
    """What one run gathers: tables, goals, notes and the raw figures for the JSON."""

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.tables: list[str] = []
        self.goals: list[tuple[str, Goal]] = []
        self.notes: list[str] = []
        self.raw: dict[str, Any] = {}

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)


# ------------------------------------------------------------------ sections


def peers(run: Run, repetitions: int, incumbent: str | None, before_src: str | None) -> None:
    plan = (
        rotation.Plan(repetitions, 1, Budget(rounds=3, seconds=0.2, max_requests=20_000))
        if run.quick
        else rotation.Plan(repetitions, 2, Budget(rounds=3, seconds=0.5, max_requests=100_000))
    )
    servers = rotation.commands(sys.executable, incumbent, before_src)
    data = rotation.run(plan, servers, run.note)
    labels = [rotation.LABELS[s] for s in rotation.SERVERS if s in data]
    rows = [
        (name, {rotation.LABELS[s]: spread for s, spread in cells.items()})
        for name, cells in rotation.spreads(data)
    ]
    title = (
        f"Servers, {repetitions} rotated repetitions (wrk -t1, {plan.wrk_seconds} s a run;"
        f" keep-alive: {plan.sequential.rounds} rounds of {plan.sequential.seconds} s)"
    )
    run.tables.append(spread_table(title, labels, rows))
    run.goals += [("peers", g) for g in rotation.goals(data)]
    run.raw["peers"] = {"plan": plan.__dict__ | {"sequential": plan.sequential.__dict__}}
    run.raw["peers"]["data"] = data


def _spread(values: list[float]) -> Spread:
    return Spread(tuple(values))


def startup_costs(run: Run, ours: str, incumbent: str | None) -> None:
    runs = 3 if run.quick else 7
    parallel_runs = 2 if run.quick else 5  # each -n 2 run starts three interpreters
    imports = [startup.import_ms(ours, "httpdouble.plugin") for _ in range(runs)]
    totals = [startup.import_total_ms(ours, "httpdouble.plugin") for _ in range(runs)]
    rows: list[tuple[str, dict[str, Spread]]] = [
        ("import of the plugin, pytest already imported (ms)", {"ours": _spread(imports)}),
        ("import of the plugin alone, pytest included (ms)", {"ours": _spread(totals)}),
    ]
    if incumbent is not None:
        module = "pytest_httpserver.pytest_plugin"
        theirs = [startup.import_ms(incumbent, module) for _ in range(runs)]
        rows[0][1]["incumbent"] = _spread(theirs)
        theirs_total = [startup.import_total_ms(incumbent, module) for _ in range(runs)]
        rows[1][1]["incumbent"] = _spread(theirs_total)
    run.goals.append(
        ("startup", Goal("import of the plugin adds (ms)", _spread(imports), "<=", 15, "ms"))
    )
    with tempfile.TemporaryDirectory() as folder:
        startup.write_one_test(Path(folder))
        for workers, bound in ((0, 30.0), (2, 100.0)):
            label = "-n 2" if workers else "plain"
            pairs = parallel_runs if workers else runs
            got = startup.fixed_costs(ours, Path(folder), workers, pairs)
            rows.append(
                (f"1-test run, {label}, with the plugin (ms)", {"ours": _spread(got["with"])})
            )
            rows.append(
                (f"1-test run, {label}, -p no:httpdouble (ms)", {"ours": _spread(got["without"])})
            )
            run.goals.append(
                (
                    "startup",
                    Goal(
                        f"1-test run ({label}): plugin adds (ms)",
                        _spread(got["added"]),
                        "<=",
                        bound,
                        "ms",
                    ),
                )
            )
            run.raw[f"startup {label}"] = got
    run.tables.append(
        spread_table("Startup, each run a fresh process", ["ours", "incumbent"], rows)
    )
    run.raw["import_ms"] = {"ours": imports, "ours_total": totals}


def suite_overhead(run: Run, ours: str, incumbent: str | None) -> None:
    tests = 100 if run.quick else suite.TESTS
    repeats = 1 if run.quick else 3
    pythons = {"ours": ours, "floor": ours}
    if incumbent is not None:
        pythons["incumbent"] = incumbent
    rows: list[tuple[str, dict[str, Spread]]] = []
    with tempfile.TemporaryDirectory() as folder:
        suite.write_suites(Path(folder), tests)
        for workers in (0, 2):
            label = "-n 2" if workers else "plain"
            got = suite.overheads(pythons, Path(folder), workers, repeats, tests)
            rows.append(
                (
                    f"{tests}-test suite, {label}: ms a test over empty",
                    {k: _spread(v) for k, v in got.items()},
                )
            )
            mine = got["ours"]
            theirs = got.get("incumbent", [None] * repeats)
            run.goals.append(
                (
                    "suite",
                    Goal(
                        f"per-test overhead ({label}), ours / incumbent",
                        ratios(mine, theirs),
                        "<=",
                        0.8,
                    ),
                )
            )
            run.raw[f"suite {label}"] = got
    title = f"Per-test overhead, {repeats} interleaved repetitions, each run a fresh pytest"
    run.tables.append(spread_table(title, ["ours", "incumbent", "floor"], rows))


def log_reads(run: Run, repetitions: int, incumbent: str | None) -> None:
    """``log_reads.py`` on ours and the incumbent, ``repetitions`` times in turn (rotated)."""
    script = str(HERE / "log_reads.py")
    entries = 3_000 if run.quick else 10_000
    memory = "1000" if run.quick else "5000"
    pythons = {"ours": sys.executable}
    if incumbent is not None:
        pythons["incumbent"] = incumbent
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in pythons}
    kinds = list(pythons)
    for rep in range(repetitions):
        order = kinds[rep % len(kinds) :] + kinds[: rep % len(kinds)]
        print(f"  repetition {rep + 1}/{repetitions}: {', '.join(order)}", flush=True)
        for kind in order:
            with tempfile.NamedTemporaryFile(suffix=".json") as out:
                command = [pythons[kind], script, "--server", kind, "--entries", str(entries)]
                command += ["--sizes", str(entries), "--memory-requests", memory]
                command += ["--budget", "90", "--json", out.name]
                subprocess.run(command, check=True, timeout=900, cwd=HERE)
                runs[kind].append(json.loads(Path(out.name).read_text()))
    run.raw["logs"] = runs

    def values(kind: str, path: str) -> list[float | None]:
        part, key = path.split(".")
        out: list[float | None] = []
        for figures in runs.get(kind, [{}] * repetitions):
            got = figures.get(part)
            if got is None:
                out.append(None)
            else:
                out.append(float(got[-1][key] if part == "reads" else got[key]))
        return out

    def cell(path: str, scale: float = 1.0) -> dict[str, Spread]:
        return {
            kind: Spread(tuple(None if v is None else v * scale for v in values(kind, path)))
            for kind in runs
        }

    n = f"{entries:,}"
    rows = [
        (f"{n} requests, log unread: us a request", cell("entries.us_per_request")),
        ("full collection, empty log (ms)", cell("entries.gc_ms_empty_log")),
        (f"full collection, {n} entries unread (ms)", cell("entries.gc_ms_logged")),
        (f"full collection, {n} entries read (ms)", cell("entries.gc_ms_after_full_read")),
        (f"full read of {n} entries: us an entry", cell("entries.full_read_us_per_entry")),
        (
            "full read, best block of 500: us an entry",
            cell("entries.best_block_read_us_per_entry"),
        ),
        ("second full read: us an entry", cell("entries.second_full_read_us_per_entry")),
        (f"get_matching_requests_count, {n} entries (ms)", cell("entries.count_s", 1e3)),
        ("second get_matching_requests_count (ms)", cell("entries.second_count_s", 1e3)),
        ("log[-1] after each request: requests", cell("reads.sent")),
        ("log[-1] after each request: us a read", cell("reads.us_per_read")),
        ("memory a logged request, unread (B)", cell("memory.bytes_unread")),
        ("memory a logged request, read (B)", cell("memory.bytes_read")),
    ]
    title = f"Reading the request log, {repetitions} repetitions, ours and the incumbent in turn"
    run.tables.append(spread_table(title, list(runs), rows))

    def versus(text: str, path: str) -> tuple[str, Goal]:
        return (
            "logs",
            Goal(text, ratios(values("ours", path), values("incumbent", path)), "<=", 1.0),
        )

    def own(text: str, path: str, bound: float, unit: str, scale: float = 1.0) -> tuple[str, Goal]:
        return ("logs", Goal(text, cell(path, scale)["ours"], "<=", bound, unit))

    flat = ratios(
        values("ours", "entries.gc_ms_logged"), values("ours", "entries.gc_ms_empty_log")
    )
    run.goals += [
        own(
            f"full read of {n} entries, an entry (ours)", "entries.full_read_us_per_entry", 5, "us"
        ),
        own(
            "full read, best block of 500, an entry (ours)",
            "entries.best_block_read_us_per_entry",
            5,
            "us",
        ),
        own("log[-1] after each request, a read (ours)", "reads.us_per_read", 5, "us"),
        versus(
            f"full read of {n} entries, us an entry: ours / incumbent",
            "entries.full_read_us_per_entry",
        ),
        versus("log[-1] after each request, us a read: ours / incumbent", "reads.us_per_read"),
        versus(f"get_matching_requests_count, {n} entries: ours / incumbent", "entries.count_s"),
        own("memory a logged request, unread (ours)", "memory.bytes_unread", 600, "B"),
        (
            "logs",
            Goal(f"full collection, {n} entries unread / empty log (ours)", flat, "<=", 1.5),
        ),
    ]


# ---------------------------------------------------------------------- main


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, under a minute")
    parser.add_argument("--sections", default=DEFAULT_SECTIONS, help=f"of {','.join(SECTIONS)}")
    parser.add_argument("--repetitions", type=int, help="peers: rotations (5; --quick: 1)")
    parser.add_argument("--json", default=str(HERE / "results.json"), help="where to write JSON")
    parser.add_argument(
        "--before-src",
        help="peers: also serve ours from this src folder (an older checkout's), in the rotation",
    )
    args = parser.parse_args()
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {','.join(SECTIONS)}")
    repetitions = args.repetitions or (1 if args.quick else 5)
    began = time.monotonic()
    run = Run(args.quick)
    run.raw["machine_before"] = machine()
    incumbent = envs.ensure_incumbent(run.note)
    ours = envs.ensure_suite_venv(run.note) or sys.executable
    timings: dict[str, float] = {}
    for section in sections:
        print(f"\n== {section}", flush=True)
        start = time.monotonic()
        if section == "peers":
            peers(run, repetitions, incumbent, args.before_src)
        elif section == "startup":
            startup_costs(run, ours, incumbent)
        elif section == "suite":
            suite_overhead(run, ours, incumbent)
        elif section == "logs":
            log_reads(run, 1 if args.quick else (args.repetitions or 3), incumbent)
        else:
            run.raw["matrix"] = matrix.run(args.quick, incumbent)
        timings[section] = time.monotonic() - start
    elapsed = time.monotonic() - began
    print()
    for text in run.tables:
        print(text, end="\n\n")
    if run.goals:
        print("Goals (each checked in every repetition; the last column says how many)")
        print(goals_table([goal for _, goal in run.goals]))
    for text in run.notes:
        print(f"note: {text}")
    spent = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
    print(f"\n{'quick' if args.quick else 'full'} run took {elapsed:.0f} s ({spent})")
    Path(args.json).write_text(
        json.dumps(
            {
                "mode": "quick" if args.quick else "full",
                "command": " ".join(sys.argv),
                "seconds": elapsed,
                "section_seconds": timings,
                "machine": machine(),
                "goals": [dict(section=s, **g.as_json()) for s, g in run.goals],
                "tables": run.tables,
                "notes": run.notes,
                "raw": run.raw,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
