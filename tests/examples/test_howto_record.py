"""How-to: record real traffic once, replay it in CI."""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests

# --- the code under test ------------------------------------------------------------


class WeatherClient:
    """A client of a real API that needs a token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def forecast(self, city: str) -> dict[str, Any]:
        answer = self.session.get(f"{self.base_url}/v1/forecast", params={"city": city})
        answer.raise_for_status()
        forecast: dict[str, Any] = answer.json()
        return forecast

    def report(self, city: str, celsius: int) -> int:
        answer = self.session.post(
            f"{self.base_url}/v1/reports", json={"city": city, "celsius": celsius}
        )
        return answer.status_code


# --- the test -------------------------------------------------------------------------


@pytest.fixture
def httpserver_record_config() -> dict[str, Any]:
    # Where requests go while recording (never in CI, which only replays).
    return {"upstream": "https://api.weather.example"}


@pytest.mark.httpserver_record
def test_forecast_then_report(httpserver: Any) -> None:
    token = os.environ.get("WEATHER_TOKEN", "not-needed-to-replay")
    client = WeatherClient(httpserver.url_for("/"), token)
    assert client.forecast("Oslo")["high"] == 3
    assert client.report("Oslo", 2) == 201


# --- code that calls its own URL: record through interception --------------------------


@pytest.mark.httpserver_record
def test_code_that_calls_its_own_url(httpserver_intercept: Any) -> None:
    # The code builds its URL itself; the server is its proxy (see "Test code you cannot
    # point at a URL"), and while recording each request goes on to its own host.
    client = WeatherClient("https://api.weather.test", token="not-needed-to-replay")
    assert client.forecast("Bergen")["sky"] == "rain"
