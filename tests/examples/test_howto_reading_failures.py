"""How-to: read a failure, and turn what it says into a fix."""

from __future__ import annotations

import pytest
import requests

from httpdouble import URI_DEFAULT, MethodTypoWarning


def test_the_closest_handler_is_the_one_a_person_would_pick(httpserver):
    for path in ("/v1/users", "/v1/orders", "/v1/products"):
        httpserver.expect_request(path, method="GET").respond_with_data("[]")

    response = requests.get(httpserver.url_for("/v1/prodcts"), params={"page": "2"}, timeout=5)

    assert response.status_code == 500
    assert "closest:  GET '/v1/products'" in response.text
    # Paste-ready: a registration that matches the request, and a curl command replaying it.
    assert (
        "to match it: httpserver.expect_request('/v1/prodcts', method='GET',"
        " query_string={'page': '2'})" in response.text
    )
    assert f"to replay it: curl -X GET '{httpserver.url_for('/v1/prodcts?page=2')}'" in (
        response.text
    )
    httpserver.clear_assertions()  # the miss above was on purpose


def test_json_differences_name_the_path_and_both_types(httpserver):
    httpserver.expect_request("/cart", method="POST", json={"sku": "a1", "qty": "2"})

    response = requests.post(httpserver.url_for("/cart"), json={"sku": "a1", "qty": 2}, timeout=5)

    assert "json qty: expected '2' (str), got 2 (int)" in response.text
    httpserver.clear_assertions()


def test_a_handler_hidden_by_an_earlier_one_says_so(httpserver):
    httpserver.expect_request(URI_DEFAULT, method="GET").respond_with_data("catch-all")
    httpserver.expect_request("/items", method="GET", headers={"X-Key": "k"})

    response = requests.delete(httpserver.url_for("/items"), headers={"X-Key": "k"}, timeout=5)

    assert "shadowed by: GET any path (registered earlier" in response.text
    httpserver.clear_assertions()


def test_a_misspelt_method_warns_at_registration(httpserver):
    with pytest.warns(MethodTypoWarning, match="'POTS' looks like a misspelling of 'POST'"):
        httpserver.expect_request("/orders", method="POTS")
    httpserver.clear()
