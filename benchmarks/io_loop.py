"""The I/O loop under load (issue 22): memory per request, throughput, fairness, stop().

    python benchmarks/io_loop.py all [--incumbent-python PATH] [--before-src PATH]
                                     [--repeat N] [--json PATH]
    python benchmarks/io_loop.py memory|throughput|flood|stop [--server ours|incumbent] ...

Every case runs in a fresh server process; its clients are other processes (``python -c``
with ``http.client`` or raw sockets), so the server's memory and CPU are its own.

``memory``: a static reply of B bytes (``respond_with_data``), one warm-up request, then
N keep-alive GETs read whole; the server process's resident memory (``VmRSS``) after a
``gc.collect()``, before and after the N requests. ``MALLOC_MMAP_THRESHOLD_`` is fixed so
that glibc returns freed big blocks at once (its sliding threshold otherwise keeps some).
``slow``: 50 clients ask for an 8 MiB static reply (after its first use) and read none of
it for a second (a 4 KiB receive buffer each): the server's memory growth.
``throughput``: sequential keep-alive GETs of a two-byte static reply over one connection;
``wrk``: the same with ``wrk`` (3 seconds, one thread, ``--count`` connections), if installed.
``flood``: two clients pipeline 1,000 GETs at a time on one connection each, while a
probe client sends one GET every 5 ms on its own connection: the probe's latency.
``stop``: ``stop()`` during the flood with 200 idle keep-alive connections open, and
again with a handler function busy (sleeping) on a connection thread.

``--server incumbent`` runs pytest-httpserver (give the python of a virtualenv that has
it); ``--before-src`` points ``PYTHONPATH`` at another checkout's ``src`` to measure it
("before"). Only 127.0.0.1 is contacted; every loop is bounded in count and in time.
This is a measurement, not a test: nothing here fails on a number.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

HOST = "127.0.0.1"
BUDGET = 60.0  # seconds any one client loop may take

_GETS = """
import http.client, sys, time
port, path, count, budget = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
done = 0
start = time.perf_counter()
while done < count and time.perf_counter() - start < budget:
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    done += 1
print(done, time.perf_counter() - start)
"""

_FLOOD = """
import socket, sys, time
port, batch, budget = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
sock = socket.create_connection(("127.0.0.1", port), timeout=30)
request = b"GET /flood HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n" * batch
start = time.perf_counter()
rounds = 0
while time.perf_counter() - start < budget:
    sock.sendall(request)
    seen = 0
    tail = b""
    while seen < batch:
        data = sock.recv(1 << 20)
        if not data:
            sys.exit(0)
        seen += (tail + data).count(b"HTTP/1.1 200")
        tail = data[-12:]
    rounds += 1
print(rounds)
"""

_PROBE = """
import http.client, json, sys, time
port, count, budget = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
times = []
start = time.perf_counter()
while len(times) < count and time.perf_counter() - start < budget:
    began = time.perf_counter()
    conn.request("GET", "/probe")
    conn.getresponse().read()
    times.append(time.perf_counter() - began)
    time.sleep(0.005)
print(json.dumps(times))
"""


def _rss() -> int:
    """Resident memory of this process, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _server(kind: str) -> Any:
    if kind == "incumbent":
        import logging

        from pytest_httpserver import HTTPServer as Incumbent

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server: Any = Incumbent(host=HOST, port=0)
    else:
        from httpdouble import HTTPServer

        server = HTTPServer(host=HOST, port=0)
    server.start()
    return server


def _client(code: str, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)], stdout=subprocess.PIPE, text=True
    )


def _output(proc: subprocess.Popen[str]) -> str:
    out, _ = proc.communicate(timeout=BUDGET + 30)
    return out


def memory(kind: str, size: int, count: int) -> dict[str, Any]:
    server = _server(kind)
    server.expect_request("/big").respond_with_data(b"x" * size)
    _output(_client(_GETS, server.port, "/big", 1, BUDGET))  # the first use
    gc.collect()
    before = _rss()
    done = _output(_client(_GETS, server.port, "/big", count, BUDGET)).split()[0]
    gc.collect()
    after = _rss()
    logged = len(server.log)
    server.stop()
    return {
        "case": "memory",
        "server": kind,
        "body_bytes": size,
        "requests": int(done),
        "logged": logged,
        "rss_growth_mb": round((after - before) / 2**20, 1),
    }


def slow_readers(kind: str, size: int, count: int) -> dict[str, Any]:
    """``count`` clients ask for the B-byte reply and read none of it for a second."""
    import socket

    server = _server(kind)
    server.expect_request("/big").respond_with_data(b"x" * size)
    _output(_client(_GETS, server.port, "/big", 2, BUDGET))  # first use, then cached
    gc.collect()
    before = _rss()
    readers = []
    for _ in range(count):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((HOST, server.port))
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        readers.append(sock)
    time.sleep(1.0)
    gc.collect()
    after = _rss()
    for sock in readers:
        sock.close()
    server.stop()
    return {
        "case": "slow",
        "server": kind,
        "body_bytes": size,
        "readers": count,
        "rss_growth_mb": round((after - before) / 2**20, 1),
    }


def throughput(kind: str, count: int) -> dict[str, Any]:
    server = _server(kind)
    server.expect_request("/ok").respond_with_data("ok")
    _output(_client(_GETS, server.port, "/ok", 200, BUDGET))  # warm
    cpu = _cpu()
    done, seconds = _output(_client(_GETS, server.port, "/ok", count, BUDGET)).split()
    cpu = _cpu() - cpu
    server.stop()
    return {
        "case": "throughput",
        "server": kind,
        "requests": int(done),
        "per_second": round(int(done) / float(seconds)),
        "server_cpu_us": round(cpu / int(done) * 1e6, 1),
    }


def _cpu() -> float:
    """CPU seconds this (server) process used: steadier than wall time on a busy machine."""
    times = os.times()
    return times.user + times.system


def throughput_wrk(kind: str, connections: int) -> dict[str, Any]:
    """``wrk`` (3 seconds, one thread) against the static path, keep-alive."""
    server = _server(kind)
    server.expect_request("/ok").respond_with_data("ok")
    url = f"http://{HOST}:{server.port}/ok"
    subprocess.run(["wrk", "-t1", "-c1", "-d1s", url], capture_output=True, timeout=30)  # warm
    cpu, logged = _cpu(), len(server.log)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", "-d3s", url],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    cpu, logged = _cpu() - cpu, len(server.log) - logged
    server.stop()
    rate = next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec"))
    return {
        "case": "wrk",
        "server": kind,
        "connections": connections,
        "per_second": round(float(rate)),
        "server_cpu_us": round(cpu / max(logged, 1) * 1e6, 1),
    }


def _flooded(kind: str, seconds: float) -> tuple[Any, list[subprocess.Popen[str]]]:
    server = _server(kind)
    server.expect_request("/flood").respond_with_data("f")
    server.expect_request("/probe").respond_with_data("p")
    floods = [_client(_FLOOD, server.port, 1000, seconds) for _ in range(2)]
    time.sleep(0.3)  # the floods are under way
    return server, floods


def flood(kind: str, probes: int) -> dict[str, Any]:
    idle = _probe_latency(kind, probes, flooded=False)
    under = _probe_latency(kind, probes, flooded=True)
    return {"case": "flood", "server": kind, "idle": idle, "flood": under}


def _probe_latency(kind: str, probes: int, flooded: bool) -> dict[str, float]:
    if flooded:
        server, floods = _flooded(kind, 0.3 + probes * 0.02 + 5)
    else:
        server = _server(kind)
        server.expect_request("/probe").respond_with_data("p")
        floods = []
    times = json.loads(_output(_client(_PROBE, server.port, probes, BUDGET)))
    for proc in floods:
        proc.kill()
        proc.communicate(timeout=30)
    server.stop()
    times.sort()
    return {
        "probes": len(times),
        "median_ms": round(statistics.median(times) * 1000, 2),
        "p99_ms": round(times[int(len(times) * 0.99) - 1] * 1000, 2),
        "max_ms": round(times[-1] * 1000, 2),
    }


def stop_time(kind: str, busy: bool) -> dict[str, Any]:
    import socket

    server, floods = _flooded(kind, 10)
    idle = [socket.create_connection((HOST, server.port), timeout=30) for _ in range(200)]
    for sock in idle:  # each one served once, then left open (keep-alive)
        sock.sendall(b"GET /probe HTTP/1.1\r\nHost: x\r\n\r\n")
    for sock in idle:
        sock.recv(4096)
    caller = None
    if busy:
        server.expect_request("/busy").respond_with_handler(_sleepy)
        caller = _client(_GETS, server.port, "/busy", 1, 10)
        time.sleep(0.3)  # the handler is sleeping now
    time.sleep(0.2)
    began = time.perf_counter()
    server.stop()
    took = time.perf_counter() - began
    for sock in idle:
        sock.close()
    for proc in [*floods, *([caller] if caller else [])]:
        proc.kill()
        proc.communicate(timeout=30)
    return {"case": "stop", "server": kind, "busy_handler": busy, "ms": round(took * 1000, 1)}


def _sleepy(request: Any) -> Any:
    from werkzeug.wrappers import Response

    threading.Event().wait(5)
    return Response("late")


def _run_case(args: list[str], python: str, before_src: str | None) -> dict[str, Any]:
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072")
    if before_src:
        env["PYTHONPATH"] = before_src
    out = subprocess.run(
        [python, __file__, *args], env=env, capture_output=True, text=True, timeout=600
    )
    if out.returncode:
        raise SystemExit(f"{args} failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run_all(options: argparse.Namespace) -> None:
    ours = sys.executable
    variants = [("after", ours, None, "ours")]
    if options.before_src:
        variants.append(("before", ours, options.before_src, "ours"))
    results: list[dict[str, Any]] = []

    def case(args: list[str]) -> None:
        for label, python, src, kind in variants:
            result = _run_case([*args, "--server", kind], python, src)
            result["build"] = label
            results.append(result)
            print(json.dumps(result), flush=True)

    for size in (1 << 20, 8 << 20):
        for count in (10, 60):
            case(["memory", "--size", str(size), "--count", str(count)])
            if options.incumbent_python:
                args = ["memory", "--size", str(size), "--count", str(count)]
                incumbent = options.incumbent_python
                result = _run_case([*args, "--server", "incumbent"], incumbent, None)
                result["build"] = "incumbent"
                results.append(result)
                print(json.dumps(result), flush=True)
    slow = ["slow", "--size", str(8 << 20), "--count", "50"]
    case(slow)
    if options.incumbent_python:
        result = _run_case([*slow, "--server", "incumbent"], options.incumbent_python, None)
        result["build"] = "incumbent"
        results.append(result)
        print(json.dumps(result), flush=True)
    for _ in range(options.repeat):
        case(["throughput", "--count", "5000"])
        if shutil.which("wrk"):
            case(["wrk", "--count", "1"])
            case(["wrk", "--count", "8"])
        case(["flood", "--count", "200"])
    for busy in ("", "--busy"):
        for _ in range(options.repeat):
            case(["stop", *([busy] if busy else [])])
    if options.json:
        with open(options.json, "w") as out:
            json.dump(results, out, indent=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "case", choices=["all", "memory", "slow", "throughput", "wrk", "flood", "stop"]
    )
    parser.add_argument("--server", choices=["ours", "incumbent"], default="ours")
    parser.add_argument("--size", type=int, default=1 << 20)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--busy", action="store_true")
    parser.add_argument("--incumbent-python")
    parser.add_argument("--before-src")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json")
    options = parser.parse_args()
    if options.case == "all":
        run_all(options)
        return
    if options.case == "memory":
        result = memory(options.server, options.size, options.count)
    elif options.case == "slow":
        result = slow_readers(options.server, options.size, options.count)
    elif options.case == "throughput":
        result = throughput(options.server, options.count)
    elif options.case == "wrk":
        result = throughput_wrk(options.server, options.count)
    elif options.case == "flood":
        result = flood(options.server, options.count)
    else:
        result = stop_time(options.server, options.busy)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
