"""wait_async(): the wait of async tests, under pytest-asyncio and anyio, with async clients."""

from __future__ import annotations

import asyncio

import aiohttp
import httpx
import pytest

from httpdouble import HTTPDoubleFailure, HTTPDoubleUsageError, HTTPServer

TIMEOUT = 10.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _send_later(url: str, count: int) -> None:
    """Code under test: requests sent by a task while the test awaits the wait."""
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        for _ in range(count):
            response = await client.post(url)
            assert response.text == "pong"


@pytest.mark.asyncio
async def test_wait_async_lets_a_task_send_the_requests_it_waits_for(server: HTTPServer) -> None:
    for _ in range(3):
        server.expect_oneshot_request("/ping", method="POST").respond_with_data("pong")

    async with server.wait_async(timeout=TIMEOUT) as waiting:
        # The task only runs once the test awaits: after the block, during the wait.
        task = asyncio.create_task(_send_later(server.url_for("/ping"), 3))
    await task

    assert waiting.result
    assert len(server.log) == 3


@pytest.mark.anyio
async def test_wait_async_works_under_anyio_with_aiohttp(server: HTTPServer) -> None:
    server.expect_oneshot_request("/a").respond_with_data("a")
    server.expect_oneshot_request("/b").respond_with_data("b")

    async with aiohttp.ClientSession() as session, server.wait_async(timeout=TIMEOUT) as waiting:
        async with session.get(server.url_for("/a")) as first:
            assert await first.text() == "a"
        async with session.get(server.url_for("/b")) as second:
            assert await second.text() == "b"

    assert waiting.result


@pytest.mark.asyncio
async def test_wait_async_times_out_with_the_handlers_left(server: HTTPServer) -> None:
    server.expect_oneshot_request("/never", headers={"X-Api-Key": "k-0123456789"})

    with pytest.raises(HTTPDoubleFailure, match="some handlers left") as failure:
        async with server.wait_async(timeout=0.05):
            pass

    assert "'k-…(len 12)'" in str(failure.value)
    assert "k-0123456789" not in str(failure.value)
    server.clear()


@pytest.mark.anyio
async def test_wait_async_stops_at_an_unexpected_request(server: HTTPServer) -> None:
    server.expect_oneshot_request("/expected").respond_with_data("")

    async with server.wait_async(raise_assertions=False, timeout=TIMEOUT) as waiting:
        task = asyncio.create_task(_get(server.url_for("/unexpected?token=abcdefgh")))
    assert await task == 500
    assert not waiting.result
    server.clear()


async def _get(url: str) -> int:
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        return (await client.get(url)).status_code


@pytest.mark.asyncio
async def test_sync_wait_in_an_async_test_is_a_usage_error_not_a_hang(
    server: HTTPServer,
) -> None:
    server.expect_oneshot_request("/ping").respond_with_data("")
    with pytest.raises(HTTPDoubleUsageError, match="wait_async"), server.wait(timeout=TIMEOUT):
        pass  # never runs: wait() refuses before the block
    server.clear()
