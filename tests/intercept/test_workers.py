"""Interception under ``-n 2``: each worker through its own server, a stray host failing its
test at teardown with the host named, and the variables back as they were after every test,
also after a test that left its interception on.

One pytest run in a subprocess (xdist needs real processes) checks all three.
"""

from __future__ import annotations

import pytest

from ..support import Runner

CONFTEST = """
import os

import pytest


@pytest.fixture(autouse=True)
def environment_is_restored():
    # Set up before the fixture of the test, torn down after it: sees what it restored.
    before = dict(os.environ)
    yield
    after = dict(os.environ)
    for changing in (before, after):
        del changing["PYTEST_CURRENT_TEST"]
    assert after == before
"""

TESTS = """
import os

import pytest
import requests

from httpdouble import intercept


@pytest.mark.parametrize("scheme", ["https", "http", "https", "http"])
def test_intercepts_through_this_workers_server(
    httpserver_intercept, scheme, worker_id, pytestconfig
):
    httpserver_intercept.expect_request("/v1/ping").respond_with_data(worker_id)
    proxy = f"http://127.0.0.1:{httpserver_intercept.port}"
    assert os.environ["https_proxy"] == os.environ["HTTP_PROXY"] == proxy

    response = requests.get(f"{scheme}://api.example.test/v1/ping", timeout=10)

    assert response.text == worker_id
    with open(pytestconfig.rootpath / "intercepted.txt", "a") as seen:
        seen.write(f"{worker_id} {httpserver_intercept.port}\\n")


def test_an_interception_left_on_ends_with_the_test(httpserver):
    intercept(httpserver).start()
    assert os.environ["ALL_PROXY"] == f"http://127.0.0.1:{httpserver.port}"


def test_a_host_no_handler_covers(httpserver_intercept):
    httpserver_intercept.expect_request("/v1/charges", method="POST").respond_with_data("ok")

    response = requests.get("https://stray.example.test/v1/refunds", timeout=10)

    assert response.status_code == 500
"""


def test_each_worker_intercepts_through_its_own_server_and_a_stray_host_fails(
    suite: pytest.Pytester, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("https_proxy", "http://proxy.corp.example:3128")
    monkeypatch.setenv("NO_PROXY", ".test")
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    suite.makeconftest(CONFTEST)
    suite.makepyfile(test_intercepting=TESTS)

    result = run("-n", "2", "-p", "no:randomly")

    result.assert_outcomes(passed=6, errors=1)
    lines = (suite.path / "intercepted.txt").read_text().splitlines()
    assert len(lines) == 4
    seen = {tuple(line.split()) for line in lines}
    workers = {worker for worker, _ in seen}
    ports = {port for _, port in seen}
    assert workers == {"gw0", "gw1"}, result.stdout.str()
    assert len(ports) == 2, f"each worker has a server of its own: {seen}"
    text = result.stdout.str()
    assert "ERROR at teardown of test_a_host_no_handler_covers" in text
    assert "no handler matched: GET https://stray.example.test/v1/refunds" in text
