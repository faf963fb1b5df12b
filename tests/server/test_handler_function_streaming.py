"""A handler function's ``Response(generator)`` reaches the client as it is produced.

werkzeug's own server (which pytest-httpserver runs) sends such a body chunk by chunk; so
do we, on the connection's thread, with the log rules of ``respond_with_stream``.
Incrementality is proved without timing: the generator blocks on a ``threading.Event``
that the test sets only once the client has read the first part.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from collections.abc import Iterator

import aiohttp
import httpx
import pytest
import requests
from werkzeug.wrappers import Request, Response

from httpdouble import HTTPServer, Kind, Outcome

from ..reliability.rawhttp import eventually

WAIT = 10.0


def gated(first: list[bytes], gate: threading.Event, rest: list[bytes]) -> Iterator[bytes]:
    yield from first
    if not gate.wait(WAIT):  # bounded: a broken test fails, never hangs
        raise AssertionError("the client never read the first part")
    yield from rest


def test_requests_reads_the_first_chunk_before_the_generator_ends(server: HTTPServer):
    gate = threading.Event()
    finished = threading.Event()

    def handler(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            yield from gated([b'{"step": 1}\n'], gate, [b'{"step": 2}\n', b'{"step": 3}\n'])
            finished.set()

        return Response(body(), mimetype="application/x-ndjson")

    server.expect_request("/progress").respond_with_handler(handler)
    with requests.get(server.url_for("/progress"), stream=True, timeout=WAIT) as response:
        assert response.headers["Transfer-Encoding"] == "chunked"
        assert "Content-Length" not in response.headers
        lines = response.iter_lines()
        assert json.loads(next(lines)) == {"step": 1}
        assert not finished.is_set()  # the generator is still waiting: this was streamed
        gate.set()
        assert [json.loads(line) for line in lines] == [{"step": 2}, {"step": 3}]
    eventually(
        lambda: (
            [e.response.get_data() for e in server.log_entries]
            == [b'{"step": 1}\n{"step": 2}\n{"step": 3}\n']
        ),
        "the log keeps the bytes that were streamed",
    )
    assert [e.outcome for e in server.log_entries] == [Outcome.MATCHED]
    server.check_assertions()


def test_httpx_async_reads_server_sent_events_from_a_handler_function(server: HTTPServer):
    gate = threading.Event()

    def events(request: Request) -> Response:
        who = request.args["who"]
        first = [f"data: hello {who}\n\n".encode()]
        return Response(gated(first, gate, [b"data: bye\n\n"]), mimetype="text/event-stream")

    server.expect_request("/events").respond_with_handler(events)

    async def read() -> list[str]:
        seen: list[str] = []
        async with (
            httpx.AsyncClient(timeout=WAIT) as client,
            client.stream("GET", server.url_for("/events?who=ann")) as response,
        ):
            async for line in response.aiter_lines():
                seen.append(line)
                if line == "data: hello ann":
                    gate.set()  # only now does the generator go on
        return seen

    assert asyncio.run(read()) == ["data: hello ann", "", "data: bye", ""]
    assert gate.is_set()


def test_aiohttp_reads_a_handler_functions_chunks_as_they_come(server: HTTPServer):
    gate = threading.Event()
    server.expect_request("/feed").respond_with_handler(
        lambda request: Response(gated([b"one\n"], gate, [b"two\n"]), mimetype="text/plain")
    )

    async def read() -> list[bytes]:
        seen: list[bytes] = []
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as session,
            session.get(server.url_for("/feed")) as response,
        ):
            for _ in range(10):
                line = await response.content.readline()
                if not line:
                    break
                seen.append(line)
                gate.set()
        return seen

    assert asyncio.run(read()) == [b"one\n", b"two\n"]


def test_a_streamed_handler_body_keeps_the_connection_and_str_chunks_are_encoded(
    server: HTTPServer,
):
    server.expect_request("/words").respond_with_handler(
        lambda request: Response(iter(["grüß ", "dich"]), content_type="text/plain; charset=utf-8")
    )
    conn = http.client.HTTPConnection(server.host, server.port, timeout=WAIT)
    try:
        for _ in range(2):  # the second request goes over the same, kept-alive connection
            conn.request("GET", "/words")
            response = conn.getresponse()
            assert response.getheader("Transfer-Encoding") == "chunked"
            assert response.read().decode() == "grüß dich"
        conn.request("HEAD", "/words")
        head = conn.getresponse()
        assert head.status == 200
        assert head.read() == b""  # a HEAD request gets the head a GET would, and no body
    finally:
        conn.close()
    assert len({e.request.environ["REMOTE_PORT"] for e in server.log_entries}) == 1


def test_a_handler_body_with_its_own_length_is_sent_as_is_then_the_connection_closes(
    server: HTTPServer,
):
    server.expect_request("/sized").respond_with_handler(
        lambda request: Response(iter([b"abc", b"def"]), headers={"Content-Length": "6"})
    )
    response = requests.get(server.url_for("/sized"), timeout=WAIT)
    assert response.content == b"abcdef"
    assert "Transfer-Encoding" not in response.headers
    assert response.headers["Connection"] == "close"


def test_a_handler_generator_that_raises_midway_is_a_handler_error(server: HTTPServer):
    def broken(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            yield b"partial"
            raise ValueError("the feed broke")

        return Response(body())

    server.expect_request("/broken").respond_with_handler(broken)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(server.url_for("/broken"), timeout=WAIT)
    eventually(lambda: len(server._app._findings) == 1, "the broken stream is a finding")
    assert server._app._findings[0].kind is Kind.HANDLER_ERROR
    assert "the feed broke" in server._app._findings[0].detail
    assert server.log_entries[0].outcome is Outcome.HANDLER_ERROR
    assert server.log_entries[0].response.get_data() == b"partial"
    server.clear_handler_errors()


def test_a_list_body_from_a_handler_is_still_sent_in_one_piece(server: HTTPServer):
    server.expect_request("/list").respond_with_handler(
        lambda request: Response([b"a", b"b"], mimetype="text/plain")
    )
    response = requests.get(server.url_for("/list"), timeout=WAIT)
    assert response.content == b"ab"
    assert response.headers["Content-Length"] == "2"
    assert "Transfer-Encoding" not in response.headers


def test_a_generator_that_fails_before_its_first_chunk_is_a_500_and_a_handler_error(
    server: HTTPServer,
):
    def failing(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            raise KeyError("no such feed")
            yield b"never"

        return Response(body())

    server.expect_request("/early").respond_with_handler(failing)
    response = requests.get(server.url_for("/early"), timeout=WAIT)
    assert response.status_code == 500  # nothing was sent yet: the client gets a whole 500
    [finding] = server._app._findings
    assert finding.kind is Kind.HANDLER_ERROR
    assert "no such feed" in finding.detail
    server.clear_handler_errors()
