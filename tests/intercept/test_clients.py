"""Clients that never see the server's URL reach it through the httpserver_intercept fixture.

Every host is under ``.test``, which never resolves: a request that went past the server
would fail, not reach the internet.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.request

import aiohttp
import httpx
import pytest
import requests

SCHEMES = ("https", "http")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_requests_reaches_a_test_host_through_the_fixture(httpserver_intercept, scheme):
    httpserver_intercept.expect_request("/v1/ping").respond_with_json({"pong": True})

    response = requests.get(f"{scheme}://api.example.test/v1/ping", timeout=10)

    assert response.json() == {"pong": True}
    (entry,) = httpserver_intercept.log_entries
    assert (entry.request.scheme, entry.request.host) == (scheme, "api.example.test")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_an_httpx_client_made_during_the_test_reaches_a_test_host(httpserver_intercept, scheme):
    httpserver_intercept.expect_request("/v1/ping", method="POST").respond_with_data("pong")

    with httpx.Client(timeout=10) as client:
        response = client.post(f"{scheme}://api.example.test/v1/ping", content=b"ping")

    assert response.text == "pong"
    assert response.http_version == "HTTP/1.1"
    (entry,) = httpserver_intercept.log_entries
    assert entry.request.get_data() == b"ping"
    assert entry.request.url == f"{scheme}://api.example.test/v1/ping"


@pytest.mark.asyncio
@pytest.mark.parametrize("scheme", SCHEMES)
async def test_an_httpx_async_client_reaches_a_test_host(httpserver_intercept, scheme):
    httpserver_intercept.expect_request("/v1/ping").respond_with_data("pong")

    async with httpx.AsyncClient(timeout=10) as client:
        first = await client.get(f"{scheme}://api.example.test/v1/ping")
        second = await client.get(f"{scheme}://api.example.test/v1/ping")

    assert (first.text, second.text) == ("pong", "pong")
    assert len(httpserver_intercept.log_entries) == 2


def test_requests_in_a_tunnel_keep_their_connection(httpserver_intercept):
    httpserver_intercept.expect_request("/a").respond_with_data("a")

    with requests.Session() as session:
        for _ in range(3):
            assert session.get("https://api.example.test/a", timeout=10).text == "a"

    tunnels = {e.request.environ["REMOTE_PORT"] for e in httpserver_intercept.log_entries}
    assert len(tunnels) == 1, "three requests, one tunnel"
    (tunnel,) = {e.request.environ["httpdouble.tunnel"] for e in httpserver_intercept.log_entries}
    assert tunnel == "api.example.test:443"


@pytest.mark.asyncio
@pytest.mark.parametrize("scheme", SCHEMES)
async def test_aiohttp_with_trust_env_reaches_a_test_host(httpserver_intercept, scheme):
    # aiohttp reads its CA when it is imported, before the test: it is given the test CA.
    httpserver_intercept.expect_request("/v1/ping").respond_with_json({"pong": True})
    ssl_context = httpserver_intercept.interception.client_ssl_context()

    async with aiohttp.ClientSession(trust_env=True) as session:
        url = f"{scheme}://api.example.test/v1/ping"
        async with session.get(url, ssl=ssl_context) as response:
            body = await response.json()

    assert body == {"pong": True}
    (entry,) = httpserver_intercept.log_entries
    assert (entry.request.scheme, entry.request.host) == (scheme, "api.example.test")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_urlopen_reaches_a_test_host(httpserver_intercept, scheme):
    httpserver_intercept.expect_request("/v1/ping").respond_with_data("pong")

    with urllib.request.urlopen(f"{scheme}://api.example.test/v1/ping", timeout=10) as response:
        assert response.read() == b"pong"

    assert httpserver_intercept.log_entries[0].request.scheme == scheme


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_curl_child_process_reaches_a_test_host(httpserver_intercept, scheme):
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    httpserver_intercept.expect_request("/v1/ping").respond_with_data("pong")

    command = [curl, "--silent", "--show-error", "--max-time", "10"]
    completed = subprocess.run(
        [*command, f"{scheme}://api.example.test/v1/ping"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )

    assert completed.stdout == "pong"
    (entry,) = httpserver_intercept.log_entries
    assert (entry.request.scheme, entry.request.host) == (scheme, "api.example.test")


CHILD = """\
import sys
import requests
sys.stdout.write(requests.get(sys.argv[1], timeout=10).text)
"""


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_python_child_process_reaches_a_test_host(httpserver_intercept, scheme):
    httpserver_intercept.expect_request("/v1/ping").respond_with_data("pong")

    url = f"{scheme}://api.example.test/v1/ping"
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, url], capture_output=True, text=True, timeout=60, check=True
    )

    assert completed.stdout == "pong"
    assert httpserver_intercept.log_entries[0].request.url == url
