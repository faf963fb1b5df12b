"""How-to: test a client's retries, its timeouts, and how it reads a stream of events."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Iterator

import httpx
import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry
from werkzeug.wrappers import Response

from httpdouble import Fault

# --- Retries with requests and urllib3 -------------------------------------------------------


def fetch_status(url: str) -> str:
    """The code under test: retry up to three times on 503, then give the body."""
    retry = Retry(total=3, status_forcelist=[503], backoff_factor=0)
    with requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=retry))
        reply = session.get(url, timeout=5)
        reply.raise_for_status()
        return reply.text


def test_requests_retries_each_503_until_the_answer(httpserver):
    # Exactly three requests: fewer fail at teardown, a fourth finds no handler.
    httpserver.expect_request("/status", method="GET", times=3).respond_with_sequence(
        [Response(status=503), Response(status=503), Response("ready")]
    )

    assert fetch_status(httpserver.url_for("/status")) == "ready"


# --- Retries with httpx ----------------------------------------------------------------------


def fetch_orders(client: httpx.Client, url: str, attempts: int = 3) -> dict:
    """The code under test: retry a broken connection or a 503, ``attempts`` times at most."""
    for attempt in range(1, attempts + 1):
        last = attempt == attempts
        try:
            reply = client.get(url)
        except httpx.TransportError:  # ReadError, RemoteProtocolError, timeouts...
            if last:
                raise
            continue
        if reply.status_code == 503 and not last:
            continue
        reply.raise_for_status()
        return reply.json()
    raise AssertionError("unreachable")


def test_transport_retries_do_not_cover_a_reset_after_the_request(httpserver):
    # times=1: a second request would find no handler and fail the test.
    httpserver.expect_request("/orders", times=1).respond_with_fault(Fault.RESET)

    transport = httpx.HTTPTransport(retries=3)  # retries failed connects only
    with httpx.Client(transport=transport, timeout=5) as client, pytest.raises(httpx.ReadError):
        client.get(httpserver.url_for("/orders"))


def test_httpx_client_retries_a_reset_and_a_503(httpserver):
    # Counted handlers are used oldest first: the reset, then the 503, then the answer.
    httpserver.expect_request("/orders", times=1).respond_with_fault(Fault.RESET)
    httpserver.expect_request("/orders", times=2).respond_with_sequence(
        [Response(status=503), Response('{"orders": []}', mimetype="application/json")]
    )

    with httpx.Client(timeout=5) as client:
        assert fetch_orders(client, httpserver.url_for("/orders")) == {"orders": []}


# --- Timeouts --------------------------------------------------------------------------------


def test_requests_gives_up_on_a_late_answer(httpserver):
    httpserver.expect_oneshot_request("/report").with_latency(0.5).respond_with_data("late")

    # The wait ends the test only once the request was served by this test's handler.
    with httpserver.wait(timeout=5), pytest.raises(requests.exceptions.ReadTimeout):
        # (connect, read): a generous connect timeout, a short read timeout
        requests.get(httpserver.url_for("/report"), timeout=(5, 0.1))


def test_httpx_gives_up_on_a_stalled_server(httpserver):
    # stall_seconds bounds the stall even if the client never closed its connection.
    httpserver.expect_oneshot_request("/report").respond_with_fault(Fault.STALL, stall_seconds=5)

    with (
        httpserver.wait(timeout=5),
        httpx.Client(timeout=httpx.Timeout(5, read=0.1)) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.get(httpserver.url_for("/report"))


# --- Streaming server-sent events ------------------------------------------------------------


class EventParser:
    """The code under test: turns the lines of a ``text/event-stream`` into events."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def feed(self, line: str) -> dict[str, str] | None:
        """Take one line; return the event it completes, if any."""
        if not line:  # a blank line ends the event
            event, self.fields = self.fields, {}
            return event or None
        if not line.startswith(":"):  # a line starting with ":" is a comment
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name in self.fields:  # several data lines make one value
                value = f"{self.fields[name]}\n{value}"
            self.fields[name] = value
        return None


def read_events(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    parser = EventParser()
    for line in lines:
        event = parser.feed(line)
        if event is not None:
            yield event


def job_events(client_has_first: threading.Event) -> Iterator[dict[str, str]]:
    """The server's side: the second event waits until the client has read the first."""
    yield {"event": "progress", "data": "50"}
    if not client_has_first.wait(5):  # bounded; a client that buffers never sets it
        raise AssertionError("the client did not read the first event on its own")
    yield {"event": "progress", "data": "100"}
    yield {"event": "done", "data": "job 7"}


def test_sse_events_are_read_as_they_come(httpserver):
    client_has_first = threading.Event()
    httpserver.expect_request("/jobs/7/events").respond_with_sse(
        functools.partial(job_events, client_has_first)  # a fresh generator per request
    )

    with (
        httpx.Client(timeout=5) as client,
        client.stream("GET", httpserver.url_for("/jobs/7/events")) as response,
    ):
        events = read_events(response.iter_lines())
        first = next(events)  # arrives while the server still holds the rest
        client_has_first.set()
        rest = list(events)

    assert first == {"event": "progress", "data": "50"}
    assert rest == [{"event": "progress", "data": "100"}, {"event": "done", "data": "job 7"}]


async def follow_job(url: str, on_first_event: threading.Event) -> list[dict[str, str]]:
    """The same reading with ``httpx.AsyncClient``."""
    parser = EventParser()
    events: list[dict[str, str]] = []
    async with httpx.AsyncClient(timeout=5) as client, client.stream("GET", url) as response:
        async for line in response.aiter_lines():
            event = parser.feed(line)
            if event is not None:
                events.append(event)
                on_first_event.set()  # lets the server send the rest
    return events


def test_sse_events_are_read_as_they_come_with_an_async_client(httpserver):
    client_has_first = threading.Event()
    httpserver.expect_request("/jobs/7/events").respond_with_sse(
        functools.partial(job_events, client_has_first)
    )

    events = asyncio.run(follow_job(httpserver.url_for("/jobs/7/events"), client_has_first))

    assert [event["data"] for event in events] == ["50", "100", "job 7"]
