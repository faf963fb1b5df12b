"""Names a pytest-httpserver user reaches for, beyond the user's guide."""

from __future__ import annotations

import pytest
from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import Request

from httpdouble import BakedHTTPServer, HTTPDoubleFailure, RequestDispatcher, RequestMatcher


def test_create_matcher_builds_a_request_matcher(dispatcher: RequestDispatcher) -> None:
    matcher = dispatcher.create_matcher("/a", method="POST")
    assert isinstance(matcher, RequestMatcher)
    assert matcher.describe() == "POST '/a'"


def test_handler_lists_show_what_is_registered(dispatcher: RequestDispatcher) -> None:
    permanent = dispatcher.expect_request("/p")
    oneshot = dispatcher.expect_oneshot_request("/o")
    ordered = dispatcher.expect_ordered_request("/r")
    assert dispatcher.handlers == [permanent]
    assert dispatcher.oneshot_handlers == [oneshot]
    assert dispatcher.ordered_handlers == [ordered]
    assert dispatcher.application is dispatcher


def test_add_assertion_fails_check_assertions_with_the_text(dispatcher: RequestDispatcher) -> None:
    dispatcher.add_assertion("the client retried 3 times")
    with pytest.raises(HTTPDoubleFailure, match="the client retried 3 times"):
        dispatcher.check_assertions()


def test_respond_nohandler_answers_and_records_like_an_unmatched_request(
    dispatcher: RequestDispatcher,
) -> None:
    request = Request(EnvironBuilder(path="/nowhere").get_environ())
    response = dispatcher.respond_nohandler(request, "extra words")
    assert response.status_code == 500
    assert response.get_data(as_text=True).rstrip().endswith("extra words")
    assert len(dispatcher.assertions) == 1
    assert dispatcher.respond_permanent_failure().status_code == 500


def test_baked_server_supplies_default_arguments(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    baked = dispatcher.bake(method="POST", headers={"X-Key": "k"})
    assert isinstance(baked, BakedHTTPServer)
    baked.expect_request("/a").respond_with_data("baked")
    baked.expect_oneshot_request("/b", method="PUT").respond_with_data("put")
    assert client.post("/a", headers={"X-Key": "k"}).get_data() == b"baked"
    assert client.get("/a").status_code == 500  # GET is not the baked method
    assert client.put("/b", headers={"X-Key": "k"}).get_data() == b"put"
    assert baked.format_matchers() == dispatcher.format_matchers()
    dispatcher.clear_assertions()
