"""Slow and idle clients, and the size limits: nobody can starve the server or stop()."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from httpdouble import HTTPServer, Kind, Limits, Outcome

from .conftest import SOCKET_TIMEOUT
from .rawhttp import exchange, good_request_is_served, read_until_closed

IDLE_CLIENTS = 50
STALLED_CLIENTS = 10
DRIPPING_CLIENTS = 50
DRIP_INTERVAL = 1.0  # seconds between two header lines, as a slow client sends them
GOOD_REQUESTS = 6
GOOD_PACE = 0.5  # seconds between good requests, so they overlap the drip
DRIP_LINES = 20


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT)


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    """Client sockets of a test, all closed at its end."""
    opened: list[socket.socket] = []
    try:
        yield opened
    finally:
        for sock in opened:
            sock.close()


def _sees_end_of_connection(sock: socket.socket) -> bool:
    """Whether the server closed ``sock`` (EOF or reset), reading whatever it sent first."""
    try:
        read_until_closed(sock)
    except TimeoutError:
        return False
    return True


def test_idle_and_stalled_clients_do_not_block_others_and_stop_closes_them(
    sockets: list[socket.socket],
) -> None:
    server = HTTPServer(no_handler_status_code=404)
    server.start()
    try:
        server.expect_request("/good").respond_with_data("good")
        for _ in range(IDLE_CLIENTS):
            sockets.append(_connect(server.port))
        for number in range(STALLED_CLIENTS):
            sock = _connect(server.port)
            # One header line, then nothing: the server waits for the rest.
            sock.sendall(b"GET /stalled/%d HTTP/1.1\r\nHost: localhost\r\n" % number)
            sockets.append(sock)
        for _ in range(5):
            good_request_is_served(server)
        assert [e.outcome for e in server.log_entries] == [Outcome.MATCHED] * 5
    finally:
        started = time.perf_counter()
        server.stop()
        elapsed = time.perf_counter() - started
    print(f"stop() with {len(sockets)} idle or stalled clients took {elapsed * 1000:.1f} ms")
    assert not server.is_running()
    assert all(_sees_end_of_connection(sock) for sock in sockets)
    # The stalled requests were never complete: no request was logged for them.
    assert all(e.request is None or "stalled" not in e.request.path for e in server.log_entries)


def test_clients_dripping_header_lines_do_not_block_others(sockets: list[socket.socket]) -> None:
    server = HTTPServer()
    server.start()
    finished = threading.Event()
    errors: list[BaseException] = []

    def drip(sock: socket.socket) -> None:
        try:
            sock.sendall(b"GET /drip HTTP/1.1\r\nHost: localhost\r\n")
            for line in range(DRIP_LINES):
                if finished.wait(DRIP_INTERVAL):
                    return
                sock.sendall(b"X-Line-%d: v\r\n" % line)
        except OSError as exc:
            errors.append(exc)

    try:
        server.expect_request("/good").respond_with_data("good")
        for _ in range(DRIPPING_CLIENTS):
            sockets.append(_connect(server.port))
        drippers = [threading.Thread(target=drip, args=(s,)) for s in sockets]
        for thread in drippers:
            thread.start()
        pace = threading.Event()  # never set: a bounded pause between good requests
        for _ in range(GOOD_REQUESTS):
            good_request_is_served(server)
            pace.wait(GOOD_PACE)
        finished.set()
        for thread in drippers:
            thread.join(SOCKET_TIMEOUT)
        assert not any(thread.is_alive() for thread in drippers)
        assert errors == []
    finally:
        finished.set()
        started = time.perf_counter()
        server.stop()
        elapsed = time.perf_counter() - started
    print(f"stop() with {DRIPPING_CLIENTS} dripping clients took {elapsed * 1000:.1f} ms")
    assert all(_sees_end_of_connection(sock) for sock in sockets)
    assert [e.outcome for e in server.log_entries].count(Outcome.MATCHED) == GOOD_REQUESTS


SMALL = Limits(
    max_request_line=256, max_header_count=10, max_header_bytes=1024, max_body_bytes=1000
)


@pytest.fixture
def small_server() -> Iterator[HTTPServer]:
    srv = HTTPServer(no_handler_status_code=404, limits=SMALL)
    srv.start()
    try:
        srv.expect_request("/good").respond_with_data("good")
        srv.expect_request("/echo", method="POST").respond_with_data("posted")
        yield srv
    finally:
        srv.clear()
        srv.stop()


def _request(
    target: bytes = b"/echo", headers: list[bytes] | None = None, body: bytes = b""
) -> bytes:
    head = b"POST " + target + b" HTTP/1.1\r\nHost: localhost\r\n"
    head += b"".join(headers or [])
    if body and not any(h.lower().startswith(b"transfer-encoding") for h in headers or []):
        head += b"Content-Length: %d\r\n" % len(body)
    return head + b"\r\n" + body


def _line_of(length: int) -> bytes:
    """A request line of exactly ``length`` bytes, CRLF included."""
    fixed = len(b"POST  HTTP/1.1\r\n")
    return b"/echo?" + b"a" * (length - fixed - len(b"/echo?"))


OVER_LIMIT = {
    "request-line": (_request(_line_of(257)), 414, "request line longer than 256"),
    "header-count": (
        _request(headers=[b"X-%d: v\r\n" % n for n in range(10)]),
        431,
        "more than 10",
    ),
    "header-line": (
        _request(headers=[b"X-Big: " + b"v" * 1100 + b"\r\n"]),
        431,
        "longer than 1024",
    ),
    "header-total": (
        _request(headers=[b"X-%d: " % n + b"v" * 150 + b"\r\n" for n in range(8)]),
        431,
        "headers larger than 1024",
    ),
    "body": (_request(body=b"b" * 1001), 413, "body of 1001 bytes is over the 1000 limit"),
    "chunked-body": (
        _request(
            headers=[b"Transfer-Encoding: chunked\r\n"],
            body=b"200\r\n" + b"c" * 512 + b"\r\n200\r\n" + b"c" * 512 + b"\r\n0\r\n\r\n",
        ),
        413,
        "chunked body over the 1000 byte limit",
    ),
    "trailers": (
        _request(
            headers=[b"Transfer-Encoding: chunked\r\n"],
            body=b"1\r\nc\r\n0\r\n"
            + b"".join(b"T-%d: " % n + b"t" * 200 + b"\r\n" for n in range(6)),
        ),
        431,
        "trailers too large",
    ),
}


@pytest.mark.parametrize(("payload", "status", "reason"), OVER_LIMIT.values(), ids=OVER_LIMIT)
def test_request_over_a_configured_limit_gets_its_status_a_finding_and_the_server_goes_on(
    small_server: HTTPServer, payload: bytes, status: int, reason: str
) -> None:
    result = exchange(small_server.port, payload)

    assert result.statuses == [status]
    (entry,) = small_server.log_entries
    assert entry.outcome is Outcome.MALFORMED
    assert entry.response.status_code == status
    (finding,) = small_server.findings
    assert finding.kind is Kind.MALFORMED
    assert reason in finding.detail
    assert reason in result.responses[0][2].decode()
    good_request_is_served(small_server)


AT_LIMIT = {
    "request-line": _request(_line_of(256)),
    "header-count": _request(headers=[b"X-%d: v\r\n" % n for n in range(9)]),
    "body": _request(body=b"b" * 1000),
    "chunked-body": _request(
        headers=[b"Transfer-Encoding: chunked\r\n"],
        body=b"1f4\r\n" + b"c" * 500 + b"\r\n1f4\r\n" + b"c" * 500 + b"\r\n0\r\n\r\n",
    ),
}


@pytest.mark.parametrize("payload", AT_LIMIT.values(), ids=AT_LIMIT)
def test_request_exactly_at_a_limit_is_served(small_server: HTTPServer, payload: bytes) -> None:
    result = exchange(small_server.port, payload)

    assert result.statuses == [200]
    assert small_server.findings == []


def test_default_limits_are_the_documented_ones() -> None:
    assert Limits() == Limits(
        max_request_line=8192,
        max_header_count=100,
        max_header_bytes=65536,
        max_body_bytes=10 * 1024 * 1024,
    )
    assert HTTPServer().limits == Limits()


def test_body_over_the_limit_sent_with_expect_continue_is_refused_before_it_is_sent(
    small_server: HTTPServer,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", small_server.port, timeout=10)
    try:
        connection.putrequest("POST", "/echo")
        connection.putheader("Content-Length", "5000")
        connection.putheader("Expect", "100-continue")
        connection.endheaders()
        response = connection.getresponse()  # No body was sent: the answer comes first.
        assert response.status == 413
        response.read()
    finally:
        connection.close()
    assert [f.kind for f in small_server.findings] == [Kind.MALFORMED]
    good_request_is_served(small_server)
