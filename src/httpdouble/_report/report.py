"""The end-of-run report: per-test and per-worker data, merged and rendered.

Workers (and the single process) build plain-builtins dicts in :mod:`.worker_data`; the
controller (and the single process, through the same path) feeds them to :class:`Report`,
which renders the terminal section and the JSON file. Those builders and :class:`Report`
are the only places where findings become builtins and back.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .worker_data import exchanges_of

if TYPE_CHECKING:
    from .findings import Finding

# The findings and log modules (and werkzeug through them) are imported only when there is
# a finding to rebuild or render: the plugin makes a Report in every pytest run (issue 15).

SCHEMA = 1


class ReportMode(enum.Enum):
    """How much the terminal summary shows."""

    NONE = "none"
    PROBLEMS = "problems"
    ALL = "all"


TEARDOWN = "teardown"
CHECK_OFF = "check off"
OUTSIDE = "outside any test"
UNCHECKED = "not checked"
FAIL_RUN = frozenset({OUTSIDE, UNCHECKED})


# Plain classes, not dataclasses: this module is imported by every pytest run with the
# plugin installed, and each dataclass costs about 1 ms to create.


class ProblemGroup:
    """Findings of one test, or of one stretch between tests, on one worker.

    :ivar category: how the run treated them: ``"teardown"`` (they failed the test),
        ``"check off"``, ``"outside any test"`` or ``"not checked"`` (sent during a test
        that used no per-test fixture).
    """

    def __init__(
        self,
        category: str,
        where: str,
        worker: str,
        findings: list[Finding],
        after_test: str | None = None,
    ) -> None:
        self.category = category
        self.where = where
        self.worker = worker
        self.findings = findings
        self.after_test = after_test


class WorkerRecord:
    """What the report knows of one worker (or of the single process)."""

    def __init__(self, worker: str) -> None:
        self.worker = worker
        self.host = ""
        self.pid = 0
        self.url = ""
        self.requests = 0
        self.tests = 0
        self.outside: list[Finding] = []
        self.ports = ""
        self.portserver = ""
        self.finished = False
        self.crash = ""
        self.crashed_in = ""


class TestRecord:
    """One test that used the ``httpserver`` fixture."""

    def __init__(
        self,
        nodeid: str,
        worker: str,
        requests: int,
        request_lines: list[str],
        findings: list[Finding],
        checked: bool = False,
        start: float | None = None,
        stop: float | None = None,
        exchanges: list[dict[str, Any]] | None = None,
        hosts: dict[str, list[int]] | None = None,
    ) -> None:
        self.nodeid = nodeid
        self.worker = worker
        self.requests = requests
        self.request_lines = request_lines
        self.findings = findings
        self.checked = checked
        self.start = start
        self.stop = stop
        self.exchanges = exchanges
        self.hosts = hosts or {}


class Report:
    """Everything collected in a run; renders itself as text and as builtins."""

    def __init__(self, *, fail_outside: bool = True) -> None:
        self.workers: dict[str, WorkerRecord] = {}
        self.tests: list[TestRecord] = []
        self.fail_outside = fail_outside
        self.coordinator_address = ""
        self.handed_out: list[tuple[int, int]] = []

    def _worker(self, worker: str) -> WorkerRecord:
        return self.workers.setdefault(worker, WorkerRecord(worker))

    def add_test(self, data: dict[str, Any]) -> None:
        record = TestRecord(
            nodeid=data["nodeid"],
            worker=data["worker"],
            requests=data["requests"],
            request_lines=list(data["request_lines"]),
            findings=_findings_from(data["findings"]),
            checked=bool(data.get("checked", False)),
            start=data.get("start"),
            stop=data.get("stop"),
            exchanges=exchanges_of(data),
            hosts={host: list(counts) for host, counts in data.get("hosts", {}).items()},
        )
        self.tests.append(record)
        worker = self._worker(record.worker)
        worker.url = worker.url or data["url"]
        worker.host = worker.host or data.get("host", "")
        if not worker.ports:
            worker.ports, worker.portserver = data.get("ports", ""), data.get("portserver", "")
        if not worker.finished:
            worker.tests += 1
            worker.requests += record.requests

    def add_session(self, data: dict[str, Any]) -> None:
        worker = self._worker(data["worker"])
        worker.url = data["url"] or worker.url
        worker.requests = data["requests"]
        worker.tests = data["tests"]
        worker.outside = _findings_from(data["outside"])
        worker.host = data.get("host", "")
        worker.pid = data.get("pid", 0)
        worker.ports = data.get("ports", "")
        worker.portserver = data["portserver"]
        worker.finished = True

    def worker_down(self, worker: str, error: object, host: str = "") -> None:
        """Record a worker that ended without sending its session data.

        ``host``: where the controller started it (the worker never said it).
        """
        record = self._worker(worker)
        if not record.finished:
            record.crash = str(error or "it sent no session data").strip().splitlines()[-1]
            record.host = record.host or host

    def coordinator(self, address: str, handed_out: Iterable[tuple[int, int]]) -> None:
        """Record the controller's port coordinator and the ``(pid, port)`` it handed out."""
        self.coordinator_address = address
        self.handed_out = list(handed_out)

    def worker_crashed_in(self, worker: str, nodeid: str) -> None:
        """Record the test a worker was running when it died."""
        self._worker(worker).crashed_in = nodeid

    # -- queries

    def problems(self) -> list[ProblemGroup]:
        """Return the groups of findings: tests by node id, then the rest by worker.

        The order does not depend on how xdist scheduled the tests.
        """
        groups = [
            ProblemGroup(TEARDOWN if t.checked else CHECK_OFF, t.nodeid, t.worker, t.findings)
            for t in sorted(self.tests, key=lambda t: (t.nodeid, _worker_key(t.worker)))
            if t.findings
        ]
        for record in sorted(self.workers.values(), key=lambda w: _worker_key(w.worker)):
            by_where: dict[tuple[str, str | None], list[Finding]] = {}
            for finding in record.outside:
                key = (finding.stamp.where(), finding.stamp.after_test)
                by_where.setdefault(key, []).append(finding)
            for (where, after), found in by_where.items():
                in_test = found[0].stamp.test is not None
                category = UNCHECKED if in_test else OUTSIDE
                groups.append(ProblemGroup(category, where, record.worker, found, after))
        return groups

    def _records(self) -> list[WorkerRecord]:
        return sorted(self.workers.values(), key=lambda w: _worker_key(w.worker))

    def summary(self) -> dict[str, int]:
        """Return the run's counts: servers, workers, tests, requests and problems."""
        records = self._records()
        return {
            "servers": sum(len(w.url.split()) for w in records),
            "workers": len(records),
            "tests": sum(w.tests for w in records),
            "requests": sum(w.requests for w in records),
            "problems": self.problem_count(),
        }

    def hosts(self) -> dict[str, tuple[int, int]]:
        """Return ``{host: (requests, unmatched)}`` of the requests meant for other hosts,
        over every test, busiest host first."""
        totals: dict[str, list[int]] = {}
        for test in self.tests:
            for host, (requests, unmatched) in test.hosts.items():
                counts = totals.setdefault(host, [0, 0])
                counts[0] += requests
                counts[1] += unmatched
        ranked = sorted(totals.items(), key=lambda item: (-item[1][0], item[0]))
        return {host: (counts[0], counts[1]) for host, counts in ranked}

    def problem_count(self) -> int:
        return sum(len(group.findings) for group in self.problems())

    def failing_count(self) -> int:
        """Return how many problems fail the run by themselves (no test's check raised them)."""
        return sum(len(g.findings) for g in self.problems() if g.category in FAIL_RUN)

    def fails_run(self) -> bool:
        return self.fail_outside and self.failing_count() > 0

    # -- rendering

    def render(self, mode: ReportMode) -> list[str]:
        """Return the lines of the terminal section.

        ``ReportMode.NONE`` gives no line, or the one that says why the run fails.

        A problem that failed its test (at teardown, or inside the test's failed call) is
        shown in full by pytest: here it gets one line. Problems shown nowhere else (check
        off, outside any test, never checked) are shown in full.
        """
        if mode is ReportMode.NONE:
            # Silent, except for why the run fails: no other line says it.
            return self._fail_line()
        groups = self.problems()
        records = self._records()
        crashed = [w for w in records if w.crash]
        counts = self.summary()
        servers, tests = counts["servers"], counts["tests"]
        requests, count = counts["requests"], counts["problems"]
        problems = f"{_n(count, 'HTTP problem')}" if count else "no HTTP problems"
        headline = (
            f"httpdouble: {_n(servers, 'server')}, {_n(tests, 'test')} used httpserver,"
            f" {_n(requests, 'request')}, {problems}"
        )
        hosts = _host_lines(self.hosts())
        if not groups and not crashed and mode is ReportMode.PROBLEMS:
            if not servers and not tests:
                return []  # the plugin is installed but nothing used it
            return [headline, *hosts]
        lines = [headline, *hosts]
        if len(records) > 1 or crashed or mode is ReportMode.ALL:
            lines.extend(self._worker_lines(records))
        if mode is ReportMode.ALL:
            for test in self.tests:
                tag = self.tag(test.worker)
                lines.append(f"{test.nodeid} [{tag}]: {_n(test.requests, 'request')}")
                lines.extend(f"    {line}" for line in test.request_lines)
        for category in (TEARDOWN, CHECK_OFF, OUTSIDE, UNCHECKED):
            chosen = [g for g in groups if g.category == category]
            if chosen:
                lines.extend(_section(category, chosen, self.tag))
        if any(g.category == TEARDOWN for g in groups):
            from .findings import TURN_OFF_HINT

            lines.append(TURN_OFF_HINT)
        return lines + self._fail_line()

    def tag(self, worker: str) -> str:
        """Return how a problem line names its worker: with the host when the run had several."""
        hosts = {record.host for record in self.workers.values() if record.host}
        host = self.workers[worker].host if worker in self.workers else ""
        return f"{worker} on {host}" if len(hosts) > 1 and host else worker

    def _fail_line(self) -> list[str]:
        if not self.fails_run():
            return []
        return [
            f"httpdouble: the run fails for {_n(self.failing_count(), 'HTTP problem')} outside"
            " any test's teardown check (to only report such problems:"
            " --httpserver-outside-problems=ignore)"
        ]

    def _worker_lines(self, records: list[WorkerRecord]) -> list[str]:
        lines = _ports_lines(records)
        for record in records:
            where = record.url or "(no server)"
            if record.host:
                where += f" on {record.host}"
            if record.crash:
                running = f" while running {record.crashed_in}" if record.crashed_in else ""
                where += (
                    f" CRASHED{running} ({record.crash}); what it saw after its last"
                    " finished test is lost"
                )
            lines.append(
                f"  {record.worker:<6} {_n(record.requests, 'request'):>12}"
                f" {_n(record.tests, 'test'):>9}  {where}"
            )
        return lines

    def to_builtins(self) -> dict[str, Any]:
        """Return the report as JSON-ready builtins (the ``--httpserver-report-json`` file)."""
        return {
            "schema": SCHEMA,
            "summary": self.summary(),
            "workers": [
                {
                    "worker": w.worker,
                    "url": w.url,
                    "requests": w.requests,
                    "tests": w.tests,
                    "crashed": bool(w.crash),
                    "crash": w.crash,
                    "crashed_in": w.crashed_in,
                    "host": w.host,
                    "pid": w.pid,
                    "ports": w.ports,
                    "portserver": w.portserver,
                }
                for w in self._records()
            ],
            "tests": [
                {
                    "nodeid": t.nodeid,
                    "worker": t.worker,
                    "requests": t.requests,
                    "request_lines": t.request_lines,
                    "checked": t.checked,
                    "start": t.start,
                    "stop": t.stop,
                    **({"hosts": t.hosts} if t.hosts else {}),
                    **({} if t.exchanges is None else {"exchanges": t.exchanges}),
                }
                for t in self.tests
            ],
            "problems": [
                {
                    "where": group.where,
                    "worker": group.worker,
                    "host": self._worker(group.worker).host,
                    "category": group.category,
                    "findings": [f.to_builtins() for f in group.findings],
                }
                for group in self.problems()
            ],
            "hosts": [
                {"host": host, "requests": requests, "unmatched": unmatched}
                for host, (requests, unmatched) in self.hosts().items()
            ],
            "problem_count": self.problem_count(),
            "fails_run": self.fails_run(),
            "port_coordinator": {
                "address": self.coordinator_address,
                "handed_out": [{"pid": pid, "port": port} for pid, port in self.handed_out],
            },
        }


# Plain words: the coordinator's abstract-socket address is in the JSON file, not here.
_PORTS_WORDS = {
    "controller's coordinator": "chosen by the controller, so no two workers share one",
    "PORTSERVER_ADDRESS": "from the portserver at {address} (PORTSERVER_ADDRESS)",
    "bind port 0": "chosen by the system (each binds port 0)",
    "portpicker alone": "from portpicker alone (no portserver)",
}


def _ports_lines(records: list[WorkerRecord]) -> list[str]:
    """Return the line that says how the workers chose their ports (under xdist only)."""
    ways: dict[str, list[str]] = {}
    workers = [w for w in records if w.worker.startswith("gw")]
    for record in workers:
        if record.ports:
            words = _PORTS_WORDS.get(record.ports, record.ports)
            ways.setdefault(words.format(address=record.portserver), []).append(record.worker)
    if not ways:
        return []
    if len(ways) == 1 and sum(map(len, ways.values())) == len(workers):
        return [f"  ports: {next(iter(ways))}"]  # the same for every worker
    return ["  ports: " + "; ".join(f"{', '.join(ws)} {how}" for how, ws in ways.items())]


HOSTS_SHOWN = 10


def _host_lines(hosts: dict[str, tuple[int, int]]) -> list[str]:
    """Return the lines that count the requests meant for other hosts, host by host."""
    if not hosts:
        return []
    lines = ["  requests for other hosts (through the proxy, or with a Host of their own):"]
    for host, (requests, unmatched) in list(hosts.items())[:HOSTS_SHOWN]:
        missed = f", {unmatched} unmatched" if unmatched else ""
        lines.append(f"    {host}: {_n(requests, 'request')}{missed}")
    if len(hosts) > HOSTS_SHOWN:
        lines.append(f"    and {_n(len(hosts) - HOSTS_SHOWN, 'more host')} (in the JSON report)")
    return lines


def _n(count: int, noun: str) -> str:
    """Return ``1 test``, ``2 tests``: a count and its noun, singular or plural."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


_TITLES = {
    TEARDOWN: "{problems} failed {tests} (shown above):",
    CHECK_OFF: "{problems} in {tests} with the teardown check off:",
    OUTSIDE: "{problems} outside any test:",
    UNCHECKED: "{problems} in {tests} that no teardown check saw (found at the end of the"
    " session: the test used a server without the httpserver fixture):",
}


def _section(category: str, groups: list[ProblemGroup], tag: Callable[[str], str]) -> list[str]:
    from .findings import numbered_lines

    problems = _n(sum(len(g.findings) for g in groups), "HTTP problem")
    lines = [_TITLES[category].format(problems=problems, tests=_n(len(groups), "test"))]
    for group in groups:
        if category == TEARDOWN:
            lines.append(f"  {group.where} [{tag(group.worker)}]: {_one_line(group.findings)}")
            continue
        if category == OUTSIDE:
            lines.append(f"  [{tag(group.worker)}] {_between(group)}")
        else:
            lines.append(f"  {group.where} [{tag(group.worker)}]")
        lines.extend(numbered_lines(group.findings, indent="    "))
    return lines


def _findings_from(items: list[dict[str, Any]]) -> list[Finding]:
    if not items:
        return []
    from .findings import Finding

    return [Finding.from_builtins(f) for f in items]


def _one_line(findings: list[Finding]) -> str:
    from .findings import collapse

    distinct = collapse(findings)
    count, first = distinct[0]
    text = (f"{count}x " if count > 1 else "") + first.headline()
    return text + (f" (+{len(distinct) - 1} more)" if len(distinct) > 1 else "")


def _between(group: ProblemGroup) -> str:
    if group.after_test is None:
        return "before the first test"
    after = f"after {group.after_test} ended"
    if any(f.request is not None for f in group.findings):
        return f"{after}; likely sent by that test or code it started"
    return after


def _worker_key(worker: str) -> tuple[int, str]:
    digits = worker[2:] if worker.startswith("gw") else ""
    return (int(digits), worker) if digits.isdigit() else (-1, worker)
