"""Tutorial: the first test. The code under test is a small function that calls an HTTP API."""

from __future__ import annotations

import pytest
import requests


def fetch_username(base_url: str, user_id: int) -> str:
    """The code under test: ask the API for a user and return its name."""
    response = requests.get(f"{base_url.rstrip('/')}/users/{user_id}", timeout=5)
    response.raise_for_status()
    return str(response.json()["name"])


def test_fetch_username_reads_the_name_from_the_api(httpserver):
    httpserver.expect_request("/users/7", method="GET").respond_with_json({"name": "Ada"})

    assert fetch_username(httpserver.url_for(""), 7) == "Ada"


def test_fetch_username_raises_when_the_user_does_not_exist(httpserver):
    httpserver.expect_request("/users/8").respond_with_data("no such user", status=404)

    with pytest.raises(requests.HTTPError, match="404"):
        fetch_username(httpserver.url_for(""), 8)
