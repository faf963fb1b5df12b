"""How-to: see a run's HTTP traffic in a browser, as one HTML file or in pytest-html rows."""

from __future__ import annotations

import html

import pytest

CLIENT_TESTS = """
import requests

def test_reads_the_forecast(httpserver):
    httpserver.expect_request("/v1/forecast").respond_with_json({"high": 21})
    assert requests.get(httpserver.url_for("/v1/forecast"), timeout=5).json() == {"high": 21}

def test_posts_an_observation(httpserver):
    httpserver.expect_request("/v1/observations", method="POST").respond_with_data("", 201)
    requests.post(httpserver.url_for("/v1/observation"), json={"t": -3.5}, timeout=5)
"""


def test_the_html_report_is_one_file_written_at_the_end_of_the_run(pytester):
    pytester.makepyfile(CLIENT_TESTS)

    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--httpserver-report-html=reports/http.html"
    )

    result.assert_outcomes(passed=2, errors=1)  # the POST went to the wrong path
    page = (pytester.path / "reports" / "http.html").read_text(encoding="utf-8")
    assert "POST /v1/observation</b>" in page
    assert "no handler matched: POST /v1/observation" in page


def test_the_ini_file_can_ask_for_it_for_every_run(pytester):
    pytester.makeini(
        """
        [pytest]
        httpserver_report_html = reports/http.html
        """
    )
    pytester.makepyfile(CLIENT_TESTS)

    pytester.runpytest_subprocess("-p", "no:cacheprovider")

    assert (pytester.path / "reports" / "http.html").exists()


def test_pytest_html_rows_carry_each_test_s_traffic(pytester):
    pytest.importorskip("pytest_html")
    pytester.makepyfile(CLIENT_TESTS)

    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--html=reports/tests.html")

    # pytest-html keeps its rows as escaped JSON. Each row has our extra: the failing test has
    # two rows (its call passed, its teardown failed), so three in all.
    page = html.unescape((pytester.path / "reports" / "tests.html").read_text(encoding="utf-8"))
    assert page.count('<div class=\\"httpdouble\\">') == 3
