"""aiohttp's client session against the plugin's server."""

from __future__ import annotations

import asyncio

import aiohttp


def test_aiohttp_session_sends_json_and_reads_the_answer(httpserver):
    httpserver.expect_request("/aio", method="PUT", json={"v": [1, 2]}).respond_with_json(
        {"stored": True}
    )

    async def put() -> tuple[int, object]:
        async with (
            aiohttp.ClientSession() as session,
            session.put(httpserver.url_for("/aio"), json={"v": [1, 2]}) as response,
        ):
            return response.status, await response.json()

    assert asyncio.run(put()) == (200, {"stored": True})
