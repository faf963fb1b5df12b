"""How-to: serve HTTPS with a certificate from a throw-away certificate authority."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests
import trustme

from httpdouble import HTTPServer


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def https_server(certificate_authority: trustme.CA) -> Iterator[HTTPServer]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("localhost", "127.0.0.1", "::1").configure_cert(
        server_context
    )
    with HTTPServer(ssl_context=server_context) as server:
        yield server


@pytest.fixture
def httpsserver(https_server: HTTPServer) -> Iterator[HTTPServer]:
    """Like ``httpserver``: cleared before the test and checked after it."""
    https_server.clear()
    yield https_server
    https_server.check()
    https_server.clear()


@pytest.fixture(scope="module")
def ca_bundle(certificate_authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tls") / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(path))
    return path


def test_requests_verifies_the_server_with_the_test_ca(httpsserver, ca_bundle):
    httpsserver.expect_request("/secure").respond_with_data("encrypted")

    url = httpsserver.url_for("/secure")
    assert url.startswith("https://")
    assert requests.get(url, verify=str(ca_bundle), timeout=5).text == "encrypted"


def test_httpx_trusts_the_test_ca_through_an_ssl_context(httpsserver, certificate_authority):
    httpsserver.expect_request("/secure").respond_with_json({"tls": True})

    client_context = ssl.create_default_context()
    certificate_authority.configure_trust(client_context)
    with httpx.Client(verify=client_context) as client:
        assert client.get(httpsserver.url_for("/secure")).json() == {"tls": True}


def test_a_client_that_does_not_trust_the_ca_is_refused(httpsserver):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(httpsserver.url_for("/secure"), timeout=5)
    # The failed handshake is recorded as a finding: forget it, it was on purpose.
    httpsserver.clear()
