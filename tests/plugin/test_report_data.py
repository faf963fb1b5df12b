"""What crosses the process boundary: plain builtins, converted in one place, round-trip safe."""

from __future__ import annotations

import json

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from httpdouble import Finding, Kind, Mismatch, RequestSummary, Stamp
from httpdouble._report.report import Report, ReportMode
from httpdouble._report.worker_data import per_test_data, session_data

BUILTIN_TYPES = (dict, list, str, int, float, bool, type(None))


def _only_builtins(value: object) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _only_builtins(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_only_builtins(v) for v in value)
    return type(value) in BUILTIN_TYPES


def _finding(test: str | None, worker: str) -> Finding:
    request = Request(
        EnvironBuilder(
            path="/items",
            query_string="page=2",
            method="POST",
            headers={"X-Trace": "abc"},
            data=b'{"a": 1}',
        ).get_environ()
    )
    return Finding(
        Kind.NO_HANDLER,
        Stamp(test, "tests/test_a.py::test_before", worker, 1_700_000_000.5),
        request=RequestSummary.of(request),
        expected="a request matching a registered handler",
        closest="POST '/items' query 'page=1'",
        differences=(Mismatch("query_string", "'page=1'", "'page=2'"),),
        detail="",
    )


def test_test_and_session_data_are_plain_builtins_and_survive_json() -> None:
    data = per_test_data(
        nodeid="tests/test_a.py::test_a",
        worker="gw1",
        url="http://localhost:24999",
        findings=[_finding("tests/test_a.py::test_a", "gw1")],
        requests=1,
    )
    session = session_data(
        worker="gw1",
        url="http://localhost:24999",
        requests=3,
        tests=1,
        outside=[_finding(None, "gw1")],
        ports="controller's coordinator",
        portserver="@x",
    )
    for value in (data, session):
        assert _only_builtins(value)
        assert json.loads(json.dumps(value)) == value


def test_findings_round_trip_through_builtins() -> None:
    for finding in (_finding("t::a", "gw0"), _finding(None, "main")):
        assert Finding.from_builtins(finding.to_builtins()) == finding


def test_merged_report_renders_workers_problems_and_outside_requests() -> None:
    report = Report()
    report.add_test(
        per_test_data(
            nodeid="tests/test_a.py::test_a",
            worker="gw1",
            url="http://localhost:24999",
            findings=[_finding("tests/test_a.py::test_a", "gw1")],
            requests=1,
        )
    )
    report.add_session(
        session_data(
            worker="gw1",
            url="http://localhost:24999",
            requests=3,
            tests=1,
            outside=[_finding(None, "gw1")],
            ports="controller's coordinator",
            portserver="@x",
        )
    )
    report.worker_down("gw0", "Not properly terminated")
    lines = report.render(ReportMode.PROBLEMS)
    text = "\n".join(lines)
    assert "gw0" in text
    assert "CRASHED (Not properly terminated)" in text
    assert "  gw1      3 requests    1 test  http://localhost:24999" in text
    # Not raised at teardown (checked=False): shown in full.
    assert "1 HTTP problem in 1 test with the teardown check off:" in text
    assert "  tests/test_a.py::test_a [gw1]" in text
    assert "  [gw1] after tests/test_a.py::test_before ended; likely sent by" in text
    assert "- query_string: expected 'page=1', got 'page=2'" in text
    assert "X-Trace: abc" in text
    assert report.problem_count() == 2
    assert report.fails_run()  # the problem outside any test
    assert json.loads(json.dumps(report.to_builtins()))["problem_count"] == 2
    # Silent, except for the reason the run fails.
    assert report.render(ReportMode.NONE) == [
        "httpdouble: the run fails for 1 HTTP problem outside any test's teardown check"
        " (to only report such problems: --httpserver-outside-problems=ignore)"
    ]
    report.fail_outside = False
    assert not report.fails_run()
    assert report.render(ReportMode.NONE) == []


def test_report_without_problems_is_one_line_and_empty_when_unused() -> None:
    report = Report()
    assert report.render(ReportMode.PROBLEMS) == []
    report.add_session(
        session_data(
            worker="main",
            url="http://localhost:1",
            requests=2,
            tests=2,
            outside=[],
            ports="portpicker alone",
            portserver="",
        )
    )
    assert report.render(ReportMode.PROBLEMS) == [
        "httpdouble: 1 server, 2 tests used httpserver, 2 requests, no HTTP problems"
    ]
    assert len(report.render(ReportMode.ALL)) > 1


def _session(worker: str, host: str, ports: str, portserver: str = "") -> dict[str, object]:
    data = session_data(
        worker=worker,
        url=f"http://localhost:2500{worker[-1]}",
        requests=1,
        tests=1,
        outside=[],
        ports=ports,
        portserver=portserver,
    )
    data["host"] = host  # as if sent from that machine
    return data


def test_a_run_on_two_hosts_names_the_host_of_each_worker_and_problem() -> None:
    report = Report()
    report.add_session(_session("gw0", "remote-box", "bind port 0"))
    report.add_session(_session("gw1", "here", "controller's coordinator", "@httpdouble-1-ab"))
    data = per_test_data(
        nodeid="t.py::test_a",
        worker="gw0",
        url="http://localhost:25000",
        findings=[_finding("t.py::test_a", "gw0")],
        requests=1,
        checked=True,
    )
    report.add_test(data)
    lines = report.render(ReportMode.PROBLEMS)
    assert lines[1] == (
        "  ports: gw0 chosen by the system (each binds port 0);"
        " gw1 chosen by the controller, so no two workers share one"
    )
    assert lines[2].endswith("http://localhost:25000 on remote-box")
    assert lines[3].endswith("http://localhost:25001 on here")
    assert any(line.startswith("  t.py::test_a [gw0 on remote-box]: ") for line in lines)
    builtins = json.loads(json.dumps(report.to_builtins()))
    assert [(w["worker"], w["host"], w["ports"]) for w in builtins["workers"]] == [
        ("gw0", "remote-box", "bind port 0"),
        ("gw1", "here", "controller's coordinator"),
    ]
    assert builtins["problems"][0]["host"] == "remote-box"


def test_a_run_on_one_host_tags_problems_with_the_worker_only() -> None:
    report = Report()
    for worker in ("gw0", "gw1"):
        report.add_session(_session(worker, "here", "controller's coordinator", "@a"))
    assert report.tag("gw0") == "gw0"
    assert report.render(ReportMode.ALL)[1] == (
        "  ports: chosen by the controller, so no two workers share one"
    )


def test_a_worker_that_crashed_before_its_session_data_keeps_the_host_of_its_tests() -> None:
    report = Report()
    data = per_test_data(
        nodeid="t.py::test_a", worker="gw0", url="http://localhost:1", findings=[], requests=0
    )
    data["host"] = "remote-box"
    report.add_test(data)
    report.worker_down("gw0", "Not properly terminated", host="192.0.2.20:8888")
    assert report.workers["gw0"].host == "remote-box"
    report.worker_down("gw1", "Not properly terminated", host="192.0.2.20:8888")
    assert report.workers["gw1"].host == "192.0.2.20:8888"
