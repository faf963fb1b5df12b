"""How-to: build the response from the request with a function."""

from __future__ import annotations

import itertools

import pytest
import requests
from werkzeug.wrappers import Request, Response

from httpdouble import URI_DEFAULT


def test_a_handler_function_answers_from_the_request(httpserver):
    def echo(request: Request) -> Response:
        name = request.args.get("name", "stranger")
        return Response(f"hello {name}", mimetype="text/plain")

    httpserver.expect_request("/greet").respond_with_handler(echo)

    assert requests.get(httpserver.url_for("/greet?name=Ada"), timeout=5).text == "hello Ada"
    assert requests.get(httpserver.url_for("/greet"), timeout=5).text == "hello stranger"


def test_a_handler_function_can_keep_state_between_requests(httpserver):
    counter = itertools.count(1)

    def next_id(request: Request) -> Response:
        return Response(str(next(counter)))

    httpserver.expect_request("/ids", method="POST").respond_with_handler(next_id)

    with requests.Session() as session:
        ids = [session.post(httpserver.url_for("/ids"), timeout=5).text for _ in range(3)]
    assert ids == ["1", "2", "3"]


def test_a_handler_function_can_fail_the_first_attempt_then_succeed(httpserver):
    answers = iter([Response("busy", status=503), Response("done")])
    httpserver.expect_request(URI_DEFAULT).respond_with_handler(lambda request: next(answers))

    first = requests.get(httpserver.url_for("/job"), timeout=5)
    second = requests.get(httpserver.url_for("/job"), timeout=5)
    assert (first.status_code, second.text) == (503, "done")


def test_an_exception_in_a_handler_becomes_a_500_and_is_raised_by_check(httpserver):
    def broken(request: Request) -> Response:
        raise ValueError("the handler has a bug")

    httpserver.expect_request("/broken").respond_with_handler(broken)

    assert requests.get(httpserver.url_for("/broken"), timeout=5).status_code == 500
    with pytest.raises(ValueError, match="the handler has a bug"):
        httpserver.check_handler_errors()


def test_a_handler_function_can_stream_its_body_as_it_is_made(httpserver):
    def progress(request: Request) -> Response:
        def lines():
            for step in range(1, 4):
                yield f'{{"step": {step}}}\n'  # sent at once, before the next one is made

        return Response(lines(), mimetype="application/x-ndjson")

    httpserver.expect_request("/progress").respond_with_handler(progress)

    with requests.get(httpserver.url_for("/progress"), stream=True, timeout=5) as response:
        assert response.headers["Transfer-Encoding"] == "chunked"
        steps = [line for line in response.iter_lines() if line]
    assert steps == [b'{"step": 1}', b'{"step": 2}', b'{"step": 3}']
