"""How-to: match requests by host, or by their full URL."""

from __future__ import annotations

import re

import requests
import urllib3


def test_two_services_on_one_path_each_get_their_own_handler(httpserver):
    httpserver.expect_request("/v1/status", host="api.example.test").respond_with_data("api")
    httpserver.expect_request("/v1/status", host="auth.example.test").respond_with_data("auth")

    # A client that uses the server as its HTTP proxy sends the full URL: the server reads
    # the host from it. (The interception fixture sets this up for every client.)
    with urllib3.ProxyManager(httpserver.url_for("/")) as proxy:
        assert proxy.request("GET", "http://auth.example.test/v1/status").data == b"auth"
        assert proxy.request("GET", "http://api.example.test/v1/status").data == b"api"


def test_a_full_url_sets_path_host_and_scheme_at_once(httpserver):
    httpserver.expect_request(
        "http://api.example.test/v1/charges", method="POST"
    ).respond_with_json({"id": "ch_1"})
    # The same as: expect_request("/v1/charges", method="POST", host="api.example.test"),
    # for http only ("https://..." matches only requests that came over TLS).
    with urllib3.ProxyManager(httpserver.url_for("/")) as proxy:
        reply = proxy.request("POST", "http://api.example.test/v1/charges")
    assert reply.json() == {"id": "ch_1"}


def test_a_regex_matches_a_family_of_hosts(httpserver):
    httpserver.expect_request(
        "/ping", host=re.compile(r"[a-z]+\.example\.test")
    ).respond_with_data("pong")
    with urllib3.ProxyManager(httpserver.url_for("/")) as proxy:
        assert proxy.request("GET", "http://eu.example.test/ping").data == b"pong"


def test_without_host_a_handler_serves_every_host(httpserver):
    httpserver.expect_request("/ping").respond_with_data("pong")
    # The server's own URL has the host "localhost:PORT": a handler without host= takes it.
    assert requests.get(httpserver.url_for("/ping"), timeout=5).text == "pong"
