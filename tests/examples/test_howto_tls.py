"""How-to: serve HTTPS with the ``httpsserver`` fixture and trust it from the client."""

from __future__ import annotations

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


@pytest.mark.httpserver_nocheck  # the refused handshake is recorded as a finding on purpose
def test_a_client_that_does_not_trust_the_ca_is_refused(httpsserver):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(httpsserver.url_for("/secure"), timeout=5)
