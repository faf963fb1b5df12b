"""The recording through pytest: the marker, --httpserver-record, the config fixture, the
cassettes beside the test file, xdist, the failure text, and the printed code as a test."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ..support import Runner

CONFTEST = """
import os

import pytest

from httpdouble import HTTPServer


@pytest.fixture(scope="session")
def api():
    server = HTTPServer("127.0.0.1", 0)
    server.expect_request("/items", method="GET").respond_with_json({"items": ["pen"]})
    server.expect_request("/items", method="POST").respond_with_json({"id": 2}, status=201)
    server.expect_request("/readme").respond_with_data("plain text")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def httpserver_record_config(api):
    if os.environ.get("UPSTREAM_GONE"):  # replay must not need it: a port nobody answers
        return {"upstream": "http://127.0.0.1:9"}
    return {"upstream": api.url_for("/")}
"""

TEST_API = """
import pytest
import requests

pytestmark = pytest.mark.httpserver_record

TOKEN = "tok-5e5e5e5e"


def test_items(httpserver):
    base = httpserver.url_for("/").rstrip("/")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert requests.get(f"{base}/items", headers=auth).json() == {"items": ["pen"]}
    assert requests.post(f"{base}/items", json={"name": "ink"}, headers=auth).status_code == 201


@pytest.mark.parametrize("name", ["1", "a/b"])
def test_readme(httpserver, name):
    assert requests.get(httpserver.url_for("/readme"), params={"n": name}).text == "plain text"
"""


def test_recorded_under_xdist_then_replayed_without_the_upstream_and_a_change_reported(
    suite: pytest.Pytester, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite.makeconftest(CONFTEST)
    suite.makepyfile(test_api=TEST_API)
    recorded = run("-n", "2", "--httpserver-record=once")
    recorded.assert_outcomes(passed=3)
    folder = suite.path / "cassettes" / "test_api"
    names = sorted(p.name for p in folder.iterdir())
    assert names[:2] == ["test_items.json", "test_readme[1].json"]
    assert names[2].startswith("test_readme[a-b]-")
    assert len(names) == 3  # no temporary file left behind
    for path in folder.iterdir():
        assert b"tok-5e5e5e5e" not in path.read_bytes()
    items = json.loads((folder / "test_items.json").read_text())
    assert [e["request"]["method"] for e in items["exchanges"]] == ["GET", "POST"]

    # Replay, serially, with the upstream unreachable; the code now makes another request
    # and no longer posts; the printed code of the cassette runs as a test of its own.
    monkeypatch.setenv("UPSTREAM_GONE", "1")
    code = subprocess.run(
        [sys.executable, "-m", "httpdouble", "cassette", str(folder / "test_items.json")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    body = "\n".join("    " + line for line in code.splitlines())
    suite.makepyfile(
        test_from_code=f"""
import requests


def test_items_from_code(httpserver):
{body}
    base = httpserver.url_for("/").rstrip("/")
    assert requests.get(f"{{base}}/items").json() == {{"items": ["pen"]}}
    assert requests.post(f"{{base}}/items", json={{"name": "ink"}}).status_code == 201
"""
    )
    changed = TEST_API.replace(
        'assert requests.post(f"{base}/items", json={"name": "ink"}, headers=auth).status_code'
        " == 201",
        'assert requests.get(f"{base}/readme").status_code == 500',
    )
    changed = changed.replace('params={"n": name}', 'params={"n": name + "-new"}')
    assert changed.count("-new") == 1
    suite.makepyfile(test_api=changed)
    suite.makepyfile(
        test_bad_marker="""
import pytest


@pytest.mark.httpserver_record(upstream="ftp://files.example.test")
def test_bad_upstream(httpserver):
    pass
"""
    )
    replayed = run()
    # test_items fails at teardown, each test_readme in its call, test_bad_upstream at setup
    replayed.assert_outcomes(passed=2, failed=2, errors=2)
    replayed.stdout.fnmatch_lines(
        [
            "*no handler matched: GET /readme*",
            "*expectation never used: oneshot POST '/items'*",
            "*this test replays the cassette cassettes/test_api/test_items.json (mode none)*",
            "*record again with --httpserver-record=all*",
        ]
    )
    assert "ERROR test_api.py::test_items" in replayed.stdout.str()
    # A failed call shows the HTTP problems in its own section, which names the cassette too.
    replayed.stdout.fnmatch_lines(
        [
            "*HTTP problems of this test (httpdouble)*",
            "*no handler matched: GET /readme?n=1-new*",
            "*this test replays the cassette cassettes/test_api/test_readme[[]1[]].json*",
        ]
    )
    replayed.stdout.fnmatch_lines(
        [
            "*invalid upstream*",
            "*expected: a base URL: http:// or https://, a host, maybe a port and a path*",
            "*got:      'ftp://files.example.test'*",
        ]
    )
