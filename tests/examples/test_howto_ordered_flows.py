"""How-to: require requests in a given order."""

from __future__ import annotations

import requests


def checkout(base_url: str) -> str:
    """The code under test: log in, add to the cart, then pay."""
    with requests.Session() as session:
        session.post(f"{base_url}/login", timeout=5).raise_for_status()
        session.post(f"{base_url}/cart", json={"item": "tea"}, timeout=5).raise_for_status()
        return session.post(f"{base_url}/pay", timeout=5).text


def test_ordered_requests_are_served_in_registration_order(httpserver):
    httpserver.expect_ordered_request("/login", method="POST").respond_with_data("ok")
    httpserver.expect_ordered_request(
        "/cart", method="POST", json={"item": "tea"}
    ).respond_with_data("added")
    httpserver.expect_ordered_request("/pay", method="POST").respond_with_data("paid")

    assert checkout(httpserver.url_for("").rstrip("/")) == "paid"


def test_requests_that_no_ordered_handler_matches_fall_through_when_opted_in(httpserver):
    httpserver.ordered_fall_through = True  # this test only: the fixture resets it
    httpserver.expect_ordered_request("/login", method="POST").respond_with_data("ok")
    httpserver.expect_ordered_request("/cart", method="POST").respond_with_data("added")
    httpserver.expect_ordered_request("/pay", method="POST").respond_with_data("paid")
    # A permanent handler for something the flow does not order: a health check.
    httpserver.expect_request("/health").respond_with_data("up")

    assert requests.get(httpserver.url_for("/health"), timeout=5).text == "up"
    assert checkout(httpserver.url_for("").rstrip("/")) == "paid"


def test_an_out_of_order_request_makes_the_server_refuse_everything_until_clear(httpserver):
    httpserver.expect_ordered_request("/login", method="POST").respond_with_data("ok")
    httpserver.expect_ordered_request("/pay", method="POST").respond_with_data("paid")

    assert requests.post(httpserver.url_for("/pay"), timeout=5).status_code == 500
    assert requests.post(httpserver.url_for("/login"), timeout=5).status_code == 500
    assert httpserver.permanently_failed

    httpserver.clear()  # the mistakes above were on purpose
    assert not httpserver.permanently_failed
