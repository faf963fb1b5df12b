"""The end-of-run report: per-test and per-worker data, merged and rendered.

Workers (and the single process) build plain-builtins dicts with
:func:`per_test_data` and :func:`session_data`; the controller (and the single
process, through the same path) feeds them to :class:`Report`, which renders
the terminal section and the JSON file. These functions are the only place
where findings become builtins and back.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ._findings import Finding
from ._log import LogEntry

SCHEMA = 1
REQUEST_LINES_PER_TEST = 50


class ReportMode(enum.Enum):
    """How much the terminal summary shows."""

    NONE = "none"
    PROBLEMS = "problems"
    ALL = "all"


def _request_line(entry: LogEntry) -> str:
    if entry.request is None:
        return f"(malformed) -> {entry.response.status_code}"
    req = entry.request
    query = req.query_string.decode("latin-1")
    target = req.path + (f"?{query}" if query else "")
    return f"{req.method} {target} -> {entry.response.status_code} ({entry.outcome.value})"


def per_test_data(
    *,
    nodeid: str,
    worker: str,
    url: str,
    findings: Iterable[Finding],
    requests: int,
    entries: Iterable[LogEntry] = (),
) -> dict[str, Any]:
    """Return what one test sends to the controller, as plain builtins.

    ``entries`` (the test's log, for ``--httpserver-report=all``) may be empty:
    ``requests`` is the count either way.
    """
    lines = [_request_line(e) for e in list(entries)[:REQUEST_LINES_PER_TEST]]
    return {
        "nodeid": nodeid,
        "worker": worker,
        "url": url,
        "requests": requests,
        "request_lines": lines,
        "findings": [f.to_builtins() for f in findings],
    }


def session_data(
    *,
    worker: str,
    url: str,
    requests: int,
    tests: int,
    outside: Iterable[Finding],
    portserver: str,
) -> dict[str, Any]:
    """Return what a worker sends at the end of its session, as plain builtins."""
    return {
        "worker": worker,
        "url": url,
        "requests": requests,
        "tests": tests,
        "outside": [f.to_builtins() for f in outside],
        "portserver": portserver,
    }


@dataclass
class WorkerRecord:
    """What the report knows of one worker (or of the single process)."""

    worker: str
    url: str = ""
    requests: int = 0
    tests: int = 0
    outside: list[Finding] = field(default_factory=list)
    portserver: str = ""
    finished: bool = False
    crash: str = ""
    crashed_in: str = ""


@dataclass
class TestRecord:
    """One test that used the ``httpserver`` fixture."""

    nodeid: str
    worker: str
    requests: int
    request_lines: list[str]
    findings: list[Finding]


class Report:
    """Everything collected in a run; renders itself as text and as builtins."""

    def __init__(self) -> None:
        self.workers: dict[str, WorkerRecord] = {}
        self.tests: list[TestRecord] = []

    def _worker(self, worker: str) -> WorkerRecord:
        return self.workers.setdefault(worker, WorkerRecord(worker))

    def add_test(self, data: dict[str, Any]) -> None:
        record = TestRecord(
            nodeid=data["nodeid"],
            worker=data["worker"],
            requests=data["requests"],
            request_lines=list(data["request_lines"]),
            findings=[Finding.from_builtins(f) for f in data["findings"]],
        )
        self.tests.append(record)
        worker = self._worker(record.worker)
        worker.url = worker.url or data["url"]
        if not worker.finished:
            worker.tests += 1
            worker.requests += record.requests

    def add_session(self, data: dict[str, Any]) -> None:
        worker = self._worker(data["worker"])
        worker.url = data["url"] or worker.url
        worker.requests = data["requests"]
        worker.tests = data["tests"]
        worker.outside = [Finding.from_builtins(f) for f in data["outside"]]
        worker.portserver = data["portserver"]
        worker.finished = True

    def worker_down(self, worker: str, error: object) -> None:
        """Record a worker that ended without sending its session data."""
        record = self._worker(worker)
        if not record.finished:
            record.crash = str(error or "it sent no session data").strip().splitlines()[-1]

    def worker_crashed_in(self, worker: str, nodeid: str) -> None:
        """Record the test a worker was running when it died."""
        self._worker(worker).crashed_in = nodeid

    # -- queries

    def problems(self) -> list[tuple[str, str, list[Finding]]]:
        """Return ``(where, worker, findings)`` groups with at least one finding."""
        groups = [(t.nodeid, t.worker, t.findings) for t in self.tests if t.findings]
        for record in self.workers.values():
            by_where: dict[str, list[Finding]] = {}
            for finding in record.outside:
                by_where.setdefault(finding.stamp.where(), []).append(finding)
            groups.extend((where, record.worker, found) for where, found in by_where.items())
        return groups

    def problem_count(self) -> int:
        return sum(len(found) for _, _, found in self.problems())

    # -- rendering

    def render(self, mode: ReportMode) -> list[str]:
        """Return the lines of the terminal section (empty for ``ReportMode.NONE``)."""
        if mode is ReportMode.NONE:
            return []
        groups = self.problems()
        requests = sum(w.requests for w in self.workers.values())
        tests = sum(w.tests for w in self.workers.values())
        crashed = [w for w in self.workers.values() if w.crash]
        servers = sum(1 for w in self.workers.values() if w.url)
        headline = f"{servers} server(s), {tests} test(s) used httpserver, {requests} request(s)"
        if not groups and not crashed and mode is ReportMode.PROBLEMS:
            if not servers and not tests:
                return []  # the plugin is installed but nothing used it
            return [f"httpdouble: {headline}, no HTTP problems"]
        lines = [f"httpdouble: {headline}"]
        xdist = [w for w in self.workers.values() if w.worker.startswith("gw") and w.finished]
        if xdist:
            servers_of_ports = {w.portserver for w in xdist}
            lines.append(
                f"  ports from portpicker's portserver {', '.join(sorted(servers_of_ports))}"
                if all(servers_of_ports)
                else "  ports from portpicker without a portserver on some workers"
                " (remote workers or no Linux): picks are not coordinated there"
            )
        for record in sorted(self.workers.values(), key=lambda w: _worker_key(w.worker)):
            state = ""
            if record.crash:
                running = f" while running {record.crashed_in}" if record.crashed_in else ""
                state = f"CRASHED{running} ({record.crash})"
            lines.append(
                f"  {record.worker:<6} {record.url or '(no server)':<28}"
                f" {record.requests:>6} request(s) {record.tests:>5} test(s) {state}".rstrip()
            )
        if mode is ReportMode.ALL:
            for test in self.tests:
                lines.append(f"{test.nodeid} [{test.worker}]: {test.requests} request(s)")
                lines.extend(f"    {line}" for line in test.request_lines)
        if groups:
            count = self.problem_count()
            in_tests = len({where for where, _, _ in groups} & {t.nodeid for t in self.tests})
            outside = len(groups) - in_tests
            places = f"{in_tests} test(s)" + (f", {outside} outside any test" if outside else "")
            lines.append(f"{count} HTTP problem(s) in {places}:")
            for where, worker, found in groups:
                lines.append(f"{where} [{worker}]")
                for number, finding in enumerate(found, 1):
                    body = finding.lines()
                    lines.append(f"  {number}. {body[0]}")
                    lines.extend(f"     {line}" for line in body[1:])
        else:
            lines.append("no HTTP problems")
        return lines

    def to_builtins(self) -> dict[str, Any]:
        """Return the report as JSON-ready builtins (the ``--httpserver-report-json`` file)."""
        return {
            "schema": SCHEMA,
            "workers": [
                {
                    "worker": w.worker,
                    "url": w.url,
                    "requests": w.requests,
                    "tests": w.tests,
                    "crashed": bool(w.crash),
                    "crash": w.crash,
                    "crashed_in": w.crashed_in,
                    "portserver": w.portserver,
                }
                for w in sorted(self.workers.values(), key=lambda w: _worker_key(w.worker))
            ],
            "tests": [
                {
                    "nodeid": t.nodeid,
                    "worker": t.worker,
                    "requests": t.requests,
                    "request_lines": t.request_lines,
                }
                for t in self.tests
            ],
            "problems": [
                {"where": where, "worker": worker, "findings": [f.to_builtins() for f in found]}
                for where, worker, found in self.problems()
            ],
            "problem_count": self.problem_count(),
        }


def _worker_key(worker: str) -> tuple[int, str]:
    digits = worker[2:] if worker.startswith("gw") else ""
    return (int(digits), worker) if digits.isdigit() else (-1, worker)
