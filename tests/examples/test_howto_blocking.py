"""How-to: answer each request from the test itself, one step at a time."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from httpdouble import BlockingHTTPServer


def fetch_with_one_retry(url: str) -> Any:
    """The code under test: asks again once when the server is busy."""
    with requests.Session() as session:
        response = session.get(url, timeout=10)
        if response.status_code == 503:
            response = session.get(url, timeout=10)
        response.raise_for_status()
        return response.json()


@pytest.fixture
def blocking_server() -> Iterator[BlockingHTTPServer]:
    server = BlockingHTTPServer(timeout=5)
    with server:
        yield server
    # stop() answered any request still waiting and kept it as a finding: fail on it here.
    server.check()


@pytest.fixture
def in_background() -> Iterator[Callable[..., concurrent.futures.Future[Any]]]:
    """Run the code under test on another thread: this one answers its requests."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        yield pool.submit


def test_the_client_retries_after_a_503(blocking_server, in_background):
    result = in_background(fetch_with_one_retry, blocking_server.url_for("/status"))

    first = blocking_server.assert_request("/status", method="GET", timeout=5)
    first.respond_with_data("busy, try again", status=503)
    second = blocking_server.assert_request("/status", method="GET", timeout=5)
    second.respond_with_json({"ready": True})

    assert result.result(timeout=10) == {"ready": True}


def test_the_answer_can_depend_on_the_request(blocking_server, in_background):
    url = blocking_server.url_for("/users")
    result = in_background(requests.post, url, json={"name": "Ada"}, timeout=10)

    handler = blocking_server.assert_request("/users", method="POST", timeout=5)
    name = handler.request.get_json()["name"]
    handler.respond_with_json({"id": 1, "name": name}, status=201)

    response = result.result(timeout=10)
    assert response.status_code == 201
    assert response.json() == {"id": 1, "name": "Ada"}
