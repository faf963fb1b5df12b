"""Issue 26: requests for other hosts, as the teardown failure and the end-of-run report say them.

The requests go through the ``httpserver_intercept`` fixture: ``requests`` takes the server for
its proxy and opens CONNECT tunnels for ``https://`` URLs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ..support import Runner, load_json

SUITE = """
import requests


def test_charges(httpserver_intercept):
    httpserver_intercept.expect_request(
        "https://api.example.test/v1/charges", method="POST"
    ).respond_with_json({"id": "ch_1"})
    for _ in range(2):
        reply = requests.post("https://api.example.test/v1/charges", json={"amount": 5})
        assert reply.json() == {"id": "ch_1"}
    reply = requests.post("https://api.unknown.test/v1/charges?x=1", json={"amount": 5})
    assert reply.status_code == 500


def test_plain(httpserver):
    httpserver.expect_request("/local").respond_with_data("ok")
    assert requests.get(httpserver.url_for("/local")).text == "ok"
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
            "    1. no handler matched: POST https://api.unknown.test/v1/charges?x=1",
            "         request:  POST https://api.unknown.test/v1/charges?x=1",
            "         closest:  POST '/v1/charges' host 'api.example.test' (https only)",
            "           - host: expected 'api.example.test', got 'api.unknown.test'",
            "         to match it: httpserver.expect_request("
            "'https://api.unknown.test/v1/charges', method='POST',"
            " query_string={'x': '1'}, json={'amount': 5})",
            "         to replay it: curl -X POST --proxy http://localhost:* --insecure "
            "'https://api.unknown.test/v1/charges?x=1' -H 'Content-Type: application/json'"
            " --data-raw '{\"amount\": 5}'",
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
            " POST https://api.unknown.test/v1/charges?x=1",
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
    assert finding["request"]["origin"] == "https://api.unknown.test"
