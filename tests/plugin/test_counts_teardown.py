"""A counted handler used too few times fails its test at teardown, saying how many of how many."""

from __future__ import annotations

import pytest

from ..support import Runner


def test_counted_handler_used_too_few_times_fails_at_teardown(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(
        """
        from client import get

        def test_retries(httpserver):
            httpserver.expect_request("/retry", method="GET", times=3).respond_with_data("ok")
            assert get(httpserver.url_for("/retry")) == (200, "ok")
            assert get(httpserver.url_for("/retry")) == (200, "ok")

        def test_all_retries(httpserver):
            httpserver.expect_request("/retry", times=2).respond_with_data("ok")
            for _ in range(2):
                assert get(httpserver.url_for("/retry")) == (200, "ok")
        """
    )
    result = run()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_retries*",
            "E   httpdouble.HTTPDoubleFailure: httpserver: 1 HTTP problem in this test",
            "*1. expectation used 2 of 3 times: GET '/retry'",
            "*to do:",
            "*send the expected number of requests, or lower times= on the expectation*",
        ]
    )
    result.stdout.no_fnmatch_line("*teardown of test_all_retries*")
