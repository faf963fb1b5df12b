"""Reading the request log while it grows: ``server.log[-1]`` after every request.

    python benchmarks/log_reads.py [--sizes 1000,2000,...] [--server ours|incumbent]
                                   [--entries N] [--budget SECONDS] [--memory-requests N]
                                   [--json PATH]

For each size N a fresh server gets N requests over one keep-alive ``http.client``
connection, and the client reads ``server.log[-1]`` after each one. If reading the log
costs what is new, the time per request stays flat as N grows; if it costs what is old,
it grows with N. Before that, a log of ``--entries`` requests nobody reads (100,000 by
default): how long a full garbage collection (``gc.collect()``, median of 5) takes with
an empty log, with that log, and once every entry has been read, how long a full read of
the log takes per entry (and in its best block of 500 entries: the read when no other
process took the core), and ``get_matching_requests_count`` over that log (the first
count, which decodes every entry, and a second one). Then, with ``tracemalloc``, the
memory one logged request keeps while nobody reads the log, and after one full read of it.

``--server incumbent`` runs the same loop on pytest-httpserver (run this file with the
python of a virtualenv that has it; ``httpdouble`` is then not imported). Only 127.0.0.1 is
contacted; each size stops early, and says so, once it has taken ``--budget`` seconds.
This is a measurement, not a test: nothing here fails on a number.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import logging
import statistics
import time
import tracemalloc
from typing import Any

HOST = "127.0.0.1"
PATH = "/log"
# The first full read is also timed by blocks of this many entries: the best block is what
# a read costs when no other process takes the core meanwhile.
BLOCK = 500


RequestMatcher: Any = None


def make_server(kind: str) -> Any:
    """Return a started server with one permanent handler on ``PATH``."""
    global RequestMatcher
    if kind == "incumbent":
        from pytest_httpserver import HTTPServer as Incumbent
        from pytest_httpserver import RequestMatcher

        # werkzeug's request lines on stderr would be timed too: ours prints none
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

        server: Any = Incumbent(host=HOST, port=0)
    else:
        from httpdouble import HTTPServer, RequestMatcher

        server = HTTPServer(host=HOST, port=0)
    server.expect_request(PATH).respond_with_data("ok")
    server.start()
    return server


def send(conn: http.client.HTTPConnection, index: int) -> None:
    conn.request("GET", f"{PATH}?i={index}")
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"request {index}: status {response.status}")


def read_after_each(kind: str, count: int, budget: float, read: bool) -> tuple[int, float, float]:
    """Send up to ``count`` requests, reading ``log[-1]`` after each.

    Return how many were sent, the seconds of the whole loop and of the reads alone.
    """
    server = make_server(kind)
    conn = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        sent = 0
        reading = 0.0
        start = time.perf_counter()
        deadline = start + budget
        while sent < count:
            send(conn, sent)
            if read:
                begin = time.perf_counter()
                request, _ = server.log[-1]
                reading += time.perf_counter() - begin
                if request.args["i"] != str(sent):
                    raise RuntimeError(f"log[-1] is not request {sent}")
            sent += 1
            if sent % 100 == 0 and time.perf_counter() > deadline:
                break
        seconds = time.perf_counter() - start
        return sent, seconds, reading
    finally:
        conn.close()
        server.stop()


def full_collection_ms(times: int = 5) -> float:
    """Median milliseconds of ``times`` full (generation 2) garbage collections."""
    spent = []
    for _ in range(times):
        began = time.perf_counter()
        gc.collect()
        spent.append(time.perf_counter() - began)
    return statistics.median(spent) * 1e3


def collections_and_full_reads(kind: str, count: int, budget: float) -> dict[str, Any]:
    """Log ``count`` requests unread; time full collections and two full reads of the log."""
    server = make_server(kind)
    conn = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        for index in range(50):  # connection, thread and handler state exist before timing
            send(conn, index)
        server.clear_log()
        empty = full_collection_ms()
        sent = 0
        start = time.perf_counter()
        deadline = start + budget
        while sent < count:
            send(conn, sent)
            sent += 1
            if sent % 100 == 0 and time.perf_counter() > deadline:
                break
        seconds = time.perf_counter() - start
        logged = full_collection_ms()
        counts = []
        one = RequestMatcher(PATH, query_string="i=5")
        for _ in range(2):
            begin = time.perf_counter()
            found = server.get_matching_requests_count(one)
            counts.append(time.perf_counter() - begin)
            if found != 1:
                raise RuntimeError(f"get_matching_requests_count found {found}, not 1")
        server.clear_log()  # the count decoded the log: log it again for the reads
        for index in range(sent):
            send(conn, index)
        reads = []
        blocks: list[float] = []  # the first read, by blocks of BLOCK entries
        for _ in range(2):
            begin = block_began = time.perf_counter()
            for number, (request, _) in enumerate(server.log, 1):
                request.path  # noqa: B018 - what a reader of the log touches
                if number % BLOCK == 0 and not reads:
                    now = time.perf_counter()
                    blocks.append((now - block_began) / BLOCK * 1e6)
                    block_began = now
            reads.append((time.perf_counter() - begin) / sent * 1e6)
        after_read = full_collection_ms()
        return {
            "sent": sent,
            "us_per_request": seconds / sent * 1e6,
            "gc_ms_empty_log": empty,
            "gc_ms_logged": logged,
            "gc_ms_after_full_read": after_read,
            "full_read_us_per_entry": reads[0],
            "second_full_read_us_per_entry": reads[1],
            "best_block_read_us_per_entry": min(blocks),
            "count_s": counts[0],
            "second_count_s": counts[1],
        }
    finally:
        conn.close()
        server.stop()


def memory(kind: str, count: int) -> tuple[float, float, float]:
    """Return bytes kept per logged request unread, after one full read, and the read's seconds."""
    server = make_server(kind)
    conn = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        for index in range(50):  # connection, thread and handler state exist before tracing
            send(conn, index)
        server.clear_log()
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        for index in range(count):
            send(conn, index)
        gc.collect()
        unread = tracemalloc.get_traced_memory()[0] - base
        start = time.perf_counter()
        for request, _ in server.log:
            request.args  # noqa: B018 - what a reader of the log touches
        seconds = time.perf_counter() - start
        gc.collect()
        read = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        return unread / count, read / count, seconds
    finally:
        conn.close()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("ours", "incumbent"), default="ours")
    parser.add_argument("--sizes", default="1000,2000,5000,10000,20000")
    parser.add_argument("--entries", type=int, default=100_000, help="0: skip")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds per size at most")
    parser.add_argument("--memory-requests", type=int, default=5000)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    out: dict[str, Any] = {"server": args.server, "reads": []}

    if args.entries:
        got = collections_and_full_reads(args.server, args.entries, args.budget)
        out["entries"] = got
        note = "" if got["sent"] == args.entries else f" (stopped at {got['sent']}: budget)"
        print(
            f"{args.server}: {got['sent']} requests, nobody reading the log{note}:"
            f" {got['us_per_request']:.0f} us/request\n"
            f"  full collection: {got['gc_ms_empty_log']:.2f} ms with an empty log,"
            f" {got['gc_ms_logged']:.2f} ms with this one,"
            f" {got['gc_ms_after_full_read']:.2f} ms once every entry was read\n"
            f"  a full read of the log: {got['full_read_us_per_entry']:.2f} us/entry,"
            f" a second one: {got['second_full_read_us_per_entry']:.2f} us/entry,"
            f" best block of {BLOCK}: {got['best_block_read_us_per_entry']:.2f} us/entry\n"
            f"  get_matching_requests_count: {got['count_s'] * 1e3:.1f} ms,"
            f" a second one: {got['second_count_s'] * 1e3:.1f} ms",
            flush=True,
        )
    if sizes:
        print("log[-1] read after each request; the last column is the read alone")
        print(f"{'N':>7} {'seconds':>9} {'us/request':>11} {'us/read':>9}")
    for count in sizes:
        sent, seconds, reading = read_after_each(args.server, count, args.budget, read=True)
        note = "" if sent == count else f"  (stopped at {sent}: budget of {args.budget:.0f} s)"
        print(
            f"{count:>7} {seconds:>9.2f} {seconds / sent * 1e6:>11.0f}"
            f" {reading / sent * 1e6:>9.1f}{note}",
            flush=True,
        )
        out["reads"].append(
            {
                "size": count,
                "sent": sent,
                "seconds": seconds,
                "us_per_request": seconds / sent * 1e6,
                "us_per_read": reading / sent * 1e6,
            }
        )
    if args.memory_requests:
        count = args.memory_requests
        unread, read, seconds = memory(args.server, count)
        out["memory"] = {
            "requests": count,
            "bytes_unread": unread,
            "bytes_read": read,
            "read_us_per_entry": seconds / count * 1e6,
        }
        print(
            f"memory per logged request ({count} requests, tracemalloc):"
            f" {unread:.0f} B unread, {read:.0f} B after one full read"
            f" (the read took {seconds:.2f} s, {seconds / count * 1e6:.0f} us/entry)"
        )
    if args.json:
        with open(args.json, "w") as stream:
            json.dump(out, stream, indent=2)


if __name__ == "__main__":
    main()
