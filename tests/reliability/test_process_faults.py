"""Process faults: crashed xdist workers, ports taken by other processes, leaks."""

from __future__ import annotations

import gc
import http.client
import signal
import socket
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from httpdouble import HTTPServer

from ..support import Runner, has_ipv6_loopback, load_json
from .conftest import SOCKET_TIMEOUT
from .rawhttp import good_request_is_served

KILLS = {
    "os-exit": "os._exit(3)",
    "sigkill": "os.kill(os.getpid(), signal.SIGKILL)",
}


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
@pytest.mark.parametrize("kill", KILLS.values(), ids=KILLS)
def test_killed_worker_is_reported_as_crashed_and_other_workers_findings_survive(
    suite: pytest.Pytester, run: Runner, tmp_path: Path, kill: str
) -> None:
    suite.makepyfile(
        test_crash=f"""
        import os
        import signal
        import pytest
        from client import get

        @pytest.mark.parametrize("number", range(6))
        def test_wrong(httpserver, number):
            get(httpserver.url_for(f"/wrong/{{number}}"))

        def test_dies(httpserver):
            get(httpserver.url_for("/before-dying"))
            {kill}
        """
    )
    path = tmp_path / "report.json"
    result = run("-n", "2", f"--httpserver-report-json={path}")
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    result.assert_outcomes(passed=6, failed=1, errors=6)
    result.stdout.fnmatch_lines(["*CRASHED while running test_crash.py::test_dies*"])
    report = load_json(path)
    crashed = [w for w in report["workers"] if w["crashed"]]
    assert [w["crashed_in"] for w in crashed] == ["test_crash.py::test_dies"]
    reported = {p["where"] for p in report["problems"]}
    assert {f"test_crash.py::test_wrong[{n}]" for n in range(6)} <= reported


# ------------------------------------------------------------------ port collisions

_HOLDER = """
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
with socket.socket(family, socket.SOCK_STREAM) as sock:
    sock.bind((sys.argv[1], 0))
    sock.listen(1)
    print(sock.getsockname()[1], flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def port_held_by_another_process() -> Iterator[Callable[[str], int]]:
    """Start processes that each listen on a port of ``address`` until the test ends."""
    processes: list[subprocess.Popen[str]] = []

    def hold(address: str) -> int:
        process = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, address],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        assert process.stdout is not None
        return int(process.stdout.readline())

    try:
        yield hold
    finally:
        for process in processes:
            assert process.stdin is not None
            process.stdin.close()  # the holder reads EOF and exits
            process.wait(SOCKET_TIMEOUT)
            assert process.stdout is not None
            process.stdout.close()


def _proposals(*ports: int) -> Callable[[], int]:
    """A port_source proposing ``ports`` in turn, then 0 (the system chooses)."""
    queue = list(ports)
    proposed: list[int] = []

    def source() -> int:
        port = queue.pop(0) if queue else 0
        proposed.append(port)
        return port

    source.proposed = proposed  # type: ignore[attr-defined]
    return source


ADDRESSES = ["127.0.0.1", "::1"]


@pytest.mark.parametrize("taken_on", ADDRESSES)
@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_port_taken_by_another_process_is_skipped_transparently(
    port_held_by_another_process: Callable[[str], int], host: str, taken_on: str
) -> None:
    if taken_on == "::1" and not has_ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback (::1)")
    if host == "127.0.0.1" and taken_on == "::1":
        pytest.skip("a server on 127.0.0.1 does not need the port on ::1")
    taken = port_held_by_another_process(taken_on)
    source = _proposals(taken, taken)
    server = HTTPServer(host, port_source=source)
    server.start()
    try:
        assert server.port != taken
        assert source.proposed[:2] == [taken, taken]  # type: ignore[attr-defined]
        server.expect_request("/good").respond_with_data("good")
        good_request_is_served(server)
    finally:
        server.stop()


# ------------------------------------------------------------------ leaks

CYCLES = 50


def _open_fds() -> int | None:
    fd_dir = Path("/proc/self/fd")
    return len(list(fd_dir.iterdir())) if fd_dir.is_dir() else None


def _settled_thread_count(baseline: int) -> int:
    """Thread count, waiting (bounded) for connection threads that are ending."""
    finished = threading.Event()
    for _ in range(200):
        if threading.active_count() <= baseline:
            break
        finished.wait(0.01)
    return threading.active_count()


def test_start_stop_cycles_leak_no_thread_socket_or_resource_warning() -> None:
    gc.collect()
    threads_before = threading.active_count()
    fds_before = _open_fds()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for cycle in range(CYCLES):
            server = HTTPServer(no_handler_status_code=404)
            server.start()
            server.expect_request("/good").respond_with_data("good")
            good_request_is_served(server)
            # A client left connected and one left half-way through a request.
            idle = socket.create_connection(("127.0.0.1", server.port), timeout=SOCKET_TIMEOUT)
            half = http.client.HTTPConnection("127.0.0.1", server.port, timeout=SOCKET_TIMEOUT)
            half.putrequest("GET", f"/half/{cycle}")
            half.send(b"")
            server.stop()
            idle.close()
            half.close()
        del server
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert _settled_thread_count(threads_before) == threads_before
    if fds_before is not None:
        assert _open_fds() == fds_before


def test_plugin_stops_its_servers_at_the_end_of_the_session(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makeconftest(
        """
        import threading
        SERVERS = []

        def pytest_unconfigure(config):
            alive = [t.name for t in threading.enumerate() if t.name.startswith("httpdouble")]
            with open("after-session.txt", "w") as out:
                out.write(f"running={[s.is_running() for s in SERVERS]} threads={alive}")
        """
    )
    suite.makepyfile(
        """
        from conftest import SERVERS
        from client import get

        def test_http(httpserver):
            SERVERS.append(httpserver)
            httpserver.expect_request("/a").respond_with_data("a")
            assert get(httpserver.url_for("/a")) == (200, "a")

        def test_https(httpsserver):
            SERVERS.append(httpsserver)
        """
    )
    result = run("-W", "error")
    result.assert_outcomes(passed=2)
    text = (suite.path / "after-session.txt").read_text()
    assert text == "running=[False, False] threads=[]"


def test_server_left_running_by_user_code_is_stopped_at_the_end_of_the_session(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makeconftest(
        """
        LEFT = []

        def pytest_unconfigure(config):
            with open("after-session.txt", "w") as out:
                out.write(f"running={[s.is_running() for s in LEFT]}")
        """
    )
    suite.makepyfile(
        """
        from conftest import LEFT
        from httpdouble import HTTPServer

        def test_forgets_to_stop():
            server = HTTPServer()
            server.start()
            LEFT.append(server)
        """
    )
    result = run()
    result.assert_outcomes(passed=1)
    text = (suite.path / "after-session.txt").read_text()
    assert text == "running=[False]"
    result.stdout.fnmatch_lines(
        [
            "*server left running: http://localhost:*/ was still running at the end of the"
            " session; httpdouble stopped it*"
        ]
    )
