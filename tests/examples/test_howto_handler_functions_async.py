"""How-to: an ``async def`` handler function, called by async client code."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from werkzeug.wrappers import Request, Response


async def fetch_price(base_url: str, item: str) -> str:
    """The code under test: an async client."""
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        response = await client.get(f"/prices/{item}")
        response.raise_for_status()
        return response.text


@pytest.mark.asyncio
async def test_an_async_handler_function_is_awaited_by_the_server(httpserver):
    async def price(request: Request) -> Response:
        await asyncio.sleep(0.01)  # e.g. an async helper your fake backend already has
        item = request.path.rsplit("/", 1)[-1]
        return Response(f"{item}: 3.50", mimetype="text/plain")

    httpserver.expect_request("/prices/tea").respond_with_handler(price)

    assert await fetch_price(httpserver.url_for("/"), "tea") == "tea: 3.50"
