"""How-to: match query strings, exactly or by their decoded arguments."""

from __future__ import annotations

import requests

from httpdouble import BooleanQueryMatcher, RequestMatcher


def test_a_string_matches_the_raw_query_string_exactly(httpserver):
    httpserver.expect_request("/search", query_string="q=owl&page=2").respond_with_data("found")

    assert requests.get(httpserver.url_for("/search?q=owl&page=2"), timeout=5).text == "found"
    # Same arguments in another order: a different raw string, so no match (500).
    assert requests.get(httpserver.url_for("/search?page=2&q=owl"), timeout=5).status_code == 500
    httpserver.clear_assertions()  # the 500 above was on purpose


def test_a_mapping_matches_decoded_arguments_in_any_order(httpserver):
    httpserver.expect_request(
        "/search", query_string={"q": "snow owl", "page": "2"}
    ).respond_with_data("found")

    response = requests.get(
        httpserver.url_for("/search"), params={"page": "2", "q": "snow owl"}, timeout=5
    )
    assert response.text == "found"


def test_a_list_value_matches_a_repeated_argument(httpserver):
    httpserver.expect_request("/tags", query_string={"tag": ["a", "b"]}).respond_with_data("ok")

    response = requests.get(
        httpserver.url_for("/tags"), params=[("tag", "a"), ("tag", "b")], timeout=5
    )
    assert response.text == "ok"


def test_a_boolean_matcher_accepts_any_query_string(httpserver):
    httpserver.expect_request("/any", query_string=BooleanQueryMatcher(True)).respond_with_data(
        "ok"
    )

    assert requests.get(httpserver.url_for("/any?x=1&y=2"), timeout=5).text == "ok"
    # Afterwards, count what arrived with a matcher of its own:
    assert (
        httpserver.get_matching_requests_count(RequestMatcher("/any", query_string="x=1&y=2")) == 1
    )
