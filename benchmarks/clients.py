"""Client loops for the benchmark driver: each one bounded in count and in time.

Every loop returns the per-round request rates and the per-request latencies;
the driver reports medians. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import shutil
import ssl
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HOST = "127.0.0.1"
PATH = "/bench"
WARMUP = 20


@dataclass
class Budget:
    """How much each measurement may take."""

    rounds: int
    seconds: float  # per round
    max_requests: int  # per round

    def scaled(self, factor: float) -> Budget:
        return Budget(self.rounds, self.seconds * factor, int(self.max_requests * factor))


@dataclass
class Sample:
    """Rates of each round and latencies of each request."""

    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return statistics.median(self.rates) if self.rates else 0.0

    @property
    def latency_us(self) -> float:
        return statistics.median(self.latencies) * 1e6 if self.latencies else 0.0


Request = Callable[[], None]


def _rounds(make: Callable[[], tuple[Request, Callable[[], None]]], budget: Budget) -> Sample:
    """Run ``budget.rounds`` rounds of one client; ``make`` returns (request, close)."""
    sample = Sample()
    request, close = make()
    try:
        for _ in range(WARMUP):
            request()
        clock = time.perf_counter
        for _ in range(budget.rounds):
            latencies: list[float] = []
            began = clock()
            deadline = began + budget.seconds
            for _ in range(budget.max_requests):
                before = clock()
                request()
                after = clock()
                latencies.append(after - before)
                if after > deadline:
                    break
            sample.rates.append(len(latencies) / (clock() - began))
            sample.latencies.extend(latencies)
    finally:
        close()
    return sample


def _check(status: int, body: bytes) -> None:
    if status != 200 or body != b"ok":
        raise RuntimeError(f"unexpected answer {status} {body[:80]!r}")


def warm_up(port: int, count: int = WARMUP) -> None:
    """Send ``count`` requests over one keep-alive connection, checking each answer."""
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        for _ in range(count):
            conn.request("GET", PATH)
            response = conn.getresponse()
            _check(response.status, response.read())
    finally:
        conn.close()


def measure_http_client(
    port: int, budget: Budget, *, keep_alive: bool, tls: ssl.SSLContext | None = None
) -> Sample:
    def make() -> tuple[Request, Callable[[], None]]:
        conn: http.client.HTTPConnection
        if tls is not None:
            conn = http.client.HTTPSConnection(HOST, port, timeout=10, context=tls)
        else:
            conn = http.client.HTTPConnection(HOST, port, timeout=10)
        headers = {} if keep_alive else {"Connection": "close"}

        def request() -> None:
            conn.request("GET", PATH, headers=headers)
            response = conn.getresponse()
            _check(response.status, response.read())
            if not keep_alive:
                conn.close()

        return request, conn.close

    return _rounds(make, budget)


def measure_requests(port: int, budget: Budget, *, keep_alive: bool) -> Sample:
    import requests

    url = f"http://{HOST}:{port}{PATH}"

    def make() -> tuple[Request, Callable[[], None]]:
        session = requests.Session()
        headers = {} if keep_alive else {"Connection": "close"}

        def request() -> None:
            with session.get(url, headers=headers, timeout=10) as response:
                _check(response.status_code, response.content)

        return request, session.close

    return _rounds(make, budget)


def measure_httpx(port: int, budget: Budget, *, keep_alive: bool) -> Sample:
    import httpx

    url = f"http://{HOST}:{port}{PATH}"

    def make() -> tuple[Request, Callable[[], None]]:
        client = httpx.Client(timeout=10)
        headers = {} if keep_alive else {"Connection": "close"}

        def request() -> None:
            response = client.get(url, headers=headers)
            _check(response.status_code, response.content)

        return request, client.close

    return _rounds(make, budget)


def _concurrent_worker(
    port: int,
    requests: int,
    barrier: threading.Barrier,
    deadline: list[float],
    counts: list[int],
    slot: int,
    errors: list[BaseException],
) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", PATH)  # Connected and warm before the clock starts.
        response = conn.getresponse()
        _check(response.status, response.read())
        barrier.wait()
        for _ in range(requests):
            conn.request("GET", PATH)
            response = conn.getresponse()
            _check(response.status, response.read())
            counts[slot] += 1
            if time.perf_counter() > deadline[0]:
                break
    except BaseException as exc:
        errors.append(exc)
        barrier.abort()
    finally:
        conn.close()


def measure_concurrent(port: int, budget: Budget, threads: int = 8) -> Sample:
    """``threads`` client threads, one keep-alive http.client connection each."""
    sample = Sample()
    for _ in range(budget.rounds):
        counts = [0] * threads
        errors: list[BaseException] = []
        barrier = threading.Barrier(threads + 1)
        deadline = [0.0]
        per_thread = budget.max_requests // threads + 1
        workers = [
            threading.Thread(
                target=_concurrent_worker,
                args=(port, per_thread, barrier, deadline, counts, i, errors),
            )
            for i in range(threads)
        ]
        for thread in workers:
            thread.start()
        deadline[0] = time.perf_counter() + 60  # Set for real once all are connected.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=30)
        began = time.perf_counter()
        deadline[0] = began + budget.seconds
        for thread in workers:
            thread.join(budget.seconds + 30)
        if errors:
            raise errors[0]
        sample.rates.append(sum(counts) / (time.perf_counter() - began))
    return sample


# ---------------------------------------------------------------------- wrk

_WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_COUNT = re.compile(r"(\d+) requests in ")
_WRK_ERRORS = re.compile(r"Socket errors: (.*)|Non-2xx or 3xx responses: (\d+)")
_WRK_PCT = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT = {"us": 1.0, "ms": 1e3, "s": 1e6}


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def measure_wrk(port: int, seconds: float, connections: int = 2) -> dict[str, Any]:
    """req/s, requests, p50 and p99 (microseconds) from one wrk run of ``seconds``.

    One wrk thread (``-t1``) whatever the connections: on two cores a second client
    thread would take the core the server needs.
    """
    duration = max(1, round(seconds))
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "5s",
            "--latency",
            f"http://{HOST}:{port}{PATH}",
        ],
        capture_output=True,
        text=True,
        timeout=duration + 30,
        check=True,
    ).stdout
    rate = _WRK_RATE.search(out)
    count = _WRK_COUNT.search(out)
    pcts = {p: float(v) * _UNIT[u] for p, v, u in _WRK_PCT.findall(out)}
    if rate is None or count is None or "50" not in pcts or "99" not in pcts:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    return {
        "rate": float(rate.group(1)),
        "requests": int(count.group(1)),
        "errors": [m.group(0) for m in _WRK_ERRORS.finditer(out)],
        "p50_us": pcts["50"],
        "p99_us": pcts["99"],
        "output": out,
    }
