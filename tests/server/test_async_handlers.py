"""``async def`` handler functions: awaited on the server's thread, never on the test's loop."""

from __future__ import annotations

import asyncio
import threading

import aiohttp
import httpx
import pytest
from werkzeug.wrappers import Request, Response

from httpdouble import HTTPServer


@pytest.mark.asyncio
async def test_an_async_handler_is_awaited_and_answers_httpx_async_client(
    server: HTTPServer,
) -> None:
    seen: list[tuple[int, bool]] = []

    async def greet(request: Request) -> Response:
        await asyncio.sleep(0)  # really awaited: a coroutine that suspends once
        loop = asyncio.get_running_loop()
        seen.append((threading.get_ident(), loop is test_loop))
        return Response(f"hello {request.args['name']}", mimetype="text/plain")

    test_loop = asyncio.get_running_loop()
    server.expect_request("/greet").respond_with_handler(greet)

    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(server.url_for("/greet"), params={"name": "Ada"})

    assert (response.status_code, response.text) == (200, "hello Ada")
    # It ran on a server thread, in a loop of its own: the test's loop was free meanwhile.
    assert seen == [(seen[0][0], False)]
    assert seen[0][0] != threading.get_ident()
    server.check()


@pytest.mark.asyncio
async def test_concurrent_aiohttp_requests_each_get_their_async_handler_answer(
    server: HTTPServer,
) -> None:
    async def echo(request: Request) -> str:
        await asyncio.sleep(0.01)
        return request.get_data(as_text=True).upper()  # a str is the body, as for sync ones

    server.expect_request("/echo", method="POST").respond_with_handler(echo)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:

        async def post(word: str) -> tuple[int, str]:
            async with session.post(server.url_for("/echo"), data=word) as response:
                return response.status, await response.text()

        answers = await asyncio.gather(*(post(w) for w in ("alpha", "beta", "gamma")))

    assert answers == [(200, "ALPHA"), (200, "BETA"), (200, "GAMMA")]
    assert len(server.log) == 3
    server.check()


@pytest.mark.asyncio
async def test_an_async_handler_exception_is_kept_as_for_a_sync_one(server: HTTPServer) -> None:
    async def broken(request: Request) -> Response:
        await asyncio.sleep(0)
        raise LookupError("no such forecast")

    server.expect_request("/f").respond_with_handler(broken)

    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(server.url_for("/f"))

    assert response.status_code == 500
    with pytest.raises(LookupError, match="no such forecast"):
        server.check_handler_errors()


def test_async_handlers_serve_items_of_a_sequence_and_without_a_handler_timeout() -> None:
    async def second(request: Request) -> None:
        await asyncio.sleep(0)  # None: an empty 200, as for a sync handler

    with HTTPServer(handler_timeout=None) as srv:
        srv.expect_request("/s").respond_with_sequence(["first", second], then="fail")
        with httpx.Client(timeout=5) as client:
            answers = [client.get(srv.url_for("/s")) for _ in range(2)]
        srv.check()

    assert [(a.status_code, a.text) for a in answers] == [(200, "first"), (200, "")]
