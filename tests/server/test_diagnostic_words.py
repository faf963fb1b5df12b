"""Secrets masked and refusals named, through real sockets and real clients."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests

from httpdouble import HTTPServer, Kind, Limits
from httpdouble._matching.secret_names import SHOW_SECRETS_ENV
from httpdouble._server.tls import TLSCertificates

TOKEN = "Bearer s3cr3t-0123456789abcdef0123456789"  # 40 characters
TIMEOUT = 10.0


@pytest.fixture(autouse=True)
def _secrets_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SHOW_SECRETS_ENV, raising=False)


def _finding_of(server: HTTPServer) -> str:
    """The one finding's text, once the server has recorded it (bounded: 5 s)."""
    pause = threading.Event()
    for _ in range(500):  # a refused connection may close before its finding is kept
        if server.findings:
            break
        pause.wait(0.01)
    (finding,) = server.findings
    assert finding.kind is Kind.MALFORMED
    return finding.render()


def test_no_handler_body_masks_the_token_sent_and_the_token_expected(server: HTTPServer) -> None:
    server.expect_request("/me", headers={"Authorization": TOKEN}).respond_with_data("me")
    wrong = TOKEN.replace("0123", "9999", 1)
    with requests.Session() as session:
        response = session.get(
            server.url_for("/me?api_key=abcdefghij"),
            headers={"Authorization": wrong, "Cookie": "session=0123456789"},
            timeout=TIMEOUT,
        )
        with response:
            body = response.text
    assert response.status_code == 500
    assert "GET /me?api_key=ab…(len 10)" in body
    assert "Authorization: Bearer s3…(len 40)" in body
    assert "Cookie: se…(len 18)" in body
    assert (
        "header Authorization: expected 'Bearer s3…(len 40)', got 'Bearer s3…(len 40)'"
        " (differ at char 15)" in body
    )
    for secret in ("s3cr3t", "abcdefghij", "0123456789"):
        assert secret not in body
    with pytest.raises(AssertionError) as failure:
        server.check_assertions()
    assert "s3cr3t" not in str(failure.value)
    assert "(differ at char 15)" in str(failure.value)
    server.clear()


def test_show_secrets_environment_variable_shows_the_token_in_the_body(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SHOW_SECRETS_ENV, "1")
    server.expect_request("/me", headers={"Authorization": TOKEN}).respond_with_data("me")
    with httpx.Client(timeout=TIMEOUT) as client:
        body = client.get(server.url_for("/me"), headers={"Authorization": "Bearer x"}).text
    assert f"expected {TOKEN!r}, got 'Bearer x'" in body
    server.clear()


# ------------------------------------------------------------------------ TLS


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> TLSCertificates:
    return TLSCertificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_server(certificates: TLSCertificates) -> Iterator[HTTPServer]:
    server = HTTPServer(ssl_context=certificates.server_context)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


def test_a_client_that_does_not_trust_the_ca_is_told_to_trust_the_bundle(
    tls_server: HTTPServer, tmp_path: Path
) -> None:
    untrusting = ssl.create_default_context(cafile=str(TLSCertificates(tmp_path).ca_bundle))
    with pytest.raises(httpx.ConnectError), httpx.Client(verify=untrusting) as client:
        client.get(tls_server.url_for("/"))
    text = _finding_of(tls_server)
    assert "the client rejected the server's certificate" in text
    assert "trust httpsserver_certificates.ca_bundle" in text
    assert "plain HTTP" not in text


def test_plain_http_to_the_https_port_is_named_as_such(tls_server: HTTPServer) -> None:
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        with contextlib.suppress(ConnectionResetError):  # the server closes it: not TLS
            sock.recv(1024)
    text = _finding_of(tls_server)
    assert "the client spoke plain HTTP to this HTTPS server" in text
    assert "server.url_for()" in text
    assert "ca_bundle" not in text


# --------------------------------------------------------------------- limits


@pytest.mark.parametrize(
    ("limits", "send", "status", "named"),
    [
        (Limits(max_body_bytes=16), {"content": b"x" * 64}, 413, "max_body_bytes=16"),
        (Limits(max_request_line=64), {"path": "/" + "a" * 100}, 414, "max_request_line=64"),
        (Limits(max_header_count=3), {"headers": {f"X-{n}": "1" for n in range(6)}}, 431,
         "max_header_count=3"),
    ],
)  # fmt: skip
def test_a_request_over_a_limit_names_the_limit_and_the_remedy(
    server: HTTPServer, limits: Limits, send: dict[str, object], status: int, named: str
) -> None:
    server.limits = limits
    server.expect_request("/", method="POST").respond_with_data("ok")
    path = str(send.get("path", "/"))
    with httpx.Client(timeout=TIMEOUT) as client:
        response = client.post(
            server.url_for(path),
            content=send.get("content", b""),  # type: ignore[arg-type]
            headers=send.get("headers"),  # type: ignore[arg-type]
        )
    assert response.status_code == status
    text = _finding_of(server)
    assert named in text
    assert "not invalid HTTP" in text
    assert "server.limits = Limits(" in text
    with pytest.raises(AssertionError) as failure:
        server.check_assertions()
    assert "not valid HTTP;" not in str(failure.value)
    assert "over a limit" in str(failure.value)
    server.clear()
