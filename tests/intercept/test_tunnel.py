"""CONNECT tunnels and absolute-form requests on the wire, with a raw socket for a client."""

from __future__ import annotations

import socket
import ssl
import time

import certifi
import pytest

from httpdouble import HTTPServer, intercept

ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"


def _connect(server: HTTPServer, target: str, version: str = "HTTP/1.0") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    host = f"Host: {target}\r\n" if version == "HTTP/1.1" else ""
    sock.sendall(f"CONNECT {target} {version}\r\n{host}\r\n".encode())
    assert sock.recv(len(ESTABLISHED)) == ESTABLISHED
    return sock


def _read_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _tls(sock: socket.socket, server_name: str | None, interception, alpn=None) -> ssl.SSLSocket:
    context = interception.client_ssl_context()
    if server_name is None:
        context.check_hostname = False
    if alpn:
        context.set_alpn_protocols(alpn)
    return context.wrap_socket(sock, server_hostname=server_name)


def _wait_for_findings(server: HTTPServer) -> None:
    deadline = time.monotonic() + 5
    while not server.findings and time.monotonic() < deadline:
        time.sleep(0.01)


def test_connect_to_a_server_that_does_not_intercept_is_refused_with_the_remedy(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"CONNECT api.example.test:443 HTTP/1.0\r\n\r\n")
        answer = _read_response(sock)

    assert answer.startswith(b"HTTP/1.1 400 ")
    _wait_for_findings(server)
    with pytest.raises(AssertionError) as failure:
        server.check_assertions()
    text = str(failure.value)
    assert "CONNECT api.example.test:443" in text
    assert "httpserver_intercept" in text


def test_the_tunnel_offers_http_1_1_only_even_to_a_client_that_prefers_h2(server):
    server.expect_request("/alpn").respond_with_data("one")
    with intercept(server) as interception:
        raw = _connect(server, "api.example.test:443", "HTTP/1.1")
        with _tls(raw, "api.example.test", interception, ["h2", "http/1.1"]) as tls:
            assert tls.selected_alpn_protocol() == "http/1.1"
            tls.sendall(b"GET /alpn HTTP/1.1\r\nHost: api.example.test\r\n\r\n")
            assert _read_response(tls).startswith(b"HTTP/1.1 200 ")


def test_the_certificate_is_for_the_name_the_client_asks_for(server):
    with intercept(server) as interception:
        raw = _connect(server, "api.example.test:443")
        # SNI says another host than CONNECT: the client verifies the certificate for it.
        with _tls(raw, "other.example.test", interception) as tls:
            names = [value for _, value in tls.getpeercert()["subjectAltName"]]
    assert names == ["other.example.test"]


def test_without_sni_the_certificate_and_host_are_the_connect_targets(server):
    server.expect_request("/no-sni").respond_with_data("ok")
    with intercept(server) as interception:
        raw = _connect(server, "api.example.test:8443")
        with _tls(raw, None, interception) as tls:
            tls.sendall(b"GET /no-sni HTTP/1.0\r\n\r\n")  # no Host header either
            assert _read_response(tls).startswith(b"HTTP/1.1 200 ")
            der = tls.getpeercert(binary_form=True)
    assert b"api.example.test" in der
    (entry,) = server.log_entries
    assert (entry.request.scheme, entry.request.host) == ("https", "api.example.test:8443")
    assert entry.request.environ["httpdouble.tunnel"] == "api.example.test:8443"


def test_a_tunnel_without_host_header_drops_the_default_port(server):
    server.expect_request("/x").respond_with_data("ok")
    with intercept(server) as interception:
        raw = _connect(server, "api.example.test:443")
        with _tls(raw, "api.example.test", interception) as tls:
            tls.sendall(b"GET /x HTTP/1.0\r\n\r\n")
            assert _read_response(tls).startswith(b"HTTP/1.1 200 ")
    assert server.log_entries[0].request.host == "api.example.test"


def test_plain_http_after_connect_is_served_as_http(server):
    server.expect_request("/plain").respond_with_data("plain")
    with intercept(server):
        sock = _connect(server, "api.example.test:80")
        with sock:
            sock.sendall(b"GET /plain HTTP/1.1\r\nHost: api.example.test\r\n\r\n")
            assert _read_response(sock).startswith(b"HTTP/1.1 200 ")
    (entry,) = server.log_entries
    assert (entry.request.scheme, entry.request.host) == ("http", "api.example.test")
    assert entry.request.environ["httpdouble.tunnel"] == "api.example.test:80"


def test_an_absolute_form_request_takes_the_urls_scheme_and_host(server):
    server.expect_request("/abs").respond_with_data("ok")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"GET https://api.example.test:443/abs?q=1 HTTP/1.1\r\nHost: elsewhere.test\r\n\r\n"
        )
        assert _read_response(sock).startswith(b"HTTP/1.1 200 ")
    (entry,) = server.log_entries
    request = entry.request
    assert (request.scheme, request.host, request.path) == ("https", "api.example.test", "/abs")
    assert request.args["q"] == "1"
    assert "httpdouble.tunnel" not in request.environ


def test_a_tls_handshake_the_client_refuses_is_a_finding_naming_the_host(server):
    with intercept(server):
        raw = _connect(server, "api.example.test:443")
        # certifi's CAs, not the test CA (the default context would read SSL_CERT_FILE now)
        context = ssl.create_default_context(cafile=certifi.where())
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(raw, server_hostname="api.example.test")
        raw.close()
        _wait_for_findings(server)
    with pytest.raises(AssertionError) as failure:
        server.check_assertions()
    text = str(failure.value)
    assert "api.example.test" in text
    assert "verify=" in text
    assert "SSL_CERT_FILE" in text


def test_connect_inside_a_tunnel_and_a_bad_target_are_refused(server):
    with intercept(server):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"CONNECT /not-an-authority HTTP/1.0\r\n\r\n")
            assert _read_response(sock).startswith(b"HTTP/1.1 400 ")
        sock = _connect(server, "api.example.test:80")
        with sock:
            sock.sendall(b"CONNECT api.example.test:443 HTTP/1.0\r\n\r\n")
            assert _read_response(sock).startswith(b"HTTP/1.1 400 ")
        _wait_for_findings(server)
    assert len(server.take_findings(clear=True)) == 2


def test_stop_ends_an_open_tunnel(server):
    with intercept(server) as interception:
        raw = _connect(server, "api.example.test:443")
        tls = _tls(raw, "api.example.test", interception)
        server.stop()  # returns: it does not wait for the idle tunnel's client
        assert not server.is_running()
        # The server closed its end of the tunnel: the client reads the end of the stream.
        tls.settimeout(10)
        try:
            received = tls.recv(1)
        except TimeoutError:
            raise AssertionError("the tunnel stayed open after stop()") from None
        except OSError:  # ssl.SSLError included: the connection ended
            received = b""
        assert received == b""
        tls.close()
    server.start()  # the fixture stops it again


def test_a_server_name_no_certificate_can_be_issued_for_fails_the_handshake(server):
    with intercept(server) as interception:
        raw = _connect(server, "api.example.test:443")
        context = interception.client_ssl_context()
        context.check_hostname = False
        with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
            context.wrap_socket(raw, server_hostname="not a host name!")
        raw.close()
        _wait_for_findings(server)
    (finding,) = server.take_findings(clear=True)
    assert "TLS handshake failed in the tunnel to api.example.test:443" in finding.render()
