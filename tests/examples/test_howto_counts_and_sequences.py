"""How-to: expect a request a number of times, and answer it differently each time."""

from __future__ import annotations

import json

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry
from werkzeug.wrappers import Request, Response


def fetch_with_retries(url: str) -> str:
    """The code under test: retry up to three times on 503, then give the body."""
    retry = Retry(total=3, status_forcelist=[503], backoff_factor=0)
    with requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=retry))
        reply = session.get(url, timeout=5)
        reply.raise_for_status()
        return reply.text


def test_the_client_retries_until_the_service_answers(httpserver):
    # Exactly three requests: two 503s, then the answer. Fewer fail the test at teardown.
    httpserver.expect_request("/status", method="GET", times=3).respond_with_sequence(
        [Response(status=503), Response(status=503), Response("ready")]
    )

    assert fetch_with_retries(httpserver.url_for("/status")) == "ready"


def test_a_counted_handler_is_used_before_the_permanent_fallback(httpserver):
    httpserver.expect_request("/token").respond_with_data("fallback")
    httpserver.expect_request("/token", times=2).respond_with_data("fresh")

    bodies = [requests.get(httpserver.url_for("/token"), timeout=5).text for _ in range(3)]

    assert bodies == ["fresh", "fresh", "fallback"]


def test_a_sequence_item_may_be_a_handler_function(httpserver):
    def created(request: Request) -> Response:
        body = json.dumps({"id": 7, "name": request.json["name"]})
        return Response(body, status=201, mimetype="application/json")

    httpserver.expect_request("/users", method="POST").respond_with_sequence(
        [created, Response("duplicate", status=409)], then="fail"
    )

    first = requests.post(httpserver.url_for("/users"), json={"name": "ada"}, timeout=5)
    second = requests.post(httpserver.url_for("/users"), json={"name": "ada"}, timeout=5)

    assert (first.status_code, first.json()) == (201, {"id": 7, "name": "ada"})
    assert second.status_code == 409
