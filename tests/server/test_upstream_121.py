"""pytest-httpserver 1.2.x's additions over real sockets: data_form=, with_check(),
CaseInsensitiveHeaderValueMatcher and the empty query value rule."""

from __future__ import annotations

import concurrent.futures
import re
from collections.abc import Iterator

import httpx
import pytest
import requests
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from httpdouble import (
    CaseInsensitiveHeaderValueMatcher,
    HTTPDoubleFailure,
    HTTPServer,
    Kind,
)
from httpdouble._server.blocking import BlockingHTTPServer

from .clients import HTTPClient

TIMEOUT = 30
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# ------------------------------------------------------------------ data_form


@pytest.mark.parametrize(
    "register", ["expect_request", "expect_oneshot_request", "expect_ordered_request"]
)
def test_data_form_serves_a_posted_form_with_repeated_and_empty_fields(
    server: HTTPServer, register: str
) -> None:
    form = MultiDict([("tag", "a"), ("tag", "b"), ("name", "José + %"), ("flag", "")])
    getattr(server, register)("/form", method="POST", data_form=form).respond_with_data("ok")
    response = requests.post(
        server.url_for("/form"), data=list(form.items(multi=True)), timeout=TIMEOUT
    )
    assert (response.status_code, response.text) == (200, "ok")
    server.check()


def test_data_form_leaves_the_raw_body_and_the_form_to_the_handler(
    server: HTTPServer, client: HTTPClient
) -> None:
    def echo(request: Request) -> Response:
        return Response(request.form["name"] + "|" + request.get_data(as_text=True))

    server.expect_request("/form", data_form={"name": "Ada"}).respond_with_handler(echo)
    reply = client.post(server.url_for("/form"), b"name=Ada", headers=FORM)
    assert (reply.status, reply.text) == (200, "Ada|name=Ada")
    server.check()


def test_a_form_data_form_does_not_match_is_a_500_naming_the_field(server: HTTPServer) -> None:
    server.expect_request("/form", data_form={"name": "Ada"}).respond_with_data("ok")
    response = httpx.post(server.url_for("/form"), data={"name": "Bob"}, timeout=TIMEOUT)
    assert response.status_code == 500
    assert "data_form: expected {'name': 'Ada'}, got {'name': 'Bob'}" in response.text
    with pytest.raises(HTTPDoubleFailure, match="No handler found for request POST /form"):
        server.check_assertions()


def test_bake_passes_data_form_on(server: HTTPServer) -> None:
    baked = server.bake(method="POST", data_form={"k": "v"})
    baked.expect_request("/baked").respond_with_data("baked")
    response = requests.post(server.url_for("/baked"), data={"k": "v"}, timeout=TIMEOUT)
    assert response.text == "baked"


@pytest.fixture
def blocking() -> Iterator[BlockingHTTPServer]:
    server = BlockingHTTPServer(timeout=10)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_blocking_assert_request_checks_data_form(blocking: BlockingHTTPServer) -> None:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        url = blocking.url_for("/form")
        future = pool.submit(requests.post, url, data={"a": "1"}, timeout=TIMEOUT)
        handler = blocking.assert_request("/form", method="POST", data_form={"a": "1"}, timeout=10)
        handler.respond_with_data("taken")
        assert future.result(timeout=TIMEOUT).text == "taken"

        future = pool.submit(requests.post, url, data={"a": "2"}, timeout=TIMEOUT)
        with pytest.raises(AssertionError, match=re.escape("data_form: expected {'a': '1'}")):
            blocking.assert_request("/form", data_form={"a": "1"}, timeout=10)
        assert future.result(timeout=TIMEOUT).status_code == 500
    blocking.clear()


# ------------------------------------------------------------------ with_check


def test_with_check_passes_and_yields_the_server(server: HTTPServer) -> None:
    server.expect_ordered_request("/first").respond_with_data(status=204)
    server.expect_ordered_request("/second").respond_with_data(status=204)
    with server.with_check() as checked:
        assert checked is server
        for path in ("/first", "/second"):
            assert requests.get(server.url_for(path), timeout=TIMEOUT).status_code == 204


def test_with_check_fails_on_a_request_after_the_ordered_ones(server: HTTPServer) -> None:
    server.expect_ordered_request("/first").respond_with_data(status=204)

    def first_then_late() -> None:
        assert requests.get(server.url_for("/first"), timeout=TIMEOUT).status_code == 204
        assert requests.get(server.url_for("/late"), timeout=TIMEOUT).status_code == 500

    with pytest.raises(AssertionError) as raised, server.with_check():
        first_then_late()
    text = str(raised.value)
    assert text.startswith("No handler found for request GET /late\n")
    assert "1. no handler matched: GET /late" in text
    assert server.findings[0].kind is Kind.NO_HANDLER


def test_with_check_raises_the_handlers_own_exception(server: HTTPServer) -> None:
    error = ValueError("handler failed")

    def handler(request: Request) -> Response:
        raise error

    server.expect_request("/boom").respond_with_handler(handler)
    with pytest.raises(ValueError, match="handler failed") as raised, server.with_check():
        assert requests.get(server.url_for("/boom"), timeout=TIMEOUT).status_code == 500
    assert raised.value is error


def test_with_check_lets_the_blocks_exception_through_and_checks_nothing(
    server: HTTPServer,
) -> None:
    error = RuntimeError("client failed")

    def unexpected_then_fail() -> None:
        assert requests.get(server.url_for("/unexpected"), timeout=TIMEOUT).status_code == 500
        raise error

    with pytest.raises(RuntimeError) as raised, server.with_check():
        unexpected_then_fail()
    assert raised.value is error
    assert len(server.assertions) == 1  # not checked, so still there to check


def test_with_check_works_on_a_blocking_server_too(blocking: BlockingHTTPServer) -> None:
    with blocking.with_check() as checked:
        assert checked is blocking


# ------------------------------------------------- case-insensitive header names


def test_case_insensitive_header_value_matcher_over_the_wire(server: HTTPServer) -> None:
    lenient = CaseInsensitiveHeaderValueMatcher(
        {"x-TOKEN": lambda actual, expected: (actual or "").lower() == expected.lower()}
    )
    server.bake(header_value_matcher=lenient).expect_request(
        "/opt-in", headers={"X-Token": "abc"}
    ).respond_with_data("in")
    server.expect_request("/default", headers={"X-Token": "abc"}).respond_with_data("default")
    headers = {"x-token": "ABC"}
    assert requests.get(server.url_for("/opt-in"), headers=headers, timeout=TIMEOUT).text == "in"
    default = requests.get(server.url_for("/default"), headers=headers, timeout=TIMEOUT)
    assert default.status_code == 500
    server.clear()


# ------------------------------------------------------- empty query values (1.2.0)


def test_an_empty_query_value_must_be_in_the_expected_mapping(server: HTTPServer) -> None:
    server.expect_request("/q", query_string={"foo": "123"}).respond_with_data("without")
    server.expect_request("/q", query_string={"flag": "", "foo": "123"}).respond_with_data("with")
    response = requests.get(server.url_for("/q?flag=&foo=123"), timeout=TIMEOUT)
    assert response.text == "with"
    response = requests.get(server.url_for("/q?foo=123"), timeout=TIMEOUT)
    assert response.text == "without"
    server.check()
