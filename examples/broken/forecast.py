"""A tiny HTTP client, the code under test in the demo suite."""

from __future__ import annotations

from typing import Any

import requests


class ForecastClient:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def today(self, city: str) -> dict[str, Any]:
        response = self.session.get(f"{self.base_url}/v1/forecast", params={"city": city})
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def report(self, city: str, temperature: float) -> int:
        response = self.session.post(
            f"{self.base_url}/v1/observations", json={"city": city, "t": temperature}
        )
        return response.status_code

    def login_then_fetch(self, city: str) -> dict[str, Any]:
        self.session.post(f"{self.base_url}/v1/login")
        return self.today(city)
