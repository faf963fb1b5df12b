"""httpx, synchronous and asynchronous, against the plugin's server."""

from __future__ import annotations

import asyncio

import httpx


def test_httpx_sync_client_sends_headers_and_reads_json(httpserver):
    httpserver.expect_request("/x", headers={"X-Client": "httpx"}).respond_with_json([1, 2])

    with httpx.Client(headers={"X-Client": "httpx"}) as client:
        assert client.get(httpserver.url_for("/x")).json() == [1, 2]
        assert client.get(httpserver.url_for("/x")).json() == [1, 2]


def test_httpx_async_client_sends_concurrent_requests(httpserver):
    httpserver.expect_request("/slow", query_string={"i": "0"}).respond_with_data("0")
    httpserver.expect_request("/slow", query_string={"i": "1"}).respond_with_data("1")
    httpserver.expect_request("/slow", query_string={"i": "2"}).respond_with_data("2")

    async def fetch_all() -> list[str]:
        async with httpx.AsyncClient() as client:
            responses = await asyncio.gather(
                *(client.get(httpserver.url_for("/slow"), params={"i": i}) for i in range(3))
            )
        return [r.text for r in responses]

    assert asyncio.run(fetch_all()) == ["0", "1", "2"]
