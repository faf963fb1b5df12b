"""What a worker (or the single process) sends to the report, as plain builtins.

Worker-side only: per test, :func:`per_test_data`; per session, :func:`session_data`. The
controller's side, which merges and renders them, is :mod:`.report`. Only builtins cross the
process boundary (xdist's execnet carries nothing else).
"""

from __future__ import annotations

import functools
import json
import os
import socket
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._log.request_log import LogEntry
    from .findings import Finding

REQUEST_LINES_PER_TEST = 50


def _request_line(entry: LogEntry) -> str:
    if entry.request is None:
        return f"(malformed) -> {entry.response.status_code}"
    from .._matching.masking import query as masked_query
    from .._wire.origin import origin_of
    from .request_summary import printable

    req = entry.request
    query = masked_query(req.query_string.decode("latin-1"))
    target = origin_of(req.environ) + req.path + (f"?{query}" if query else "")
    return printable(
        f"{req.method} {target} -> {entry.response.status_code} ({entry.outcome.value})",
        one_line=True,
    )


@functools.cache
def _host() -> str:
    # Asked once per process rather than at every test's teardown (a system call each).
    return socket.gethostname()


def per_test_data(
    *,
    nodeid: str,
    worker: str,
    url: str,
    findings: Iterable[Finding],
    requests: int,
    entries: Sequence[LogEntry] = (),
    checked: bool = False,
    ports: str = "",
    portserver: str = "",
    span: tuple[float, float] | None = None,
    exchanges: bool = False,
    hosts: dict[str, list[int]] | None = None,
) -> dict[str, Any]:
    """Return what one test sends to the controller, as plain builtins.

    ``entries`` (the test's log, for ``--httpserver-report=all`` and the HTML report) may
    be empty: ``requests`` is the count either way. ``checked``: the findings failed the
    test (at teardown, or shown inside its failed call), so pytest shows them in full and
    the report gives them one line.
    The host name and ``ports`` (how this process chose ports) travel with every test,
    so the report names the machine of a worker that crashes before its session ends.
    ``span``: when the test got its server and gave it back (seconds since the epoch).
    ``exchanges``: also send each request and response (bounded, masked; the HTML report).
    ``hosts``: ``{host: [requests, unmatched]}`` of the requests meant for other hosts.
    """
    lines = [_request_line(e) for e in entries[:REQUEST_LINES_PER_TEST]] if entries else []
    data = {
        "nodeid": nodeid,
        "worker": worker,
        "url": url,
        "requests": requests,
        "request_lines": lines,
        "findings": [f.to_builtins() for f in findings] if findings else [],
        "checked": checked,
        "host": _host(),
        "ports": ports,
        "portserver": portserver,
        "start": None if span is None else span[0],
        "stop": None if span is None else span[1],
        "hosts": dict(hosts) if hosts else {},
    }
    if exchanges:
        from .exchanges import EXCHANGES_PER_TEST, exchanges_data

        # One JSON text rather than a tree of small dicts: execnet carries it ten times faster.
        data["exchanges"] = json.dumps(exchanges_data(entries[:EXCHANGES_PER_TEST]))
    return data


def clean_test_data(
    nodeid: str,
    requests: int,
    start: float,
    stop: float,
    worker: str,
    url: str,
    ports: str,
    portserver: str,
) -> dict[str, Any]:
    """Return :func:`per_test_data` of a test with no findings, no requests to other hosts,
    and no request lines or exchanges to send (the report keeps counts only).

    What every test without a problem sends: one dict made in one step, without the
    keyword call and the checks of the general case (issue 27: this runs at every teardown).
    """
    return {
        "nodeid": nodeid,
        "worker": worker,
        "url": url,
        "requests": requests,
        "request_lines": [],
        "findings": [],
        "checked": False,
        "host": _host(),
        "ports": ports,
        "portserver": portserver,
        "start": start,
        "stop": stop,
        "hosts": {},
    }


def exchanges_of(data: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Return the requests of a :func:`per_test_data` dict, or ``None`` if it has none."""
    packed = data.get("exchanges")
    if packed is None:
        return None
    exchanges: list[dict[str, Any]] = json.loads(packed)
    return exchanges


def session_data(
    *,
    worker: str,
    url: str,
    requests: int,
    tests: int,
    outside: Iterable[Finding],
    ports: str,
    portserver: str,
) -> dict[str, Any]:
    """Return what a worker sends at the end of its session, as plain builtins.

    ``ports`` says how the process chose ports (see :mod:`httpdouble._pytest.xdist`),
    ``portserver`` the address it asked, if any; the host name and pid are this process's own.
    """
    return {
        "worker": worker,
        "host": _host(),
        "pid": os.getpid(),
        "url": url,
        "requests": requests,
        "tests": tests,
        "outside": [f.to_builtins() for f in outside],
        "ports": ports,
        "portserver": portserver,
    }
