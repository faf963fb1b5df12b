"""How-to: match request headers, and the Authorization header by meaning."""

from __future__ import annotations

import pytest
import requests

from httpdouble import RequestMatcher


def test_listed_headers_must_be_present_and_others_are_free(httpserver):
    httpserver.expect_request(
        "/items", headers={"Accept": "application/json", "X-Request-Id": "42"}
    ).respond_with_json([])

    response = requests.get(
        httpserver.url_for("/items"),
        headers={"Accept": "application/json", "X-Request-Id": "42", "X-Other": "free"},
        timeout=5,
    )
    assert response.json() == []


def test_header_names_are_case_insensitive(httpserver):
    httpserver.expect_request("/items", headers={"x-request-id": "42"}).respond_with_data("ok")

    assert requests.get(httpserver.url_for("/items"), headers={"X-REQUEST-ID": "42"}, timeout=5).ok


def test_basic_authorization_is_compared_by_meaning(httpserver):
    # requests sends "Basic YWxpY2U6czNjcmV0"; the scheme is matched case-insensitively.
    httpserver.expect_request(
        "/private", headers={"Authorization": "basic YWxpY2U6czNjcmV0"}
    ).respond_with_data("welcome")

    response = requests.get(httpserver.url_for("/private"), auth=("alice", "s3cret"), timeout=5)
    assert response.text == "welcome"


def test_bearer_token_is_matched(httpserver):
    httpserver.expect_request(
        "/private", headers={"Authorization": "Bearer t0ken"}
    ).respond_with_data("welcome")

    response = requests.get(
        httpserver.url_for("/private"), headers={"Authorization": "Bearer t0ken"}, timeout=5
    )
    assert response.text == "welcome"
    httpserver.assert_request_made(
        RequestMatcher("/private", headers={"Authorization": "Bearer t0ken"})
    )


def test_a_missing_header_is_named_in_the_failure(httpserver):
    httpserver.expect_request("/private", headers={"Authorization": "Bearer t0ken"})

    assert requests.get(httpserver.url_for("/private"), timeout=5).status_code == 500
    with pytest.raises(AssertionError) as failure:
        httpserver.check_assertions()
    # The credential is masked in failures: its scheme, a prefix, and its length.
    assert "header Authorization: expected 'Bearer t…(len 12)', got no such header" in str(
        failure.value
    )
