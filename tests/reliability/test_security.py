"""Security: loopback by default, non-loopback only on request and with a warning.

No test here sends traffic to a non-loopback address; the non-loopback server
is never started.
"""

from __future__ import annotations

import http.client
import ipaddress
from pathlib import Path

import psutil
import pytest

from httpdouble import HTTPDoubleUsageError, HTTPServer, NonLoopbackWarning

from ..support import Runner, has_ipv6_loopback
from .conftest import SOCKET_TIMEOUT


def _listening_addresses(port: int) -> set[str]:
    return {
        c.laddr.ip
        for c in psutil.Process().net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    }


def test_default_server_listens_on_loopback_only() -> None:
    server = HTTPServer()
    assert server.host == "localhost"
    server.start()
    try:
        addresses = _listening_addresses(server.port)
    finally:
        server.stop()
    assert addresses
    assert all(ipaddress.ip_address(address).is_loopback for address in addresses)
    expected = {"127.0.0.1", "::1"} if has_ipv6_loopback() else {"127.0.0.1"}
    assert addresses == expected


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "2001:db8::1", "example.invalid"])
def test_non_loopback_host_without_the_explicit_argument_is_refused(host: str) -> None:
    with pytest.raises(HTTPDoubleUsageError) as raised:
        HTTPServer(host)
    message = str(raised.value)
    assert host in message
    assert "loopback" in message
    assert "allow_non_loopback=True" in message


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_non_loopback_host_with_the_explicit_argument_warns(host: str) -> None:
    with pytest.warns(NonLoopbackWarning, match="other machines"):
        server = HTTPServer(host, allow_non_loopback=True)
    assert not server.is_running()  # never started: no traffic leaves loopback here


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.0.0.2", "::1"])
def test_loopback_hosts_need_no_argument_and_do_not_warn(host: str) -> None:
    HTTPServer(host)  # warnings are errors in this suite


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_localhost_serves_both_ipv4_and_ipv6_loopback(address: str) -> None:
    if address == "::1" and not has_ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback (::1)")
    with HTTPServer("localhost") as server:
        server.expect_request("/where").respond_with_data("here")
        connection = http.client.HTTPConnection(address, server.port, timeout=SOCKET_TIMEOUT)
        try:
            connection.request("GET", "/where")
            response = connection.getresponse()
            assert (response.status, response.read()) == (200, b"here")
        finally:
            connection.close()
        (request, _) = server.log[0]
        assert request.remote_addr == address


def test_non_loopback_host_from_the_command_line_is_a_clear_error(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile("def test_uses_server(httpserver):\n    pass\n")
    result = run("--httpserver-host=0.0.0.0")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*invalid host*", "*loopback*", "*allow_non_loopback=True*"])


def _files(root: Path) -> set[Path]:
    return {
        p.relative_to(root)
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_a_run_writes_nothing_outside_pytest_temporary_directories(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(
        """
        import requests
        from client import get

        def test_http(httpserver):
            httpserver.expect_request("/a").respond_with_data("a")
            assert get(httpserver.url_for("/a")) == (200, "a")
            get(httpserver.url_for("/unexpected"))

        def test_https(httpsserver, httpsserver_certificates):
            httpsserver.expect_request("/s").respond_with_data("s")
            with requests.Session() as session:
                response = session.get(
                    httpsserver.url_for("/s"), verify=httpsserver_certificates.ca_bundle
                )
                assert response.text == "s"
                response.close()
        """
    )
    before = _files(suite.path)
    result = run("-n", "2")
    result.assert_outcomes(passed=2, errors=1)
    created = _files(suite.path) - before
    basetemp = Path("runpytest-0")  # pytester's --basetemp for the first subprocess run
    pytester_capture = {Path("stdout"), Path("stderr")}  # pytester's own capture of the run
    outside = {p for p in created - pytester_capture if not p.is_relative_to(basetemp)}
    assert outside == set()
    assert any(p.name == "httpdouble-ca.pem" for p in created)
