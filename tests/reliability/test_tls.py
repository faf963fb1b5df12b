"""TLS: the HTTPS server with three client libraries; plain HTTP on it is a finding, not a hang."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import requests
import urllib3

from httpdouble import HTTPServer, Kind, Outcome
from httpdouble._server.tls import TLSCertificates

from ..support import Runner, has_ipv6_loopback
from .conftest import SOCKET_TIMEOUT
from .rawhttp import eventually, exchange


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> TLSCertificates:
    return TLSCertificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_server(certificates: TLSCertificates) -> Iterator[HTTPServer]:
    server = HTTPServer(ssl_context=certificates.server_context, no_handler_status_code=404)
    server.start()
    try:
        server.expect_request("/tls").respond_with_data("secret")
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


def _with_requests(url: str, certificates: TLSCertificates) -> tuple[int, bytes]:
    with requests.Session() as session:
        response = session.get(url, verify=certificates.ca_bundle, timeout=SOCKET_TIMEOUT)
        with response:
            return response.status_code, response.content


def _with_httpx(url: str, certificates: TLSCertificates) -> tuple[int, bytes]:
    with httpx.Client(verify=certificates.client_context(), timeout=SOCKET_TIMEOUT) as client:
        response = client.get(url)
        return response.status_code, response.content


def _with_urllib3(url: str, certificates: TLSCertificates) -> tuple[int, bytes]:
    with urllib3.PoolManager(ca_certs=certificates.ca_bundle, timeout=SOCKET_TIMEOUT) as pool:
        response = pool.request("GET", url)
        return response.status, response.data


CLIENTS: dict[str, Callable[[str, TLSCertificates], tuple[int, bytes]]] = {
    "requests": _with_requests,
    "httpx": _with_httpx,
    "urllib3": _with_urllib3,
}


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1"])
@pytest.mark.parametrize("client", CLIENTS.values(), ids=CLIENTS)
def test_https_server_is_verified_by_every_client_on_every_loopback_name(
    tls_server: HTTPServer,
    certificates: TLSCertificates,
    client: Callable[[str, TLSCertificates], tuple[int, bytes]],
    host: str,
) -> None:
    if host == "::1" and not has_ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback (::1)")
    url = f"https://{HTTPServer.format_host(host)}:{tls_server.port}/tls"

    assert client(url, certificates) == (200, b"secret")
    assert tls_server.url_for("/tls").startswith("https://")
    assert [e.outcome for e in tls_server.log_entries] == [Outcome.MATCHED]


def test_plain_http_on_the_tls_port_is_a_clear_finding_not_a_hang(
    tls_server: HTTPServer, certificates: TLSCertificates
) -> None:
    result = exchange(
        tls_server.port, b"GET /tls HTTP/1.1\r\nHost: localhost\r\n\r\n", shutdown=False
    )

    assert result.responses == []  # no TLS: nothing the client could read as HTTP
    eventually(lambda: bool(tls_server.findings), "a finding for the failed handshake")
    (finding,) = tls_server.findings
    assert finding.kind is Kind.MALFORMED
    assert "TLS handshake failed" in finding.detail
    assert "plain HTTP" in finding.detail
    assert [e.outcome for e in tls_server.log_entries] == [Outcome.MALFORMED]
    assert _with_requests(tls_server.url_for("/tls"), certificates) == (200, b"secret")


def test_plain_http_client_on_the_tls_port_gets_an_error_not_a_hang(
    tls_server: HTTPServer,
) -> None:
    with requests.Session() as session, pytest.raises(requests.ConnectionError):
        session.get(f"http://localhost:{tls_server.port}/tls", timeout=SOCKET_TIMEOUT)
    eventually(lambda: bool(tls_server.findings), "a finding for the failed handshake")
    assert [f.kind for f in tls_server.findings] == [Kind.MALFORMED]


def test_a_client_that_never_starts_the_handshake_blocks_nobody(
    tls_server: HTTPServer, certificates: TLSCertificates
) -> None:
    silent = [
        socket.create_connection(("127.0.0.1", tls_server.port), timeout=SOCKET_TIMEOUT)
        for _ in range(10)
    ]
    try:
        for _ in range(3):
            assert _with_httpx(tls_server.url_for("/tls"), certificates) == (200, b"secret")
    finally:
        for sock in silent:
            sock.close()


def test_stop_closes_connections_still_in_their_tls_handshake(
    tls_server: HTTPServer,
) -> None:
    silent = [
        socket.create_connection(("127.0.0.1", tls_server.port), timeout=3.0) for _ in range(2)
    ]
    try:
        tls_server.stop()
        for sock in silent:
            # EOF, or a reset for a connection stop() found still in the listen backlog:
            # either way the client sees the connection end (a hang raises TimeoutError).
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(1) == b""
    finally:
        for sock in silent:
            sock.close()
    assert tls_server.findings == []  # a connection closed by stop() is not the client's fault


def test_certificate_authority_is_written_only_where_asked(tmp_path: Path) -> None:
    certificates = TLSCertificates(tmp_path / "certs")
    assert [p.name for p in tmp_path.rglob("*")] == ["certs", "httpdouble-ca.pem"]
    assert Path(certificates.ca_bundle).parent == tmp_path / "certs"


def test_httpsserver_fixture_works_with_requests_httpx_and_urllib3(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(
        """
        import threading

        import httpx
        import pytest
        import requests
        import urllib3

        def test_requests(httpsserver, httpsserver_certificates):
            httpsserver.expect_request("/r").respond_with_data("r")
            with requests.Session() as session:
                response = session.get(
                    httpsserver.url_for("/r"), verify=httpsserver_certificates.ca_bundle
                )
                assert response.text == "r"
                response.close()

        def test_httpx(httpsserver, httpsserver_certificates):
            httpsserver.expect_request("/x").respond_with_data("x")
            context = httpsserver_certificates.client_context()
            with httpx.Client(verify=context) as client:
                assert client.get(httpsserver.url_for("/x")).text == "x"

        def test_urllib3(httpsserver, httpsserver_certificates):
            httpsserver.expect_request("/u").respond_with_data("u")
            with urllib3.PoolManager(ca_certs=httpsserver_certificates.ca_bundle) as pool:
                assert pool.request("GET", httpsserver.url_for("/u")).data == b"u"

        def test_plain_http_to_it_is_a_finding(httpsserver):
            with pytest.raises(requests.ConnectionError):
                requests.get(httpsserver.url_for("/p").replace("https:", "http:"), timeout=10)
            pause = threading.Event()
            for _ in range(500):  # the finding may be recorded just after the socket closed
                if httpsserver.findings:
                    break
                pause.wait(0.01)

        def test_make_httpsserver_is_the_same_server(make_httpsserver, httpsserver):
            assert make_httpsserver is httpsserver
            assert httpsserver.url_for("/").startswith("https://localhost:")
        """
    )
    result = run()
    result.assert_outcomes(passed=5, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_plain_http_to_it_is_a_finding*",
            "*malformed request*",
            "*TLS handshake failed*",
        ]
    )
