"""Streamed bodies and server-sent events, read incrementally by real clients.

Incrementality is proved without timing: the server's iterable blocks on a
``threading.Event`` that the test sets only once the client has read the first part.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
from collections.abc import Iterator

import aiohttp
import httpx
import pytest
import requests
import urllib3
from werkzeug.wrappers import Response

from httpdouble import (
    HTTPDoubleUsageError,
    HTTPServer,
    Kind,
    Outcome,
    ServerSentEvent,
    StreamedResponse,
)
from httpdouble._app.streaming import STREAM_LOG_LIMIT, encode_event

from ..reliability.rawhttp import eventually, read_until_closed

WAIT = 10.0


def gated(first: list[object], gate: threading.Event, rest: list[object]) -> Iterator[object]:
    yield from first
    if not gate.wait(WAIT):  # bounded: a broken test fails, never hangs
        raise AssertionError("the client never read the first part")
    yield from rest


# ------------------------------------------------------------------------ encoding


def test_events_encode_every_field_and_split_multi_line_data():
    assert encode_event("hi") == b"data: hi\n\n"
    assert encode_event({"data": "a\nb\r\nc", "event": "up", "id": "7", "retry": 1500}) == (
        b"event: up\nid: 7\nretry: 1500\ndata: a\ndata: b\ndata: c\n\n"
    )
    assert encode_event(ServerSentEvent(comment="keep-alive")) == b": keep-alive\n\n"
    assert encode_event({"data": ""}) == b"data: \n\n"


@pytest.mark.parametrize(
    "bad",
    [{"event": "a\nb"}, {"id": "x\x00"}, {"retry": -1}, {"data": 3}, {"colour": "red"}, 42, {}],
)
def test_a_bad_event_in_a_list_is_refused_at_registration(server: HTTPServer, bad: object):
    with pytest.raises(HTTPDoubleUsageError):
        server.expect_request("/sse").respond_with_sse(["fine", bad])


def test_bad_registrations_are_refused(server: HTTPServer):
    handler = server.expect_request("/s")
    with pytest.raises(HTTPDoubleUsageError):
        handler.respond_with_stream(b"not chunks")
    with pytest.raises(HTTPDoubleUsageError):
        handler.respond_with_stream([b"a"], chunk_delay=(2, 1))
    with pytest.raises(HTTPDoubleUsageError):
        handler.with_latency(-1)


# ------------------------------------------------------------------- streamed bodies


def test_a_stream_is_chunked_and_read_chunk_by_chunk_by_http_client(server: HTTPServer):
    gate = threading.Event()
    server.expect_request("/s").respond_with_stream(
        lambda: gated([b"first|"], gate, [b"second|", "third"]), content_type="text/plain"
    )
    conn = http.client.HTTPConnection(server.host, server.port, timeout=WAIT)
    try:
        conn.request("GET", "/s")
        response = conn.getresponse()
        assert response.getheader("Transfer-Encoding") == "chunked"
        assert response.getheader("Content-Length") is None
        assert response.read1(65536) == b"first|"  # the rest is not produced yet
        gate.set()
        assert response.read() == b"second|third"
        # keep-alive survives a complete chunked body
        conn.request("GET", "/s")
        gate.set()
        assert conn.getresponse().read() == b"first|second|third"
    finally:
        conn.close()
    eventually(
        lambda: [e.response.get_data() for e in server.log_entries] == [b"first|second|third"] * 2,
        "both streams are logged with the bytes sent",
    )
    assert [e.outcome for e in server.log_entries] == [Outcome.MATCHED] * 2


def test_httpx_sync_reads_sse_events_incrementally(server: HTTPServer):
    gate = threading.Event()
    events = [{"event": "tick", "id": "1", "data": "one\ntwo"}]
    rest = [{"comment": "ping"}, ServerSentEvent(data="three", id="2"), "four"]
    server.expect_request("/events").respond_with_sse(lambda: gated(events, gate, rest))
    lines: list[str] = []
    with (
        httpx.Client(timeout=WAIT) as client,
        client.stream("GET", server.url_for("/events")) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        for line in response.iter_lines():
            lines.append(line)
            if line == "" and not gate.is_set():
                assert lines == ["event: tick", "id: 1", "data: one", "data: two", ""]
                gate.set()  # only now does the server produce the next events
    assert gate.is_set()
    assert lines[5:] == [": ping", "", "id: 2", "data: three", "", "data: four", ""]


def test_httpx_async_reads_sse_events_incrementally(server: HTTPServer):
    gate = threading.Event()
    server.expect_request("/events").respond_with_sse(
        lambda: gated(["first"], gate, ["second"]), event_delay=0.01
    )

    async def read() -> list[str]:
        seen: list[str] = []
        async with (
            httpx.AsyncClient(timeout=WAIT) as client,
            client.stream("GET", server.url_for("/events")) as response,
        ):
            async for line in response.aiter_lines():
                seen.append(line)
                if line == "data: first":
                    gate.set()
        return seen

    assert asyncio.run(read()) == ["data: first", "", "data: second", ""]


def test_aiohttp_reads_sse_events_incrementally(server: HTTPServer):
    gate = threading.Event()
    server.expect_request("/events").respond_with_sse(
        lambda: gated([{"data": "first", "id": "1"}], gate, [{"data": "second", "id": "2"}])
    )

    async def read() -> list[bytes]:
        seen: list[bytes] = []
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as session,
            session.get(server.url_for("/events")) as response,
        ):
            assert response.headers["Content-Type"].startswith("text/event-stream")
            for _ in range(20):
                line = await response.content.readline()
                if not line:
                    break
                seen.append(line)
                if line == b"data: first\n":
                    gate.set()
        return seen

    first = [b"id: 1\n", b"data: first\n", b"\n"]
    assert asyncio.run(read()) == [*first, b"id: 2\n", b"data: second\n", b"\n"]


def test_an_endless_stream_ends_when_the_client_leaves(server: HTTPServer):
    closed = threading.Event()

    def forever() -> Iterator[bytes]:
        try:
            for n in range(10**9):
                yield b"%d\n" % n
        finally:
            closed.set()

    server.expect_request("/forever").respond_with_stream(forever)
    with requests.get(server.url_for("/forever"), stream=True, timeout=WAIT) as response:
        assert next(response.iter_lines()) == b"0"
    assert closed.wait(WAIT)
    eventually(
        lambda: server.log_entries[0].outcome is Outcome.NOT_DELIVERED,
        "the stream the client left is logged as not delivered",
    )
    entry = server.log_entries[0]
    assert entry.response.get_data().startswith(b"0\n1\n")
    assert len(entry.response.get_data()) <= STREAM_LOG_LIMIT
    server.check()  # a client leaving a stream is no failure


def test_a_stream_that_raises_midway_breaks_the_body_and_is_a_handler_error(server: HTTPServer):
    def broken() -> Iterator[bytes]:
        yield b"partial"
        raise ValueError("the feed broke")

    server.expect_request("/broken").respond_with_stream(broken)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(server.url_for("/broken"), timeout=WAIT)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(server.url_for("/broken"), timeout=WAIT)
    eventually(lambda: len(server._app._findings) == 2, "both broken streams are findings")
    assert {f.kind for f in server._app._findings} == {Kind.HANDLER_ERROR}
    assert "the feed broke" in server._app._findings[0].detail
    assert [e.outcome for e in server.log_entries] == [Outcome.HANDLER_ERROR] * 2
    assert server.log_entries[0].response.get_data() == b"partial"
    server.clear_handler_errors()


def test_a_generator_serves_one_request_then_the_next_one_is_a_handler_error(
    server: HTTPServer,
):
    server.expect_request("/once").respond_with_stream(iter([b"a", b"b"]))
    assert requests.get(server.url_for("/once"), timeout=WAIT).content == b"ab"
    assert requests.get(server.url_for("/once"), timeout=WAIT).status_code == 500
    assert "one-use iterable" in server._app._findings[0].detail
    server.clear_handler_errors()


def test_respond_with_response_keeps_an_endless_generator_and_streams_it(server: HTTPServer):
    def endless() -> Iterator[bytes]:
        n = 0
        while True:
            n += 1
            yield b"x" * n

    # Registration must not read the body: this one never ends.
    server.expect_request("/gen").respond_with_response(
        Response(endless(), 201, {"X-Kind": "endless"}, mimetype="application/x-ndjson")
    )
    with httpx.Client(timeout=WAIT) as client, client.stream("GET", server.url_for("/gen")) as r:
        assert r.status_code == 201
        assert r.headers["x-kind"] == "endless"
        assert r.headers["content-type"] == "application/x-ndjson"
        got = b""
        for chunk in r.iter_raw():
            got += chunk
            if len(got) >= 6:
                break
    assert got.startswith(b"xxx")


def test_a_handler_function_may_return_a_streamed_response(server: HTTPServer):
    server.expect_request("/fn").respond_with_handler(
        lambda request: StreamedResponse(iter([b"from ", request.args["who"].encode()]))
    )
    response = requests.get(server.url_for("/fn?who=me"), timeout=WAIT)
    assert response.content == b"from me"
    assert response.headers["Transfer-Encoding"] == "chunked"


def test_http_1_0_gets_a_close_delimited_stream_and_head_gets_no_body(server: HTTPServer):
    server.expect_request("/s").respond_with_stream([b"one", b"two"])
    with socket.create_connection((server.host, server.port), timeout=WAIT) as sock:
        sock.sendall(b"GET /s HTTP/1.0\r\nHost: x\r\n\r\n")
        raw, _ = read_until_closed(sock)
    head, body = raw.split(b"\r\n\r\n", 1)
    assert b"Transfer-Encoding" not in head
    assert b"Connection: close" in head
    assert body == b"onetwo"
    with socket.create_connection((server.host, server.port), timeout=WAIT) as sock:
        sock.sendall(b"HEAD /s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw, _ = read_until_closed(sock)
    assert raw.endswith(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in raw


def test_a_long_stream_keeps_only_the_first_part_in_the_log(server: HTTPServer):
    chunk = b"y" * 16384
    server.expect_request("/big").respond_with_stream(lambda: [chunk] * 10)
    assert len(requests.get(server.url_for("/big"), timeout=WAIT).content) == 163840
    eventually(
        lambda: "X-Httpdouble-Streamed" in server.log_entries[0].response.headers,
        "the log says how much was streamed",
    )
    response = server.log_entries[0].response
    assert len(response.get_data()) == STREAM_LOG_LIMIT
    assert response.headers["X-Httpdouble-Streamed"].startswith("163840 bytes sent")


def test_stop_returns_while_a_stream_waits_between_chunks(server: HTTPServer):
    server.expect_request("/slow").respond_with_stream(lambda: [b"a", b"b"], chunk_delay=60)
    with requests.get(server.url_for("/slow"), stream=True, timeout=WAIT) as response:
        assert response.raw.read(1) == b"a"
        server.stop()  # the fixture would hang its teardown if this waited the minute
        with pytest.raises(urllib3.exceptions.ProtocolError):
            response.raw.read()
