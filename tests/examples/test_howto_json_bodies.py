"""How-to: match JSON request bodies and answer with JSON."""

from __future__ import annotations

import json

import httpx


def test_json_matches_the_decoded_body_whatever_its_spelling(httpserver):
    httpserver.expect_request(
        "/orders", method="POST", json={"item": "tea", "qty": 2}
    ).respond_with_json({"id": 1}, status=201)

    # Key order and whitespace do not matter: the body is decoded before comparing.
    body = '{ "qty": 2,   "item": "tea" }'
    response = httpx.post(
        httpserver.url_for("/orders"),
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201
    assert response.json() == {"id": 1}


def test_json_types_are_compared_strictly(httpserver):
    httpserver.expect_request("/flags", method="POST", json={"on": True}).respond_with_data("ok")

    # 1 is not true: this request does not match, and the server answers 500.
    assert httpx.post(httpserver.url_for("/flags"), json={"on": 1}).status_code == 500
    assert httpx.post(httpserver.url_for("/flags"), json={"on": True}).text == "ok"
    assert len(httpserver.assertions) == 1
    httpserver.clear_assertions()  # the first request was wrong on purpose


def test_null_is_a_json_value_of_its_own(httpserver):
    httpserver.expect_request("/nothing", method="PUT", json=None).respond_with_data("ok")

    assert httpx.put(httpserver.url_for("/nothing"), content=b"null").text == "ok"


def test_the_logged_request_body_can_be_inspected(httpserver):
    httpserver.expect_request("/events", method="POST").respond_with_data("", status=204)

    httpx.post(httpserver.url_for("/events"), json={"kind": "click", "x": 3})

    request, response = httpserver.log[0]
    assert json.loads(request.get_data()) == {"kind": "click", "x": 3}
    assert response.status_code == 204
