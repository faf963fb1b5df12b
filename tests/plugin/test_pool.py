"""The xdist pool: a server per worker, race-free ports, one report from the controller."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest

from ..support import Runner, load_json
from .approval import normalised, section

BAD_REQUESTS = """
import json
import os
from pathlib import Path

import pytest
from client import get

NUMBERS = range({count})


@pytest.mark.parametrize("number", NUMBERS)
def test_sends_one_wrong_request(httpserver, number, request):
    httpserver.expect_request("/expected").respond_with_data("ok")
    status, _ = get(httpserver.url_for(f"/wrong/{{number}}"))
    assert status == 500
    record = {{
        "nodeid": request.node.nodeid,
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        "port": httpserver.port,
        "log": [req.path for req, _ in httpserver.log],
    }}
    out = Path(os.environ["SEEN_DIR"]) / f"{{number}}.json"
    out.write_text(json.dumps(record))
"""


def _glob(text: str) -> str:
    """Escape text for ``fnmatch_lines`` (node ids contain brackets)."""
    return re.sub(r"([\[\]*?])", r"[\1]", text)


def _listening(address: str) -> bool:
    """Return whether something accepts connections at abstract socket ``@address``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect("\0" + address.removeprefix("@"))
        except OSError:
            return False
    return True


def _seen(directory: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]


@pytest.mark.parametrize("workers", [2, 4])
def test_each_worker_has_its_own_server_and_the_report_names_test_and_worker(
    suite: pytest.Pytester,
    run: Runner,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    workers: int,
) -> None:
    monkeypatch.setenv("SEEN_DIR", str(tmp_path))
    suite.makepyfile(test_pool=BAD_REQUESTS.format(count=4 * workers))
    report_path = tmp_path / "report" / "httpdouble.json"
    result = run("-n", str(workers), f"--httpserver-report-json={report_path}")
    result.assert_outcomes(passed=4 * workers, errors=4 * workers)

    seen = _seen(tmp_path)
    port_of: dict[object, set[object]] = {}
    for record in seen:
        port_of.setdefault(record["worker"], set()).add(record["port"])
        # Each test's log holds its own request only: the server was cleared for it.
        assert record["log"] == [f"/wrong/{str(record['nodeid']).split('[')[1][:-1]}"]
    assert sorted(port_of) == [f"gw{i}" for i in range(workers)]
    assert all(len(ports) == 1 for ports in port_of.values())
    assert len({next(iter(ports)) for ports in port_of.values()}) == workers

    report = load_json(report_path)
    where = {(p["where"], p["worker"]) for p in report["problems"]}
    assert where == {(r["nodeid"], r["worker"]) for r in seen}
    for worker in report["workers"]:
        assert worker["url"].endswith(f":{next(iter(port_of[worker['worker']]))}")
        assert worker["portserver"].startswith("@httpdouble-")
        assert worker["ports"] == "controller's coordinator"
        assert worker["host"] == socket.gethostname()
    # The coordinator handed each server its port, and stopped listening with the run.
    address = report["workers"][0]["portserver"]
    assert address == report["port_coordinator"]["address"]
    handed_out = {(p["pid"], p["port"]) for p in report["port_coordinator"]["handed_out"]}
    for worker in report["workers"]:
        assert (worker["pid"], next(iter(port_of[worker["worker"]]))) in handed_out
    assert not _listening(address)
    for record in seen:
        number = str(record["nodeid"]).split("[")[1][:-1]
        # Shown in full once, in the teardown failure; one line in the report.
        result.stdout.fnmatch_lines(
            [
                f"*1. no handler matched: GET /wrong/{number}",
                "*closest:  any method '/expected'",
                f"*- uri: expected '/expected', got '/wrong/{number}'",
            ]
        )
        result.stdout.fnmatch_lines(
            [
                _glob(
                    f"  {record['nodeid']} [{record['worker']}]:"
                    f" no handler matched: GET /wrong/{number}"
                )
            ]
        )


def _problems_without_places(report: dict[str, object]) -> list[tuple[str, str, str]]:
    problems = report["problems"]
    assert isinstance(problems, list)
    return sorted(
        (p["where"], f["kind"], json.dumps(f["request"])) for p in problems for f in p["findings"]
    )


def test_report_content_is_the_same_with_and_without_xdist(
    suite: pytest.Pytester, run: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SEEN_DIR", str(tmp_path))
    suite.makepyfile(test_pool=BAD_REQUESTS.format(count=4))
    contents = []
    for name, args in {
        "standalone": [],
        "n0": ["-n", "0"],
        "noxdist": ["-p", "no:xdist"],
        "n2": ["-n", "2"],
    }.items():
        path = tmp_path / f"{name}.json"
        run(*args, f"--httpserver-report-json={path}").assert_outcomes(passed=4, errors=4)
        contents.append(_problems_without_places(load_json(path)))
    assert contents[0]
    assert all(content == contents[0] for content in contents)


def test_crashed_worker_is_named_and_other_findings_survive(
    suite: pytest.Pytester, run: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    suite.makepyfile(
        test_crash="""
        import os
        import pytest
        from client import get

        @pytest.mark.parametrize("number", range(6))
        def test_wrong(httpserver, number):
            get(httpserver.url_for(f"/wrong/{number}"))

        def test_dies(httpserver):
            get(httpserver.url_for("/before-dying"))
            os._exit(3)
        """
    )
    path = tmp_path / "report.json"
    result = run("-n", "2", f"--httpserver-report-json={path}")
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    result.stdout.fnmatch_lines(["*CRASHED while running test_crash.py::test_dies*"])
    report = load_json(path)
    crashed = [w for w in report["workers"] if w["crashed"]]
    assert len(crashed) == 1
    reported = {p["where"] for p in report["problems"]}
    assert {f"test_crash.py::test_wrong[{n}]" for n in range(6)} <= reported
    # Approved output: the crashed worker's row, then the rest word for word.
    lines = normalised(section(result.stdout.str())).splitlines()
    rows = [line for line in lines if line.startswith("  gwN ")]
    crashed_rows = [row for row in rows if "CRASHED" in row]
    assert len(crashed_rows) == 1
    assert re.fullmatch(
        r"  gwN +\d+ requests? +\d+ tests?  http://localhost:PORT on HOST CRASHED while running"
        r" test_crash\.py::test_dies \(.+\); what it saw after its last finished test is lost",
        crashed_rows[0],
    )
    rest = [line for line in lines if line not in rows]
    assert "\n".join(rest) == APPROVED_CRASH


APPROVED_CRASH = """\
httpdouble: 2 servers, 6 tests used httpserver, 6 requests, 6 HTTP problems
  ports: chosen by the controller, so no two workers share one
6 HTTP problems failed 6 tests at teardown (shown above):
  test_crash.py::test_wrong[0] [gwN]: no handler matched: GET /wrong/0
  test_crash.py::test_wrong[1] [gwN]: no handler matched: GET /wrong/1
  test_crash.py::test_wrong[2] [gwN]: no handler matched: GET /wrong/2
  test_crash.py::test_wrong[3] [gwN]: no handler matched: GET /wrong/3
  test_crash.py::test_wrong[4] [gwN]: no handler matched: GET /wrong/4
  test_crash.py::test_wrong[5] [gwN]: no handler matched: GET /wrong/5
to turn the teardown check off: @pytest.mark.httpserver_nocheck on a test, or \
'httpserver_teardown_check = false' in the pytest ini file"""


@pytest.mark.parametrize(
    "args",
    [
        ["-n", "2", "-x"],
        ["-n", "2", "--dist", "each"],
        ["-n", "2", "--dist", "loadscope"],
        ["-n", "2", "--dist", "loadfile"],
        ["-n", "2", "--dist", "worksteal"],
    ],
    ids=["exitfirst", "each", "loadscope", "loadfile", "worksteal"],
)
def test_json_report_matches_the_terminal_report(
    suite: pytest.Pytester, run: Runner, tmp_path: Path, args: list[str]
) -> None:
    suite.makepyfile(
        test_mixed="""
        from client import get

        def test_good(httpserver):
            httpserver.expect_request("/ok").respond_with_data("ok")
            assert get(httpserver.url_for("/ok")) == (200, "ok")

        def test_bad(httpserver):
            get(httpserver.url_for("/bad"))
        """
    )
    path = tmp_path / "report.json"
    result = run(*args, f"--httpserver-report-json={path}")
    report = load_json(path)
    assert report["problem_count"] >= 1
    output = result.stdout.str()
    count = report["problem_count"]
    assert f"{count} HTTP problem{'s' if count > 1 else ''} failed" in output
    for problem in report["problems"]:
        assert f"  {problem['where']} [{problem['worker']}]: " in output
        for finding in problem["findings"]:
            assert f"GET {finding['request']['path']}" in output
    for worker in report["workers"]:
        assert worker["worker"] in output
        assert worker["url"] in output
    if "each" in args:
        # Every worker runs every test: both report test_bad.
        assert {p["worker"] for p in report["problems"]} == {"gw0", "gw1"}


def test_portpicker_in_user_code_is_collision_free_across_workers(
    suite: pytest.Pytester, run: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SEEN_DIR", str(tmp_path))
    suite.makepyfile(
        test_picks="""
        import json
        import os
        from pathlib import Path

        import portpicker
        import pytest

        @pytest.mark.parametrize("batch", range(4))
        def test_pick(batch):
            assert os.environ["PORTSERVER_ADDRESS"].startswith("@httpdouble-")
            ports = [portpicker.pick_unused_port() for _ in range(50)]
            out = Path(os.environ["SEEN_DIR"]) / f"{batch}.json"
            out.write_text(json.dumps(ports))
        """
    )
    run("-n", "4", "--dist", "load").assert_outcomes(passed=4)
    picks = [port for p in tmp_path.glob("*.json") for port in json.loads(p.read_text())]
    assert len(picks) == 200
    assert len(set(picks)) == 200


def test_same_fixed_port_for_two_workers_is_a_clear_error(
    suite: pytest.Pytester, run: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import portpicker

    port = portpicker.pick_unused_port()
    monkeypatch.setenv("SEEN_DIR", str(tmp_path))
    # Both workers must try to bind while the other holds the port: a worker that finished
    # first would free it. Files in SEEN_DIR line them up (bounded waits).
    suite.makeconftest(
        """
        import os
        import time
        from pathlib import Path

        import pytest

        def wait_for(pattern):
            folder = Path(os.environ["SEEN_DIR"])
            deadline = time.monotonic() + 20
            while len(list(folder.glob(pattern))) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)

        def mark(name):
            worker = os.environ["PYTEST_XDIST_WORKER"]
            (Path(os.environ["SEEN_DIR"]) / f"{name}-{worker}").touch()

        @pytest.fixture(scope="session", autouse=True)
        def both_workers_started():
            mark("started")
            wait_for("started-*")

        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_makereport(item, call):
            report = yield
            if call.when == "setup":
                mark("setup")
            return report
        """
    )
    suite.makepyfile(
        test_fixed="""
        import pytest
        from conftest import wait_for

        @pytest.mark.parametrize("number", range(2))
        def test_uses_server(httpserver, number):
            wait_for("setup-*")  # hold the port until the other worker has tried it
        """
    )
    result = run("-n", "2", f"--httpserver-port={port}")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            f"*ServerStartError: cannot listen on localhost:{port}*",
            "*to fix: xdist worker gw* asked for fixed port*every worker needs a port of its own*",
        ]
    )


SEMANTICS = """
import pytest
from client import get


def test_oneshot_is_used_once(httpserver):
    httpserver.expect_oneshot_request("/once").respond_with_data("first")
    assert get(httpserver.url_for("/once")) == (200, "first")
    assert get(httpserver.url_for("/once"))[0] == 500
    httpserver.clear_assertions()


def test_ordered_out_of_order_refuses_until_clear(httpserver):
    httpserver.expect_ordered_request("/1").respond_with_data("one")
    httpserver.expect_ordered_request("/2").respond_with_data("two")
    assert get(httpserver.url_for("/2"))[0] == 500
    assert get(httpserver.url_for("/1"))[0] == 500
    assert httpserver.permanently_failed
    httpserver.clear()
    httpserver.expect_request("/1").respond_with_data("one")
    assert get(httpserver.url_for("/1")) == (200, "one")


def test_lookup_order_ordered_then_oneshot_then_permanent(httpserver):
    httpserver.expect_request("/x").respond_with_data("permanent")
    httpserver.expect_oneshot_request("/x").respond_with_data("oneshot")
    httpserver.expect_ordered_request("/x").respond_with_data("ordered")
    bodies = [get(httpserver.url_for("/x"))[1] for _ in range(3)]
    assert bodies == ["ordered", "oneshot", "permanent"]


@pytest.mark.parametrize("query, status", [("a=1&b=2", 200), ("b=2&a=1", 200), ("a=2", 500)])
def test_query_mapping_ignores_order(httpserver, query, status):
    httpserver.expect_request("/q", query_string={"a": "1", "b": "2"}).respond_with_data("q")
    assert get(httpserver.url_for("/q?" + query))[0] == status
    httpserver.clear_assertions()


def test_json_true_is_not_one(httpserver):
    httpserver.expect_request("/j", method="POST", json={"on": True}).respond_with_data("j")
    headers = {"Content-Type": "application/json"}
    assert get(httpserver.url_for("/j"), "POST", b'{"on": 1}', headers)[0] == 500
    assert get(httpserver.url_for("/j"), "POST", b'{"on": true}', headers)[0] == 200
    httpserver.clear_assertions()
"""


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["-p", "no:xdist"],
        ["-n", "2"],
        ["-n", "2", "--dist", "each"],
        ["-n", "2", "--dist", "loadscope"],
        ["-n", "2", "--dist", "loadfile"],
        ["-n", "2", "--dist", "worksteal"],
    ],
    ids=["standalone", "no-xdist", "n2", "each", "loadscope", "loadfile", "worksteal"],
)
def test_matcher_and_handler_semantics_are_the_same_everywhere(
    suite: pytest.Pytester, run: Runner, args: list[str]
) -> None:
    suite.makepyfile(test_semantics=SEMANTICS)
    result = run(*args)
    per_run = 2 if "each" in args else 1
    result.assert_outcomes(passed=7 * per_run)
    result.stdout.fnmatch_lines(["httpdouble: * no HTTP problems"])
