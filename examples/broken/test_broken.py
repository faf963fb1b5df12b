"""Deliberate HTTP mistakes: run with ``nox -s demo -- --broken`` to see the problem report."""

from __future__ import annotations

import contextlib
import threading

import pytest
import requests
from forecast import ForecastClient

# test_leaves_a_request_behind's thread sends its request once the test has ended.
LATE = threading.Event()
SENDERS: list[threading.Thread] = []


@pytest.fixture
def client(httpserver):
    return ForecastClient(httpserver.url_for("/"), token="s3cret")


def test_wrong_query_parameter(httpserver, client):
    # The client sends city=Oslo; the test expects city=Bergen.
    httpserver.expect_request("/v1/forecast", query_string={"city": "Bergen"}).respond_with_json(
        {}
    )
    with pytest.raises(Exception):  # noqa: B017, PT011 - the 500 makes the client raise
        client.today("Oslo")


def test_wrong_json_body(httpserver, client):
    httpserver.expect_request(
        "/v1/observations", method="POST", json={"city": "Oslo", "t": "-3.5"}
    ).respond_with_data("", status=201)
    assert client.report("Oslo", -3.5) == 500


def test_expected_request_never_sent(httpserver, client):
    httpserver.expect_oneshot_request("/v1/login", method="POST").respond_with_data("ok")
    httpserver.expect_request("/v1/forecast").respond_with_json({"high": 1})
    client.today("Lima")


def test_out_of_order(httpserver, client):
    httpserver.expect_ordered_request("/v1/forecast").respond_with_json({"high": 9})
    httpserver.expect_ordered_request("/v1/login", method="POST").respond_with_data("ok")
    with pytest.raises(Exception):  # noqa: B017, PT011
        client.login_then_fetch("Lima")


def test_handler_that_crashes(httpserver, client):
    def handler(request):
        return {"high": request.args["days"]}  # KeyError: the client sent no 'days'

    httpserver.expect_request("/v1/forecast").respond_with_handler(handler)
    with pytest.raises(Exception):  # noqa: B017, PT011
        client.today("Turin")


def test_all_good(httpserver, client):
    httpserver.expect_request("/v1/forecast").respond_with_json({"high": 3})
    assert client.today("Kyiv") == {"high": 3}


def test_client_gives_up_on_a_slow_answer(httpserver, client):
    # Not a mistake: the test makes the answer late on purpose, and the client's timeout
    # fires first. No view of the report counts it as a problem.
    httpserver.expect_request("/v1/forecast").with_latency(0.3).respond_with_json({"high": 1})
    with pytest.raises(requests.Timeout):
        client.session.get(f"{client.base_url}/v1/forecast", timeout=0.05)


def test_handler_returns_a_dict(httpserver, client):
    # A handler must return a Response (or use respond_with_json): a dict is not a response.
    httpserver.expect_request("/v1/forecast").respond_with_handler(lambda request: {"high": 4})
    with pytest.raises(Exception):  # noqa: B017, PT011
        client.today("Quito")


def test_retry_loop(httpserver, client):
    # The client retries four times against a path the test never registered.
    for _ in range(4):
        with contextlib.suppress(requests.HTTPError):
            client.today("Nairobi")


@pytest.mark.httpserver_nocheck
def test_unchecked(httpserver, client):
    # The check is off for this test: its problem appears in the end-of-run report only.
    client.report("Lima", 21.0)


def test_path_typo(httpserver, client):
    # The code asks for /v1/prodcts: the closest handler is the one a person would pick.
    for path in ("/v1/users", "/v1/orders", "/v1/products"):
        httpserver.expect_request(path, method="GET").respond_with_json([])
    client.session.get(f"{client.base_url}/v1/prodcts", params={"page": "2"})


def test_large_json_body_differs_deep_inside(httpserver, client):
    # Twelve items; the code sends item 9's quantity as a string.
    items = [{"sku": f"sku-{n:02d}", "qty": n, "note": "x" * 30} for n in range(12)]
    httpserver.expect_request("/v1/orders", method="POST", json={"items": items})
    sent = [dict(item) for item in items]
    sent[9]["qty"] = "9"
    client.session.post(f"{client.base_url}/v1/orders", json={"items": sent})


def test_shadowed_handler(httpserver, client):
    # The GET handler registered first answers every GET /v1/forecast: the stricter one
    # after it can never run. The code then POSTs, and the miss says which one shadows it.
    httpserver.expect_request("/v1/forecast", method="GET").respond_with_json({"high": 0})
    httpserver.expect_request(
        "/v1/forecast", method="GET", query_string={"city": "Oslo"}
    ).respond_with_json({"high": 5})
    client.session.post(f"{client.base_url}/v1/forecast", params={"city": "Oslo"})


def test_leaves_a_request_behind(httpserver, client):
    # The code under test sends a request from a thread after the test has ended.
    sender = threading.Thread(target=lambda: (LATE.wait(10), client.report("Kyiv", 2.0)))
    sender.start()
    SENDERS.append(sender)


def test_after_the_late_request(httpserver):
    pass
