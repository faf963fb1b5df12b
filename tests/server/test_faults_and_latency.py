"""Wire faults and latency, per handler, seen by real clients through their own exceptions.

A fault was asked for: it is logged as what was done and never fails the test's check.
"""

from __future__ import annotations

import asyncio
import http.client
import threading
from collections.abc import Iterator

import aiohttp
import httpx
import pytest
import requests

from httpdouble import Fault, HTTPDoubleUsageError, HTTPServer, Outcome

WAIT = 10.0


def _only_outcomes(server: HTTPServer) -> list[Outcome]:
    return [entry.outcome for entry in server.log_entries]


def test_reset_is_a_connection_error_for_requests_and_httpx_async(server: HTTPServer):
    server.expect_request("/reset").respond_with_fault(Fault.RESET)
    with pytest.raises(requests.ConnectionError) as caught:
        requests.get(server.url_for("/reset"), timeout=WAIT)
    assert "reset" in str(caught.value).lower()

    async def fetch() -> None:
        async with httpx.AsyncClient(timeout=WAIT) as client:
            await client.get(server.url_for("/reset"))

    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        asyncio.run(fetch())
    assert _only_outcomes(server) == [Outcome.FAULT_RESET] * 2
    assert server.log_entries[0].response.status_code == 0  # no status was sent
    server.check()  # asked for: no finding


def test_close_without_answering(server: HTTPServer):
    server.expect_request("/close").respond_with_fault("close")
    conn = http.client.HTTPConnection(server.host, server.port, timeout=WAIT)
    try:
        conn.request("GET", "/close")
        with pytest.raises(http.client.RemoteDisconnected):
            conn.getresponse()
    finally:
        conn.close()
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(server.url_for("/close"), timeout=WAIT)
    assert _only_outcomes(server) == [Outcome.FAULT_CLOSE] * 2
    server.check()


def test_partial_body_then_close(server: HTTPServer):
    server.expect_request("/partial").respond_with_fault(
        Fault.PARTIAL_BODY, data=b"0123456789", sent=4, headers={"X-Kind": "cut"}
    )
    with pytest.raises(requests.exceptions.ChunkedEncodingError):  # urllib3's IncompleteRead
        requests.get(server.url_for("/partial"), timeout=WAIT)

    async def fetch() -> bytes:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as session,
            session.get(server.url_for("/partial")) as response,
        ):
            assert response.headers["Content-Length"] == "10"
            assert response.headers["X-Kind"] == "cut"
            return await response.read()

    with pytest.raises(aiohttp.ClientPayloadError):
        asyncio.run(fetch())
    entry = server.log_entries[0]
    assert entry.outcome is Outcome.FAULT_PARTIAL_BODY
    assert entry.response.get_data() == b"0123"  # what was sent
    server.check()


def test_garbage_instead_of_a_response(server: HTTPServer):
    server.expect_request("/garbage").respond_with_fault(Fault.GARBAGE)
    with pytest.raises(requests.ConnectionError):  # BadStatusLine inside
        requests.get(server.url_for("/garbage"), timeout=WAIT)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(server.url_for("/garbage"), timeout=WAIT)
    entry = server.log_entries[0]
    assert entry.outcome is Outcome.FAULT_GARBAGE
    assert entry.response.get_data().startswith(b"HTTP/1.1 2OO OK")
    server.check()


def test_stall_times_the_client_out_and_ends_when_it_leaves(server: HTTPServer):
    server.expect_request("/stall").respond_with_fault(Fault.STALL)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(server.url_for("/stall"), timeout=0.2)

    async def fetch() -> None:
        async with httpx.AsyncClient(timeout=0.2) as client:
            await client.get(server.url_for("/stall"))

    with pytest.raises(httpx.ReadTimeout):
        asyncio.run(fetch())
    assert _only_outcomes(server) == [Outcome.FAULT_STALL] * 2
    server.check()


def test_stop_ends_a_stall_at_once(server: HTTPServer):
    server.expect_request("/stall").respond_with_fault(Fault.STALL, stall_seconds=600)
    failed: list[BaseException] = []

    def call() -> None:
        try:
            requests.get(server.url_for("/stall"), timeout=WAIT)
        except requests.RequestException as exc:
            failed.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    for _ in range(500):  # bounded: the request reaches the log before the stall
        if server.log_entries:
            break
        threading.Event().wait(0.01)
    server.stop()
    caller.join(WAIT)
    assert not caller.is_alive()
    # A connection error, not a ReadTimeout: stop() closed the stall, the clock did not.
    assert isinstance(failed[0], requests.ConnectionError)


def test_bad_fault_registrations_are_refused(server: HTTPServer):
    handler = server.expect_request("/f")
    with pytest.raises(HTTPDoubleUsageError):
        handler.respond_with_fault("explode")
    with pytest.raises(HTTPDoubleUsageError):
        handler.respond_with_fault(Fault.RESET, data=b"x")
    with pytest.raises(HTTPDoubleUsageError):
        handler.respond_with_fault(Fault.PARTIAL_BODY, data=b"abc", sent=3)


def test_a_oneshot_fault_then_a_good_answer_lets_a_client_retry(server: HTTPServer):
    server.expect_oneshot_request("/flaky").respond_with_fault(Fault.RESET)
    server.expect_request("/flaky").respond_with_data("ok")
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url_for("/flaky"), timeout=WAIT)
    assert requests.get(server.url_for("/flaky"), timeout=WAIT).text == "ok"
    assert _only_outcomes(server) == [Outcome.FAULT_RESET, Outcome.MATCHED]
    server.check()


# -------------------------------------------------------------------------- latency


def test_a_delayed_answer_does_not_hold_up_another_connection(server: HTTPServer):
    server.expect_request("/slow").with_latency(60).respond_with_data("late")
    server.expect_request("/fast").respond_with_data("now")
    outcome: list[BaseException] = []

    def slow_call() -> None:
        try:
            requests.get(server.url_for("/slow"), timeout=WAIT)
        except requests.RequestException as exc:
            outcome.append(exc)

    slow = threading.Thread(target=slow_call)
    slow.start()
    for _ in range(500):  # bounded: the slow request has been dispatched and is waiting
        if server.log_entries:
            break
        threading.Event().wait(0.01)
    assert [e.request.path for e in server.log_entries if e.request] == ["/slow"]
    # The slow one is in flight on its own connection: this one is answered anyway.
    assert requests.get(server.url_for("/fast"), timeout=WAIT).text == "now"
    assert slow.is_alive()
    server.stop()  # ends the 60 s wait: the slow client sees its connection closed
    slow.join(WAIT)
    assert not slow.is_alive()
    assert isinstance(outcome[0], requests.ConnectionError)


def test_latency_before_the_head_times_a_client_out(server: HTTPServer):
    server.expect_request("/slow").with_latency((0.5, 0.6)).respond_with_json({"a": 1})
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(server.url_for("/slow"), timeout=0.1)
    # Not cached as a static reply: every answer waits.
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(server.url_for("/slow"), timeout=0.1)
    server.expect_request("/small").with_latency(0.01).respond_with_json({"a": 1})
    for _ in range(2):
        assert requests.get(server.url_for("/small"), timeout=WAIT).json() == {"a": 1}


def test_latency_between_chunks_applies_to_a_stream(server: HTTPServer):
    gate = threading.Event()

    def body() -> Iterator[bytes]:
        yield b"one"
        gate.set()  # asked for the second chunk: the wait comes before it is sent
        yield b"two"

    server.expect_request("/s").with_latency(between_chunks=60).respond_with_stream(body)
    with requests.get(server.url_for("/s"), stream=True, timeout=WAIT) as response:
        assert response.raw.read(3) == b"one"
        assert gate.wait(WAIT)
        # The second chunk is waiting on its 60 s: a second client is answered meanwhile.
        server.expect_request("/other").respond_with_data("meanwhile")
        assert requests.get(server.url_for("/other"), timeout=WAIT).text == "meanwhile"
        server.stop()
