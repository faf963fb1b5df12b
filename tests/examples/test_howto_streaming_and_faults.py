"""How-to: stream a body, send server-sent events, break the connection, answer late."""

from __future__ import annotations

import threading

import httpx
import pytest
import requests

from httpdouble import Fault, ServerSentEvent


def test_a_stream_reaches_the_client_chunk_by_chunk(httpserver):
    produced_first = threading.Event()
    go_on = threading.Event()

    def body():  # called once per request: each request gets a fresh generator
        yield b'{"row": 1}\n'
        produced_first.set()
        go_on.wait(5)  # bounded: the test sets it once the client has read row 1
        yield b'{"row": 2}\n'

    httpserver.expect_request("/rows").respond_with_stream(
        body, content_type="application/x-ndjson"
    )

    with httpx.stream("GET", httpserver.url_for("/rows"), timeout=5) as response:
        assert response.headers["transfer-encoding"] == "chunked"
        lines = response.iter_lines()
        assert next(lines) == '{"row": 1}'  # read while the server still holds row 2
        go_on.set()
        assert next(lines) == '{"row": 2}'


def test_server_sent_events(httpserver):
    httpserver.expect_request("/events").respond_with_sse(
        [
            {"event": "greeting", "id": "1", "data": "hello\nworld"},
            {"comment": "keep-alive"},
            ServerSentEvent(data="bye", id="2", retry=5000),
            "a str is the data alone",
        ],
        event_delay=0.01,  # between two events; (low, high) for a random wait
    )

    with httpx.stream("GET", httpserver.url_for("/events"), timeout=5) as response:
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        text = response.read().decode()

    assert text == (
        "event: greeting\nid: 1\ndata: hello\ndata: world\n\n"
        ": keep-alive\n\n"
        "id: 2\nretry: 5000\ndata: bye\n\n"
        "data: a str is the data alone\n\n"
    )


def test_a_reset_connection(httpserver):
    httpserver.expect_request("/reset").respond_with_fault(Fault.RESET)

    with pytest.raises(requests.ConnectionError):
        requests.get(httpserver.url_for("/reset"), timeout=5)


def test_a_body_cut_short(httpserver):
    httpserver.expect_request("/cut").respond_with_fault(
        Fault.PARTIAL_BODY, data=b'{"items": [1, 2, 3]}', sent=8
    )

    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(httpserver.url_for("/cut"), timeout=5)


def test_a_stalled_server_times_the_client_out(httpserver):
    httpserver.expect_request("/stall").respond_with_fault(Fault.STALL)

    with pytest.raises(httpx.ReadTimeout):
        httpx.get(httpserver.url_for("/stall"), timeout=0.2)


def test_a_flaky_endpoint_fails_once_then_answers(httpserver):
    httpserver.expect_oneshot_request("/flaky").respond_with_fault(Fault.CLOSE)
    httpserver.expect_request("/flaky").respond_with_json({"ok": True})

    with pytest.raises(requests.ConnectionError):
        requests.get(httpserver.url_for("/flaky"), timeout=5)
    assert requests.get(httpserver.url_for("/flaky"), timeout=5).json() == {"ok": True}


def test_latency_before_the_answer(httpserver):
    httpserver.expect_request("/slow").with_latency(0.3).respond_with_data("late")

    with pytest.raises(httpx.ReadTimeout):
        httpx.get(httpserver.url_for("/slow"), timeout=0.05)
