"""host= and full-URL handlers, reached through the httpserver_intercept fixture.

The contract with the interception: inside a tunnel a request has scheme ``https`` and the
host it was sent to; an absolute-form one has its URL's scheme and host.
"""

from __future__ import annotations

import httpx
import pytest
import requests


def test_each_host_gets_its_own_handler_over_https_and_http(httpserver_intercept):
    httpserver_intercept.expect_request("/v1/me", host="api.example.test").respond_with_data("api")
    httpserver_intercept.expect_request("/v1/me", host="auth.example.test").respond_with_data(
        "auth"
    )

    assert requests.get("https://auth.example.test/v1/me", timeout=10).text == "auth"
    assert requests.get("https://api.example.test/v1/me", timeout=10).text == "api"
    with httpx.Client(timeout=10) as client:
        assert client.get("http://auth.example.test/v1/me").text == "auth"


def test_a_full_url_handler_serves_its_scheme_only(httpserver_intercept):
    httpserver_intercept.expect_request("https://api.example.test/v1/x").respond_with_data("tls")
    httpserver_intercept.expect_request("http://api.example.test/v1/x").respond_with_data("plain")

    assert requests.get("https://api.example.test/v1/x", timeout=10).text == "tls"
    assert requests.get("http://api.example.test/v1/x", timeout=10).text == "plain"


def test_a_request_for_another_host_is_named_with_its_scheme_and_host(httpserver_intercept):
    httpserver_intercept.expect_request("https://api.example.test/v1/charges", method="POST")

    reply = requests.post("https://api.other.test/v1/charges", timeout=10)

    assert reply.status_code == 500
    assert "host: expected 'api.example.test', got 'api.other.test'" in reply.text
    with pytest.raises(AssertionError) as failure:
        httpserver_intercept.check_assertions()
    text = str(failure.value)
    assert "no handler matched: POST https://api.other.test/v1/charges" in text
    assert "httpserver.expect_request('https://api.other.test/v1/charges', method='POST')" in text
    assert (
        "host: your code sent the request to 'api.other.test', the handler is for"
        " 'api.example.test': if your code calls that host on purpose, register a handler"
    ) in text
    assert httpserver_intercept.application.views.hosts == {"api.other.test": [1, 1]}
    httpserver_intercept.clear()
