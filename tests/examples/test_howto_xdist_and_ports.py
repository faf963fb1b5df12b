"""How-to: run under xdist, and choose ports when the code under test needs fixed ones."""

from __future__ import annotations

import socket
from pathlib import Path

import portpicker
import pytest

SNIPPETS = Path(__file__).parent / "snippets"


def _free_port_pair() -> int:
    """Return a port ``p`` such that ``p`` and ``p + 1`` can both be bound right now."""
    for _ in range(50):
        port = portpicker.pick_unused_port()
        if port >= 65535:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                # Same option as the server: a port in TIME_WAIT counts as free.
                for probe, candidate in ((a, port), (b, port + 1)):
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    probe.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    pytest.skip("no two consecutive free ports found")


def _ports(pytester: pytest.Pytester) -> dict[str, int]:
    lines = (pytester.path / "ports.log").read_text().split()
    return {worker: int(port) for worker, port in zip(lines[::2], lines[1::2], strict=True)}


def _write_tests(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    monkeypatch.setenv("PORT_LOG", str(pytester.path / "ports.log"))
    # When this suite itself runs under xdist, the child run must not think it is a worker.
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    source = (SNIPPETS / "record_port.py").read_text()
    pytester.makepyfile(**{f"test_port_{i}": source for i in range(count)})


def test_each_xdist_worker_gets_a_server_of_its_own(pytester, monkeypatch):
    _write_tests(pytester, monkeypatch, 4)

    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=4)
    ports = _ports(pytester)
    assert set(ports) == {"gw0", "gw1"}
    assert ports["gw0"] != ports["gw1"]


def test_the_listen_address_hook_chooses_a_port_per_worker(pytester, monkeypatch):
    base = _free_port_pair()
    monkeypatch.setenv("MY_SUITE_BASE_PORT", str(base))
    pytester.makeconftest((SNIPPETS / "conftest_listen_address.py").read_text())
    _write_tests(pytester, monkeypatch, 4)

    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=4)
    assert _ports(pytester) == {"gw0": base, "gw1": base + 1}


def test_the_port_option_fixes_the_port_of_a_single_process_run(pytester, monkeypatch):
    port = portpicker.pick_unused_port()
    _write_tests(pytester, monkeypatch, 1)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--httpserver-port={port}")

    result.assert_outcomes(passed=1)
    assert _ports(pytester) == {"main": port}


def test_the_environment_variables_set_host_and_port(pytester, monkeypatch):
    port = portpicker.pick_unused_port()
    monkeypatch.setenv("PYTEST_HTTPSERVER_HOST", "127.0.0.1")
    monkeypatch.setenv("PYTEST_HTTPSERVER_PORT", str(port))
    _write_tests(pytester, monkeypatch, 1)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
    assert _ports(pytester) == {"main": port}


def test_pick_unused_port_in_user_code_is_coordinated_across_workers(pytester, monkeypatch):
    pytester.makepyfile(
        test_picks="""
        import os
        import portpicker
        import pytest

        @pytest.mark.parametrize("n", range(4))
        def test_pick(n):
            picks = [str(portpicker.pick_unused_port()) for _ in range(20)]
            with open(os.environ["PICK_LOG"], "a") as log:
                log.write(" ".join([os.environ.get("PORTSERVER_ADDRESS", "-"), *picks]) + "\\n")
        """
    )
    monkeypatch.setenv("PICK_LOG", str(pytester.path / "picks.log"))

    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=4)
    lines = [line.split() for line in (pytester.path / "picks.log").read_text().splitlines()]
    assert len(lines) == 4
    assert all(line[0].startswith("@") for line in lines), "workers know the portserver"
    picks = [port for line in lines for port in line[1:]]
    assert len(picks) == len(set(picks)) == 80
