"""How-to: match requests by host, or by their full URL."""

from __future__ import annotations

import re

import requests


def test_two_services_on_one_path_each_get_their_own_handler(httpserver_intercept):
    httpserver_intercept.expect_request("/v1/status", host="api.example.test").respond_with_data(
        "api"
    )
    httpserver_intercept.expect_request("/v1/status", host="auth.example.test").respond_with_data(
        "auth"
    )

    # The code under test calls the real URLs; the fixture makes the server its proxy.
    assert requests.get("https://auth.example.test/v1/status", timeout=5).text == "auth"
    assert requests.get("https://api.example.test/v1/status", timeout=5).text == "api"


def test_a_full_url_sets_path_host_and_scheme_at_once(httpserver_intercept):
    # The same as expect_request("/v1/charges", method="POST", host="api.example.test"),
    # for HTTPS only: a plain-HTTP request for this URL is not a match.
    httpserver_intercept.expect_request(
        "https://api.example.test/v1/charges", method="POST"
    ).respond_with_json({"id": "ch_1"})

    reply = requests.post("https://api.example.test/v1/charges", json={"amount": 5}, timeout=5)
    assert reply.json() == {"id": "ch_1"}


def test_a_regex_matches_a_family_of_hosts(httpserver_intercept):
    httpserver_intercept.expect_request(
        "/ping", host=re.compile(r"[a-z]+\.example\.test")
    ).respond_with_data("pong")

    assert requests.get("https://eu.example.test/ping", timeout=5).text == "pong"
    assert requests.get("https://us.example.test/ping", timeout=5).text == "pong"


def test_without_host_a_handler_serves_every_host(httpserver):
    httpserver.expect_request("/ping").respond_with_data("pong")
    # The server's own URL has the host "localhost:PORT": a handler without host= takes it.
    assert requests.get(httpserver.url_for("/ping"), timeout=5).text == "pong"
