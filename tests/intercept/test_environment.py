"""What an interception sets, what it restores, and where its test CA lives."""

from __future__ import annotations

import os
import ssl
import stat
import sys
import urllib.request

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from httpdouble import HTTPDoubleUsageError, HTTPServer, intercept
from httpdouble._intercept.authority import SessionCA, session_ca

PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
CAS = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def test_every_variable_is_set_for_the_interception_and_restored_exactly_after(
    server, monkeypatch
):
    monkeypatch.setenv("NO_PROXY", ".test,corp.example")  # would let .test past the server
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("SSL_CERT_DIR", "/etc/ssl/certs")
    monkeypatch.setenv("https_proxy", "http://proxy.corp.example:3128")
    for name in ("HTTP_PROXY", "ALL_PROXY", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    before = dict(os.environ)

    with intercept(server) as interception:
        during = dict(os.environ)

    assert dict(os.environ) == before
    proxy = f"http://127.0.0.1:{server.port}"
    assert interception.proxy_url == proxy
    assert {name: during[name] for name in PROXIES} == dict.fromkeys(PROXIES, proxy)
    assert during["NO_PROXY"] == during["no_proxy"] == "localhost,127.0.0.1,::1"
    assert {name: during[name] for name in CAS} == dict.fromkeys(CAS, interception.ca_bundle)
    assert "SSL_CERT_DIR" not in during
    assert interception.variables == {name: during.get(name) for name in interception.variables}


def test_the_ca_lives_in_a_private_folder_and_says_it_is_for_tests(server):
    with intercept(server) as interception:
        folder = os.path.dirname(interception.ca_bundle)
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
        for name in os.listdir(folder):
            path = os.path.join(folder, name)
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, name
            with open(path, "rb") as file:
                assert b"PRIVATE KEY" not in file.read(), f"{name} holds a key"
        with open(interception.ca_bundle, "rb") as file:
            certificate = x509.load_pem_x509_certificate(file.read())
    (organization,) = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert organization.value == "httpdouble test CA - not for production"


def test_a_ca_is_made_once_per_process_and_removed_with_its_folder():
    first = session_ca()
    assert session_ca() is first
    other = SessionCA()
    assert other.ca_bundle != first.ca_bundle
    other.remove()
    assert not os.path.exists(other.folder)


def test_without_trustme_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "trustme", None)
    with pytest.raises(HTTPDoubleUsageError, match=r"pip install 'pytest-httpdouble\[tls\]'"):
        SessionCA()


def test_urlopen_built_before_the_interception_is_put_aside_and_back(server):
    server.expect_request("/u").respond_with_data("u")
    earlier = urllib.request.build_opener()
    urllib.request.install_opener(earlier)
    try:
        with (
            intercept(server),
            urllib.request.urlopen("http://api.example.test/u", timeout=10) as response,
        ):
            assert response.read() == b"u"
        assert urllib.request._opener is earlier  # type: ignore[attr-defined]
    finally:
        urllib.request.install_opener(None)  # type: ignore[arg-type]


def test_interception_needs_a_running_plain_server_and_one_at_a_time(server):
    with pytest.raises(HTTPDoubleUsageError, match=r"call server\.start"):
        intercept(HTTPServer()).start()
    https = HTTPServer(ssl_context=ssl.create_default_context(ssl.Purpose.CLIENT_AUTH))
    https.start()
    try:
        with pytest.raises(HTTPDoubleUsageError, match="plain-HTTP server"):
            intercept(https).start()
    finally:
        https.stop()
    with intercept(server), pytest.raises(HTTPDoubleUsageError, match="intercepts already"):
        intercept(server).start()
    assert server.interception is None
