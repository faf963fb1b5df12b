"""How-to: point the code under test at the test server."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
import requests

# --- the code under test ------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Application settings, usually read from a file or the environment at start-up."""

    billing_url: str = "https://billing.example.com"


class BillingClient:
    """Takes its base URL as an argument: the easiest code to test."""

    def __init__(self, base_url: str, session: requests.Session) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session

    def balance(self, account: str) -> int:
        response = self.session.get(f"{self.base_url}/accounts/{account}", timeout=5)
        response.raise_for_status()
        return int(response.json()["balance"])


def balance_from_settings(settings: Settings, account: str) -> int:
    with requests.Session() as session:
        return BillingClient(settings.billing_url, session).balance(account)


def balance_from_environment(account: str) -> int:
    # Read at call time, not at import time, so a test can change it.
    base_url = os.environ.get("BILLING_URL", "https://billing.example.com")
    with requests.Session() as session:
        return BillingClient(base_url, session).balance(account)


# --- the tests ----------------------------------------------------------------------


@pytest.fixture
def billing(httpserver):
    httpserver.expect_request("/accounts/acme").respond_with_json({"balance": 120})
    return httpserver


def test_inject_the_base_url_into_the_client(billing):
    with requests.Session() as session:
        client = BillingClient(billing.url_for("/"), session)
        assert client.balance("acme") == 120


def test_build_settings_that_point_at_the_server(billing):
    settings = Settings(billing_url=billing.url_for("/"))

    assert balance_from_settings(settings, "acme") == 120


def test_set_the_environment_variable_for_one_test(billing, monkeypatch):
    monkeypatch.setenv("BILLING_URL", billing.url_for("/"))

    assert balance_from_environment("acme") == 120


def test_mount_the_api_under_a_path_prefix(httpserver):
    # When the real service lives under a prefix, put the prefix in the base URL.
    httpserver.expect_request("/billing/v2/accounts/acme").respond_with_json({"balance": 5})

    with requests.Session() as session:
        assert BillingClient(httpserver.url_for("/billing/v2"), session).balance("acme") == 5
