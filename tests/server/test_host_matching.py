"""Matching by host (``host=``) and the full-URL ``uri``, over real sockets.

Requests for other hosts reach the server the way a proxy client sends them: absolute-form
targets (``GET http://api.example.test/x HTTP/1.1``, here from ``http.client`` and a urllib3
``ProxyManager``), or over TLS with the ``Host`` header of the host they are for.
"""

from __future__ import annotations

import http.client
import re
import ssl
from collections.abc import Iterator

import pytest
import requests
import urllib3

from httpdouble import BlockingHTTPServer, HTTPServer, RequestMatcher
from httpdouble._server.tls import TLSCertificates

TIMEOUT = 10


def _absolute(
    server: HTTPServer, method: str, url: str, body: bytes | None = None
) -> tuple[int, str]:
    """Send ``url`` in absolute form to ``server``, as a client sends it to its proxy."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT)
    try:
        conn.request(method, url, body=body)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_handlers_for_one_path_on_two_hosts_each_answer_their_own_host(
    server: HTTPServer,
) -> None:
    server.expect_request("/v1/x", host="api.example.test").respond_with_data("example")
    server.expect_request("/v1/x", host="api.other.test").respond_with_data("other")
    assert _absolute(server, "GET", "http://api.other.test/v1/x") == (200, "other")
    assert _absolute(server, "GET", "http://API.Example.test/v1/x") == (200, "example")
    # Through a real proxy client too: urllib3 sends absolute-form GETs to its proxy.
    with urllib3.ProxyManager(server.url_for("/")) as proxy:
        reply = proxy.request("GET", "http://api.example.test/v1/x", timeout=TIMEOUT)
    assert (reply.status, reply.data) == (200, b"example")


def test_a_handler_without_host_serves_every_host(server: HTTPServer) -> None:
    server.expect_request("/x").respond_with_data("any")
    assert _absolute(server, "GET", "http://api.example.test/x") == (200, "any")
    assert requests.get(server.url_for("/x"), timeout=TIMEOUT).text == "any"


def test_a_host_without_port_means_the_default_port_and_a_port_only_that_port(
    server: HTTPServer,
) -> None:
    server.expect_request("/p", host="api.example.test:8443").respond_with_data("8443")
    server.expect_request("/p", host="api.example.test").respond_with_data("default")
    assert _absolute(server, "GET", "http://api.example.test:80/p") == (200, "default")
    assert _absolute(server, "GET", "http://api.example.test:8443/p") == (200, "8443")
    status, text = _absolute(server, "GET", "http://api.example.test:9000/p")
    assert status == 500
    assert "host: expected 'api.example.test', got 'api.example.test:9000'" in text
    server.clear()


def test_a_regex_and_an_object_with_a_match_method_match_the_host(server: HTTPServer) -> None:
    class EndsWith:
        def __init__(self, suffix: str) -> None:
            self.suffix = suffix

        def match(self, host: str) -> bool:
            return host.endswith(self.suffix)

    server.expect_request("/r", host=re.compile(r"[a-z]+\.example\.test")).respond_with_data("re")
    server.expect_request("/r", host=EndsWith(".other.test")).respond_with_data("obj")
    assert _absolute(server, "GET", "http://eu.example.test/r") == (200, "re")
    assert _absolute(server, "GET", "http://eu.other.test/r") == (200, "obj")
    # fullmatch: a longer host is not a match
    assert _absolute(server, "GET", "http://eu.example.test.evil/r")[0] == 500
    server.clear()


def test_a_full_url_matches_path_host_scheme_and_query(server: HTTPServer) -> None:
    server.expect_request("http://api.example.test/v1/q?page=2").respond_with_data("page 2")
    assert _absolute(server, "GET", "http://api.example.test/v1/q?page=2") == (200, "page 2")
    status, text = _absolute(server, "GET", "http://api.example.test/v1/q?page=3")
    assert status == 500
    assert "query_string: expected 'page=2', got 'page=3'" in text
    server.clear()


def test_url_for_as_the_uri_matches_requests_to_that_url(server: HTTPServer) -> None:
    server.expect_request(server.url_for("/x")).respond_with_data("itself")
    assert requests.get(server.url_for("/x"), timeout=TIMEOUT).text == "itself"


def test_the_closest_handler_is_the_one_for_the_requests_host(server: HTTPServer) -> None:
    server.expect_request("/v1/charges", method="POST", host="api.other.test")
    server.expect_request("/v1/charges", method="POST", host="api.example.test")
    status, _ = _absolute(server, "PUT", "http://api.example.test/v1/charges", b"{}")
    assert status == 500
    with pytest.raises(AssertionError) as failure:
        server.check_assertions()
    text = str(failure.value)
    assert "no handler matched: PUT http://api.example.test/v1/charges" in text
    assert "closest:  POST '/v1/charges' host 'api.example.test'" in text
    assert "- method: expected 'POST', got 'PUT'" in text
    assert "host: expected" not in text


def test_an_unknown_host_is_no_handler_matched_with_the_host_named(server: HTTPServer) -> None:
    server.expect_request("/v1/charges", host="api.example.test").respond_with_data("ok")
    status, text = _absolute(server, "GET", "http://api.unknown.test/v1/charges")
    assert status == 500
    assert "host: expected 'api.example.test', got 'api.unknown.test'" in text
    with pytest.raises(AssertionError) as failure:
        server.check_assertions()
    text = str(failure.value)
    assert "no handler matched: GET http://api.unknown.test/v1/charges" in text
    assert "to match it: httpserver.expect_request('http://api.unknown.test/v1/charges'" in text
    assert "curl -X GET --proxy http://" in text


def test_oneshot_and_ordered_handlers_take_host(server: HTTPServer) -> None:
    server.expect_ordered_request("/o", host="a.example.test").respond_with_data("a")
    server.expect_ordered_request("/o", host="b.example.test").respond_with_data("b")
    server.expect_oneshot_request("/once", host="a.example.test").respond_with_data("once")
    assert _absolute(server, "GET", "http://a.example.test/o") == (200, "a")
    assert _absolute(server, "GET", "http://b.example.test/o") == (200, "b")
    assert _absolute(server, "GET", "http://b.example.test/once")[0] == 500
    assert _absolute(server, "GET", "http://a.example.test/once") == (200, "once")
    server.clear()


def test_format_matchers_shows_host_and_scheme(server: HTTPServer) -> None:
    server.expect_request("https://api.example.test/v1/charges", method="POST")
    server.expect_request("/v1/x", host=re.compile(r".*\.test"))
    text = server.format_matchers()
    assert "uri='/v1/charges' method='POST'" in text
    assert "host='api.example.test' scheme='https'" in text
    assert "host=re.compile('.*\\\\.test')" in text


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


@pytest.mark.parametrize("host_header", ["api.example.test", "api.example.test:443"])
def test_an_https_url_matches_a_tls_request_with_its_host(
    tls_server: HTTPServer, certificates: TLSCertificates, host_header: str
) -> None:
    tls_server.expect_request("https://api.example.test/v1/charges").respond_with_data("tls")
    reply = requests.get(
        tls_server.url_for("/v1/charges"),
        headers={"Host": host_header},
        verify=str(certificates.ca_bundle),
        timeout=TIMEOUT,
    )
    assert (reply.status_code, reply.text) == (200, "tls")


def test_an_https_url_does_not_match_plain_http(server: HTTPServer) -> None:
    server.expect_request("https://api.example.test/v1/charges").respond_with_data("tls")
    status, text = _absolute(server, "GET", "http://api.example.test/v1/charges")
    assert status == 500
    assert "scheme: expected 'https', got 'http'" in text
    server.clear()


def test_an_http_host_with_port_443_is_not_the_https_default(
    tls_server: HTTPServer, certificates: TLSCertificates
) -> None:
    tls_server.expect_request("/s", host="api.example.test:443").respond_with_data("443")
    context = ssl.create_default_context(cafile=str(certificates.ca_bundle))
    conn = http.client.HTTPSConnection(tls_server.host, tls_server.port, context=context)
    try:
        conn.request("GET", "/s", headers={"Host": "api.example.test"})
        assert conn.getresponse().read() == b"443"
    finally:
        conn.close()


# ------------------------------------------------------------------- blocking


def test_assert_request_takes_host() -> None:
    server = BlockingHTTPServer(timeout=TIMEOUT)
    server.start()
    try:
        with urllib3.ProxyManager(server.url_for("/")) as proxy:
            import threading

            replies: list[int] = []
            thread = threading.Thread(
                target=lambda: replies.append(
                    proxy.request("GET", "http://api.example.test/b", timeout=TIMEOUT).status
                )
            )
            thread.start()
            server.assert_request("/b", host="api.example.test").respond_with_data("b")
            thread.join(TIMEOUT)
        assert replies == [200]
    finally:
        server.stop()


def test_a_matcher_built_by_hand_takes_host_too() -> None:
    matcher = RequestMatcher("/x", host="api.example.test")
    assert "host='api.example.test'" in repr(matcher)
