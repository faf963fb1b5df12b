"""How-to: serve HTTPS with the ``httpsserver`` fixture and trust it from the client."""

from __future__ import annotations

import time

import httpx
import pytest
import requests
import urllib3


def test_requests_verifies_the_server_with_the_test_ca(httpsserver, httpsserver_certificates):
    httpsserver.expect_request("/secure").respond_with_json({"tls": True})
    url = httpsserver.url_for("/secure")
    assert url.startswith("https://")
    response = requests.get(url, verify=httpsserver_certificates.ca_bundle, timeout=5)
    assert response.json() == {"tls": True}


def test_httpx_and_urllib3_trust_the_test_ca(httpsserver, httpsserver_certificates):
    httpsserver.expect_request("/secure").respond_with_json({"tls": True})
    url = httpsserver.url_for("/secure")
    with httpx.Client(verify=httpsserver_certificates.client_context()) as client:
        assert client.get(url).json() == {"tls": True}
    with urllib3.PoolManager(ca_certs=httpsserver_certificates.ca_bundle) as pool:
        assert pool.request("GET", url).json() == {"tls": True}


def test_a_client_that_does_not_trust_the_ca_is_refused(httpsserver):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(httpsserver.url_for("/secure"), timeout=5)
    # The server records the refused handshake as a problem (on its own thread, maybe a
    # moment after the client gave up): this test expects it, so it checks it.
    deadline = time.monotonic() + 5
    while not httpsserver.findings and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(AssertionError, match="TLS handshake failed"):
        httpsserver.check_assertions()
