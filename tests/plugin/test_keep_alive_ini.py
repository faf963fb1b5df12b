"""The ini option ``httpserver_keep_alive``: the fixtures' servers close after each response."""

from __future__ import annotations

import pytest

from ..support import SUITE_INI, Runner

POOLED = """
import requests


def test_a_pooled_client_opens_a_connection_per_request(httpserver):
    assert httpserver.keep_alive is False
    httpserver.expect_request("/static").respond_with_data("s")
    httpserver.expect_request("/function").respond_with_handler(lambda request: "f")
    with requests.Session() as session:
        for path in ["/static", "/function", "/static", "/function"]:
            response = session.get(httpserver.url_for(path), timeout=10)
            assert response.headers["Connection"] == "close"
    ports = {entry.request.environ["REMOTE_PORT"] for entry in httpserver.log_entries}
    assert len(ports) == 4


def test_a_test_may_turn_it_on_for_itself(httpserver):
    httpserver.keep_alive = True
    httpserver.expect_request("/static").respond_with_data("s")
    with requests.Session() as session:
        for _ in range(3):
            assert "Connection" not in session.get(httpserver.url_for("/static")).headers
    ports = {entry.request.environ["REMOTE_PORT"] for entry in httpserver.log_entries}
    assert len(ports) == 1


def test_the_next_test_gets_the_ini_value_back(httpserver):
    assert httpserver.keep_alive is False
"""


def test_ini_keep_alive_false_gives_one_connection_per_request(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(test_pooled=POOLED)
    suite.makeini(f"{SUITE_INI}httpserver_keep_alive = false\n")
    result = run("-p", "no:randomly")
    result.assert_outcomes(passed=3)


def test_a_bad_keep_alive_value_is_one_line_at_startup(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile("def test_nothing(httpserver):\n    pass\n")
    suite.makeini("[pytest]\nhttpserver_keep_alive = sometimes\n")
    result = run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [text for text in result.stderr.lines if text] == [
        "ERROR: httpdouble: the ini option httpserver_keep_alive is 'sometimes';"
        " expected true or false (also: yes/no, on/off, 1/0)"
    ]
