"""How-to: change responses with post hooks (slow, corrupted or edited answers)."""

from __future__ import annotations

import pytest
import requests
from werkzeug.wrappers import Request, Response

from httpdouble.hooks import Chain, Delay, Garbage


def test_a_delay_longer_than_the_client_timeout_times_the_client_out(httpserver):
    handler = httpserver.expect_oneshot_request("/slow")
    handler.with_post_hook(Delay(0.5)).respond_with_data("late")

    # wait() ends once the server has answered the delayed request, after its 0.5 s: the
    # request is then in this test's log, not in the next test's.
    with httpserver.wait(timeout=5), pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(httpserver.url_for("/slow"), timeout=0.1)


def test_garbage_surrounds_the_body_with_random_bytes(httpserver):
    httpserver.expect_request("/noisy").with_post_hook(
        Garbage(prefix_size=4, suffix_size=8)
    ).respond_with_data("hello")

    body = requests.get(httpserver.url_for("/noisy"), timeout=5).content

    assert len(body) == 4 + len("hello") + 8
    assert body[4:-8] == b"hello"


def add_trace_header(request: Request, response: Response) -> Response:
    """A hook of your own: any callable taking the request and the response."""
    response.headers["X-Trace"] = request.headers.get("X-Request-Id", "none")
    return response


def test_a_function_of_your_own_edits_the_response(httpserver):
    httpserver.expect_request("/traced").with_post_hook(add_trace_header).respond_with_data("ok")

    response = requests.get(
        httpserver.url_for("/traced"), headers={"X-Request-Id": "r-42"}, timeout=5
    )

    assert response.headers["X-Trace"] == "r-42"


def test_chain_runs_hooks_in_turn(httpserver):
    handler = httpserver.expect_request("/both")
    handler.with_post_hook(Chain(add_trace_header, Garbage(suffix_size=2)))
    handler.respond_with_data("ok")

    response = requests.get(httpserver.url_for("/both"), timeout=5)

    assert response.headers["X-Trace"] == "none"
    assert response.content[:2] == b"ok"
    assert len(response.content) == 4
