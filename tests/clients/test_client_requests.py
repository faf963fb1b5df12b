"""The requests library against the plugin's server."""

from __future__ import annotations

import requests


def test_requests_session_reuses_one_connection_for_several_requests(httpserver):
    httpserver.expect_request("/r", method="GET").respond_with_json({"ok": True})
    httpserver.expect_request("/r", method="POST", json={"n": 1}).respond_with_data("", status=201)

    with requests.Session() as session:
        assert session.get(httpserver.url_for("/r"), timeout=5).json() == {"ok": True}
        assert session.post(httpserver.url_for("/r"), json={"n": 1}, timeout=5).status_code == 201
        assert session.get(httpserver.url_for("/r"), timeout=5).json() == {"ok": True}

    assert len(httpserver.log) == 3
