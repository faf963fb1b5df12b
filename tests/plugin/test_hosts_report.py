"""Issue 26: requests for other hosts, as the teardown failure and the end-of-run report say them.

The requests come in absolute form, as a client sends them to its proxy, through the plain
``httpserver`` fixture: the same path the interception fixture's HTTP requests take.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ..support import Runner, load_json

SUITE = """
import http.client


def send(httpserver, url):
    conn = http.client.HTTPConnection(httpserver.host, httpserver.port, timeout=10)
    try:
        conn.request("POST", url, body=b'{"amount": 5}')
        return conn.getresponse().status
    finally:
        conn.close()


def test_charges(httpserver):
    httpserver.expect_request("https://api.example.test/v1/charges").respond_with_data("tls")
    httpserver.expect_request("/v1/charges", host="api.example.test").respond_with_data("ok")
    assert send(httpserver, "http://api.example.test/v1/charges") == 200
    assert send(httpserver, "http://api.example.test/v1/charges") == 200
    assert send(httpserver, "http://api.unknown.test/v1/charges?x=1") == 500


def test_plain(httpserver):
    httpserver.expect_request("/local").respond_with_data("ok")
    assert send(httpserver, httpserver.url_for("/local").replace("localhost", "127.0.0.1")) == 200
"""


def test_a_request_for_an_unknown_host_fails_the_test_and_the_report_counts_hosts(
    suite: pytest.Pytester, run: Runner, tmp_path: Path
) -> None:
    suite.makepyfile(test_hosts=SUITE)
    json_path = tmp_path / "report.json"
    result = run(f"--httpserver-report-json={json_path}")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "    1. no handler matched: POST http://api.unknown.test/v1/charges?x=1",
            "         request:  POST http://api.unknown.test/v1/charges?x=1",
            "         closest:  any method '/v1/charges' host 'api.example.test'",
            "           - host: expected 'api.example.test', got 'api.unknown.test'",
            "         to match it: httpserver.expect_request("
            "'http://api.unknown.test/v1/charges', method='POST',"
            " query_string={'x': '1'}, json={'amount': 5})",
            "         to replay it: curl -X POST --proxy http://localhost:* "
            "'http://api.unknown.test/v1/charges?x=1' --data-raw '{\"amount\": 5}'",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "httpdouble: 1 server, 2 tests used httpserver, 4 requests, 1 HTTP problem",
            "  requests for other hosts (through the proxy, or with a Host of their own):",
            "    api.example.test: 2 requests",
            "    api.unknown.test: 1 request, 1 unmatched",
            "1 HTTP problem failed 1 test (shown above):",
            "  test_hosts.py::test_charges [[]main[]]: no handler matched:"
            " POST http://api.unknown.test/v1/charges?x=1",
        ]
    )
    assert (
        "127.0.0.1: " not in result.stdout.str()
    )  # a request to the server itself is not counted
    data = load_json(json_path)
    assert data["hosts"] == [
        {"host": "api.example.test", "requests": 2, "unmatched": 0},
        {"host": "api.unknown.test", "requests": 1, "unmatched": 1},
    ]
    finding = data["problems"][0]["findings"][0]
    assert finding["request"]["origin"] == "http://api.unknown.test"
