"""Where the I/O loop's CPU goes on the static path: its thread profiled under wrk.

    cd benchmarks && python profile_loop.py [--seconds 3] [--connections 2] [--top 25]
                                      [--no-profile] [--pipeline N] [--repeat R]

Starts :class:`httpdouble.HTTPServer` in this process with the handler ``serve.py``
registers (``GET /bench`` answering ``ok``), runs the I/O loop's thread under
``cProfile`` (or bare, with ``--no-profile``), drives it with one ``wrk -t1`` run of
``--seconds`` on 127.0.0.1 (or, with ``--pipeline N``, one connection that sends ``N``
requests at a time and reads their ``N`` answers, for ``--seconds``: the loop then meets
the same batches whatever the machine's load, so its CPU per request is steadier than
under wrk, whose batches follow the scheduler), and prints the loop thread's own CPU time
per request
(``time.thread_time`` inside the thread: the client and the other threads are not in it)
and, profiled, the functions that took the most of it. The profiler slows every call
down: its shares say where the time goes, the bare run says how much there is.
This is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import socket
import time
from typing import Any

import clients
from httpdouble import HTTPServer
from httpdouble._server import loop as loop_module


def pipelined(port: int, depth: int, seconds: float) -> int:
    """Send ``depth`` requests at a time on one connection until ``seconds`` have passed (at
    most a million requests); return how many were answered."""
    request = f"GET {clients.PATH} HTTP/1.1\r\nHost: {clients.HOST}\r\n\r\n".encode()
    answers = 0
    with socket.create_connection((clients.HOST, port), timeout=10) as sock:
        stream = sock.makefile("rb")
        deadline = time.monotonic() + seconds
        while answers < 1_000_000 and time.monotonic() < deadline:
            sock.sendall(request * depth)
            for _ in range(depth):
                length = 0
                while (line := stream.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line[15:])
                if stream.read(length) != b"ok":
                    raise RuntimeError("unexpected answer")
                answers += 1
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--pipeline", type=int, default=0, help="requests a batch (0: wrk)")
    parser.add_argument("--repeat", type=int, default=1, help="runs; the median is printed")
    args = parser.parse_args()
    if args.repeat > 1:
        figures = sorted(once(args) for _ in range(args.repeat))
        print(
            f"median {figures[len(figures) // 2]:.1f} us, range {figures[0]:.1f}-{figures[-1]:.1f}"
        )
        return
    once(args)


def once(args: argparse.Namespace) -> float:
    """One run; return the loop thread's CPU a request (microseconds)."""
    if not args.pipeline and not clients.wrk_available():
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    # CPU time, not wall time: on a shared machine a wall clock charges the waits to whoever
    # was running when the thread lost its core.
    profile = None if args.no_profile else cProfile.Profile(time.thread_time_ns, 1e-9)
    cpu: dict[str, float] = {}
    original = loop_module.IOLoop.run

    def run(self: Any, ready: Any, running: Any) -> None:
        began = time.thread_time()
        try:
            if profile is None:
                original(self, ready, running)
            else:
                profile.runcall(original, self, ready, running)
        finally:
            cpu["loop"] = time.thread_time() - began

    loop_module.IOLoop.run = run  # type: ignore[method-assign]
    server = HTTPServer("127.0.0.1", 0)
    server.expect_request(clients.PATH, method="GET").respond_with_data(b"ok")
    server.start()
    try:
        clients.warm_up(server.port)
        began = time.perf_counter()
        if args.pipeline:
            client = f"pipelined by {args.pipeline}"
            requests = pipelined(server.port, args.pipeline, args.seconds)
        else:
            client = f"wrk -c{args.connections}"
            requests = clients.measure_wrk(server.port, args.seconds, args.connections)["requests"]
        rate = requests / (time.perf_counter() - began)
    finally:
        server.stop()
        loop_module.IOLoop.run = original  # type: ignore[method-assign]
    requests += clients.WARMUP
    us = cpu["loop"] / requests * 1e6
    print(
        f"{client}: {rate:.0f} req/s, {requests} requests;"
        f" loop thread CPU {us:.1f} us a request{' (profiled)' if profile else ''}",
        flush=True,
    )
    if profile is not None:
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(args.top)
    return us


if __name__ == "__main__":
    main()
