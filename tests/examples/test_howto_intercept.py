"""How-to: test code you cannot point at a URL, with the server as its HTTP(S) proxy."""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.request

import aiohttp
import httpx
import pytest
import requests

from httpdouble import intercept


# The code under test: it builds its own URL and its own client.
def charge(amount: int) -> str:
    response = requests.post(
        "https://api.payments.test/v1/charges", json={"amount": amount}, timeout=10
    )
    response.raise_for_status()
    return response.json()["id"]


def test_code_that_calls_a_real_host_reaches_the_double(httpserver_intercept):
    httpserver_intercept.expect_request(
        "https://api.payments.test/v1/charges", method="POST", json={"amount": 500}
    ).respond_with_json({"id": "ch_1"})

    assert charge(500) == "ch_1"

    request = httpserver_intercept.log_entries[0].request
    assert request.url == "https://api.payments.test/v1/charges"


def test_httpx_clients_made_during_the_test(httpserver_intercept):
    httpserver_intercept.expect_request("/status").respond_with_data("up")

    with httpx.Client() as client:  # reads the variables now, when it is made
        assert client.get("https://status.example.test/status").text == "up"


@pytest.mark.asyncio
async def test_httpx_async_client(httpserver_intercept):
    httpserver_intercept.expect_request("/status").respond_with_data("up")

    async with httpx.AsyncClient() as client:
        response = await client.get("https://status.example.test/status")

    assert response.text == "up"


@pytest.mark.asyncio
async def test_aiohttp_with_trust_env(httpserver_intercept):
    httpserver_intercept.expect_request("/status").respond_with_data("up")
    # aiohttp read its CA when it was imported: give it the test CA's context.
    test_ca = httpserver_intercept.interception.client_ssl_context()

    async with (
        aiohttp.ClientSession(trust_env=True) as session,
        session.get("https://status.example.test/status", ssl=test_ca) as response,
    ):
        assert await response.text() == "up"


def test_urllib_request(httpserver_intercept):
    httpserver_intercept.expect_request("/status").respond_with_data("up")

    with urllib.request.urlopen("https://status.example.test/status", timeout=10) as response:
        assert response.read() == b"up"


def test_a_curl_child_process(httpserver_intercept):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    httpserver_intercept.expect_request("/status").respond_with_data("up")

    command = ["curl", "--silent", "--fail", "https://status.example.test/status"]
    output = subprocess.run(command, capture_output=True, check=True, timeout=30).stdout

    assert output == b"up"


def test_a_python_child_process(httpserver_intercept):
    httpserver_intercept.expect_request("/status").respond_with_data("up")
    script = "import requests; print(requests.get('https://status.example.test/status').text)"

    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )

    assert completed.stdout == "up\n"


def test_outside_the_fixture_with_intercept(httpserver):
    httpserver.expect_request("/status").respond_with_data("up")

    with intercept(httpserver) as interception:
        response = requests.get("https://status.example.test/status", timeout=10)
        assert interception.proxy_url == f"http://127.0.0.1:{httpserver.port}"

    assert response.text == "up"
