"""How-to: wait in an async test for requests sent by async code."""

from __future__ import annotations

import asyncio

import httpx
import pytest


async def notify(url: str, count: int) -> None:
    """The code under test: an async job that posts ``count`` notifications."""
    async with httpx.AsyncClient(timeout=5) as client:
        for number in range(count):
            await client.post(url, json={"number": number})


@pytest.mark.asyncio
async def test_wait_async_returns_when_every_oneshot_handler_was_used(httpserver):
    for number in range(3):
        httpserver.expect_oneshot_request(
            "/notify", method="POST", json={"number": number}
        ).respond_with_data("ok")

    async with httpserver.wait_async(timeout=10) as waiting:
        job = asyncio.create_task(notify(httpserver.url_for("/notify"), 3))
    await job

    assert waiting.result
    assert len(httpserver.log) == 3


@pytest.mark.anyio
async def test_wait_async_under_anyio(httpserver, anyio_backend):
    httpserver.expect_oneshot_request("/notify", method="POST").respond_with_data("ok")

    async with httpserver.wait_async(timeout=10) as waiting:
        await notify(httpserver.url_for("/notify"), 1)

    assert waiting.result


@pytest.fixture
def anyio_backend():
    return "asyncio"  # anyio's plugin also offers "trio", which wait_async() does not support
