"""Our server beside its peers, rotated: the throughput, latency and CPU goals of issue 15.

For each repetition, for each server in that repetition's order (the list rotated by
one place each time, so no server is always first after a pause or last in a warm
machine), three cases, each on a server process of its own:

* sequential requests over one keep-alive ``http.client`` connection;
* ``wrk -t1 -c2 --latency`` and ``wrk -t1 -c16 --latency``, with the server process's
  CPU time (``/proc/<pid>/stat``, user + system, all threads) over the wrk run divided
  by the requests wrk reports.

Each goal is a ratio of two servers measured in the same repetition (or of ours to
itself), and is met only if it holds in every repetition.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from procs import cpu_seconds, serving
from report import Goal, Spread, ratios

import clients
from clients import Budget

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
SERVERS = ("ours", "before", "incumbent", "uvicorn", "asyncio", "raw")
LABELS = {
    "ours": "httpdouble",
    "before": "httpdouble before",
    "incumbent": "pytest-httpserver 1.1.5",
    "uvicorn": "uvicorn + httptools + uvloop",
    "asyncio": "asyncio Protocol + httptools",
    "raw": "raw socket, thread per connection",
}
METRICS = {
    "seq_rate": "keep-alive http.client req/s",
    "c2_rate": "wrk -c2 req/s",
    "c2_p50_us": "wrk -c2 p50 us",
    "c2_p99_us": "wrk -c2 p99 us",
    "c2_cpu_us": "wrk -c2 server CPU us/request",
    "c16_rate": "wrk -c16 req/s",
    "c16_p50_us": "wrk -c16 p50 us",
    "c16_p99_us": "wrk -c16 p99 us",
    "c16_cpu_us": "wrk -c16 server CPU us/request",
}


@dataclass(frozen=True)
class Plan:
    """How long each case runs."""

    repetitions: int
    wrk_seconds: int
    sequential: Budget


def commands(
    ours_python: str, incumbent_python: str | None, before_src: str | None = None
) -> dict[str, list[str]]:
    """The command that serves each server; the incumbent only where it is installed, and
    ours from another checkout's ``src`` (``before_src``) beside ours when it is given."""
    serve = str(HERE / "serve.py")
    out = {
        "ours": [ours_python, serve, "ours"],
        "uvicorn": [sys.executable, str(PEERS / "uvicorn_asgi.py")],
        "asyncio": [sys.executable, str(PEERS / "asyncio_httptools.py")],
        "raw": [sys.executable, str(PEERS / "raw_threads.py")],
    }
    if incumbent_python is not None:
        out["incumbent"] = [incumbent_python, serve, "incumbent"]
    if before_src is not None:
        out["before"] = ["env", f"PYTHONPATH={before_src}", ours_python, serve, "ours"]
    return out


def _wrk_case(command: list[str], name: str, seconds: int, connections: int) -> dict[str, Any]:
    with serving(command, name=name) as served:
        clients.warm_up(served.port)
        before = cpu_seconds(served.pid)
        result = clients.measure_wrk(served.port, seconds, connections)
        after = cpu_seconds(served.pid)
    cpu = None
    if before is not None and after is not None and result["requests"]:
        cpu = (after - before) / result["requests"] * 1e6
    result["cpu_us"] = cpu
    result["loop"] = served.info.get("loop")
    return result


def run(
    plan: Plan, servers: dict[str, list[str]], note: Callable[[str], None]
) -> dict[str, dict[str, list[float | None]]]:
    """Measure every server ``plan.repetitions`` times; return metric lists per server."""
    use_wrk = clients.wrk_available()
    if not use_wrk:
        note("wrk is not installed: the wrk cases are skipped (apt-get install wrk)")
    names = [s for s in SERVERS if s in servers]
    data: dict[str, dict[str, list[float | None]]] = {
        s: {m: [None] * plan.repetitions for m in METRICS} for s in names
    }
    for rep in range(plan.repetitions):
        shift = rep % len(names)
        order = names[shift:] + names[:shift]
        print(f"  repetition {rep + 1}/{plan.repetitions}: {', '.join(order)}", flush=True)
        for server in order:
            command = servers[server]
            row = data[server]
            with serving(command, name=server) as served:
                sample = clients.measure_http_client(served.port, plan.sequential, keep_alive=True)
            row["seq_rate"][rep] = sample.rate
            if not use_wrk:
                continue
            for connections in (2, 16):
                got = _wrk_case(command, server, plan.wrk_seconds, connections)
                if got["errors"]:
                    note(f"{server}, wrk -c{connections}, rep {rep + 1}: {got['errors']}")
                if server == "uvicorn" and got["loop"] != "uvloop" and rep == 0:
                    note(f"uvicorn ran on {got['loop']}: uvloop is not installed here")
                key = f"c{connections}"
                row[f"{key}_rate"][rep] = got["rate"]
                row[f"{key}_p50_us"][rep] = got["p50_us"]
                row[f"{key}_p99_us"][rep] = got["p99_us"]
                row[f"{key}_cpu_us"][rep] = got["cpu_us"]
            print(
                f"    {server:<10} keep-alive {sample.rate:>8.0f} req/s"
                f"   -c2 {row['c2_rate'][rep]:>8.0f} req/s {row['c2_cpu_us'][rep] or 0:>6.1f} us"
                f"   -c16 {row['c16_rate'][rep]:>8.0f} req/s p99 {row['c16_p99_us'][rep]:>7.0f} us"
                f" {row['c16_cpu_us'][rep] or 0:>6.1f} us CPU",
                flush=True,
            )
    return data


def spreads(data: dict[str, dict[str, list[float | None]]]) -> list[tuple[str, dict[str, Spread]]]:
    """Rows for ``report.spread_table``: one per metric, a spread per server."""
    return [(label, {s: Spread(tuple(data[s][m])) for s in data}) for m, label in METRICS.items()]


def goals(data: dict[str, dict[str, list[float | None]]]) -> list[Goal]:
    """The goals of issue 15 that these cases measure, each per repetition."""

    def of(server: str, metric: str) -> list[float | None]:
        if server not in data:
            return [None] * len(next(iter(data.values()))[metric])
        return data[server][metric]

    ours = data["ours"]

    def versus(metric: str, other: str, text: str, op: str, bound: float) -> Goal:
        return Goal(text, ratios(ours[metric], of(other, metric)), op, bound)

    return [
        versus("c2_rate", "raw", "wrk -c2 req/s, ours / raw responder", ">=", 0.7),
        versus("c2_rate", "uvicorn", "wrk -c2 req/s, ours / uvicorn", ">=", 3.0),
        Goal("wrk -c2 server CPU/request, ours", Spread(tuple(ours["c2_cpu_us"])), "<=", 35, "us"),
        versus("c16_rate", "asyncio", "wrk -c16 req/s, ours / asyncio+httptools", ">=", 0.5),
        versus("c16_p99_us", "asyncio", "wrk -c16 p99, ours / asyncio+httptools", "<=", 2.0),
        Goal(
            "server CPU a request, ours: -c16 / -c2",
            ratios(ours["c16_cpu_us"], ours["c2_cpu_us"]),
            "<=",
            1.1,
        ),
        versus("seq_rate", "raw", "keep-alive req/s, ours / raw responder", ">=", 0.9),
        versus("seq_rate", "incumbent", "keep-alive req/s, ours / incumbent", ">=", 4.0),
    ]
