"""The demo suite: run it with ``nox -s demo`` (``pytest -n auto``)."""

from __future__ import annotations

import pytest
import requests
from forecast import ForecastClient

CITIES = ["Oslo", "Lima", "Pune", "Kyiv", "Lagos", "Quito", "Perth", "Turin"]


@pytest.fixture
def client(httpserver):
    return ForecastClient(httpserver.url_for("/"), token="s3cret")


@pytest.mark.parametrize("city", CITIES)
def test_today_reads_the_forecast(httpserver, client, city):
    httpserver.expect_request(
        "/v1/forecast", query_string={"city": city}, headers={"Authorization": "Bearer s3cret"}
    ).respond_with_json({"city": city, "high": 21})
    assert client.today(city) == {"city": city, "high": 21}


def test_report_posts_json(httpserver, client):
    httpserver.expect_oneshot_request(
        "/v1/observations", method="POST", json={"city": "Oslo", "t": -3.5}
    ).respond_with_data("", status=201)
    assert client.report("Oslo", -3.5) == 201


def test_login_comes_before_the_fetch(httpserver, client):
    httpserver.expect_ordered_request("/v1/login", method="POST").respond_with_data("ok")
    httpserver.expect_ordered_request("/v1/forecast").respond_with_json({"high": 9})
    assert client.login_then_fetch("Lima") == {"high": 9}


def test_server_errors_reach_the_client(httpserver, client):
    httpserver.expect_request("/v1/forecast").respond_with_data("down", status=503)
    with pytest.raises(requests.HTTPError):
        client.today("Pune")


def test_handler_function_sees_the_request(httpserver, client):
    def echo_city(request):
        from werkzeug.wrappers import Response

        return Response(f'{{"city": "{request.args["city"]}"}}', mimetype="application/json")

    httpserver.expect_request("/v1/forecast").respond_with_handler(echo_city)
    assert client.today("Perth") == {"city": "Perth"}
