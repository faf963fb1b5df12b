"""What a request no handler took says over the wire: closest handler, shadowing, replay lines."""

from __future__ import annotations

import json
import shlex

import pytest

from httpdouble import URI_DEFAULT, HTTPDoubleFailure, HTTPServer

from .clients import HTTPClient


def test_no_handler_answer_names_the_most_similar_path_and_a_replay(
    server: HTTPServer, client: HTTPClient
) -> None:
    for path in ("/v1/users", "/v1/orders", "/v1/products"):
        server.expect_request(path, method="GET").respond_with_data("ok")
    reply = client.get(server.url_for("/v1/prodcts?page=2"))
    lines = reply.text.splitlines()
    assert "  closest:  GET '/v1/products'" in lines
    assert "    - uri: expected '/v1/products', got '/v1/prodcts'" in lines
    assert (
        "  to match it: httpserver.expect_request('/v1/prodcts', method='GET',"
        " query_string={'page': '2'})"
    ) in lines
    [curl] = [line for line in lines if line.startswith("  to replay it: ")]
    assert shlex.split(curl.removeprefix("  to replay it: ")) == [
        "curl",
        "-X",
        "GET",
        server.url_for("/v1/prodcts?page=2"),
    ]


def test_no_handler_answer_says_when_the_closest_handler_is_shadowed(
    server: HTTPServer, client: HTTPClient
) -> None:
    server.expect_request(URI_DEFAULT, method="POST").respond_with_data("catch-all")
    server.expect_request("/items", method="GET", headers={"X-Tenant": "k"}).respond_with_data("")
    reply = client.get(server.url_for("/items"), headers={"X-Tenant": "other"})
    lines = reply.text.splitlines()
    assert "  closest:  GET '/items' header X-Tenant='k'" in lines
    assert "  shadowed by:" not in reply.text  # POST-only does not hide a GET handler
    server.clear()

    server.expect_request(URI_DEFAULT, method="GET").respond_with_data("catch-all")
    server.expect_request("/items", method="GET", headers={"X-Tenant": "k"}).respond_with_data("")
    reply = client.request("DELETE", server.url_for("/items"), headers={"X-Tenant": "k"})
    lines = reply.text.splitlines()
    assert "  closest:  GET '/items' header X-Tenant='k'" in lines
    assert (
        "  shadowed by: GET any path (registered earlier, matches every request this one would)"
    ) in lines
    server.clear()


def test_shadowed_handler_is_named_in_the_teardown_failure(
    server: HTTPServer, client: HTTPClient
) -> None:
    server.expect_request("/items").respond_with_data("first")
    server.expect_request("/items", method="PUT", json={"qty": 1}).respond_with_data("never")
    server.expect_request("/other", method="GET").respond_with_data("")
    reply = client.request("PUT", server.url_for("/itemz"), body=b'{"qty": 1}')
    assert reply.status == 500
    with pytest.raises(HTTPDoubleFailure) as info:
        server.check_assertions()
    lines = str(info.value).splitlines()
    assert "     closest:  PUT '/items' json {'qty': 1}" in lines
    assert (
        "     shadowed by: any method '/items'"
        " (registered earlier, matches every request this one would)"
    ) in lines


def test_json_differences_reach_the_client_with_path_and_types(
    server: HTTPServer, client: HTTPClient
) -> None:
    expected = {"items": [{"sku": f"s{i}", "qty": str(i)} for i in range(10)], "b": 1}
    sent = {"items": [{"sku": f"s{i}", "qty": str(i)} for i in range(10)], "c": 2}
    sent["items"][9]["qty"] = 9  # type: ignore[index]
    server.expect_request("/cart", method="POST", json=expected).respond_with_data("")
    reply = client.post(
        server.url_for("/cart"),
        json.dumps(sent).encode(),
        headers={"Content-Type": "application/json"},
    )
    lines = reply.text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  closest:  POST '/cart'"))
    assert lines[start + 1 : start + 4] == [
        "    - json items[9].qty: expected '9' (str), got 9 (int)",
        "    - json b: expected 1 (int), got missing key 'b'",
        "    - json c: expected no key 'c', got extra key 'c': 2 (int)",
    ]
    # No handler to paste for the request as sent: it lacks key 'b', a check the test has.
    assert not [line for line in lines if line.startswith("  to match it: ")]
    with pytest.raises(HTTPDoubleFailure) as failure:
        server.check_assertions()
    assert (
        "  - your code sent no JSON b; the expectation has 1 (int): make your code send it"
    ) in str(failure.value).splitlines()
    server.clear()
