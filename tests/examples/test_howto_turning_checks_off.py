"""How-to: turn the automatic teardown check off for one test, or for a whole suite."""

from __future__ import annotations

import pytest
import requests


@pytest.mark.httpserver_nocheck
def test_a_marked_test_checks_its_traffic_itself(httpserver):
    httpserver.expect_request("/v1/items").respond_with_json([])

    # The code under test probes an endpoint that is not registered; this test accepts that.
    assert requests.get(httpserver.url_for("/v1/probe"), timeout=5).status_code == 500

    # Without the marker, the unmatched request would fail the test at teardown.
    # With it, check what you care about yourself:
    with pytest.raises(AssertionError, match="no handler matched"):
        httpserver.check_assertions()


UNMATCHED_TEST = """
import requests

def test_unmatched(httpserver):
    requests.get(httpserver.url_for("/nobody-home"), timeout=5)
"""


def test_without_the_marker_an_unmatched_request_fails_the_test(pytester):
    pytester.makepyfile(UNMATCHED_TEST)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*no handler matched: GET /nobody-home*"])


def test_the_ini_option_turns_the_check_off_for_the_whole_suite(pytester):
    pytester.makeini(
        """
        [pytest]
        httpserver_teardown_check = false
        """
    )
    pytester.makepyfile(UNMATCHED_TEST)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
    # The problem is not lost: the end-of-run report still lists it.
    result.stdout.fnmatch_lines(["*httpdouble report*", "*no handler matched: GET /nobody-home*"])


def test_a_test_can_have_every_connection_closed_after_its_response(httpserver):
    # For the whole suite: httpserver_keep_alive = false in the ini file.
    httpserver.keep_alive = False  # for this test only: the next test gets the ini value back
    httpserver.expect_request("/v1/token").respond_with_json({"token": "t"})

    with requests.Session() as session:  # a pooled client, as most clients are
        for _ in range(2):
            response = session.get(httpserver.url_for("/v1/token"), timeout=5)
            assert response.headers["Connection"] == "close"

    ports = {entry.request.environ["REMOTE_PORT"] for entry in httpserver.log_entries}
    assert len(ports) == 2  # one connection per request
