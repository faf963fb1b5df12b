"""Connections: keep-alive, one thread per connection, stop() with idle clients, IPv4/IPv6."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from werkzeug.wrappers import Request, Response

from httpdouble import URI_DEFAULT, HTTPServer, Kind, Limits, Outcome
from httpdouble._server.connection import Pending
from httpdouble._server.core import IOCore
from httpdouble._server.loop_connection import Conn

from .clients import HTTPClient


def _remote_ports(server: HTTPServer) -> set[str]:
    return {request.environ["REMOTE_PORT"] for request, _ in server.log}


def test_several_requests_share_one_http_client_connection(server: HTTPServer) -> None:
    server.expect_request("/k").respond_with_data("kept")
    server.expect_request("/post", method="POST").respond_with_data("posted")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        for number in range(5):
            if number % 2:
                connection.request("POST", "/post", body=b"x" * number * 100)
            else:
                connection.request("GET", "/k")
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Connection") is None
            response.read()
        sock = connection.sock
        connection.request("POST", "/post", body=iter([b"chunk", b"ed"]), encode_chunked=True)
        response = connection.getresponse()
        assert response.read() == b"posted"
        assert connection.sock is sock
    finally:
        connection.close()
    assert len(server.log) == 6
    assert len(_remote_ports(server)) == 1
    assert server.log[-1][0].get_data() == b"chunked"


@pytest.mark.parametrize("name", ["requests", "httpx", "urllib3"])
def test_pooling_clients_reuse_one_connection(
    server: HTTPServer, make_client: Callable[[str], HTTPClient], name: str
) -> None:
    server.expect_request(URI_DEFAULT).respond_with_data("pooled")
    client = make_client(name)
    for number in range(4):
        assert client.get(server.url_for(f"/{number}")).text == "pooled"
    assert len(_remote_ports(server)) == 1


def test_connection_close_from_the_client_is_honoured(server: HTTPServer) -> None:
    server.expect_request("/bye").respond_with_data("bye")
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nConnection: close\r\n" in received
    assert received.endswith(b"\r\n\r\nbye")


def test_a_slow_handler_does_not_block_another_client(
    server: HTTPServer, make_client: Callable[[str], HTTPClient]
) -> None:
    entered = threading.Event()
    release = threading.Event()

    def slow(request: Request) -> Response:
        entered.set()
        release.wait(60)
        return Response("slow done")

    server.expect_request("/slow").respond_with_handler(slow)
    server.expect_request("/fast").respond_with_data("fast")
    slow_replies: list[str] = []
    slow_client = make_client("http.client")
    worker = threading.Thread(
        target=lambda: slow_replies.append(slow_client.get(server.url_for("/slow")).text)
    )
    worker.start()
    try:
        assert entered.wait(30), "the slow request never reached its handler"
        # The slow handler is still blocked here; a second client must be served anyway.
        # Its 30 s client timeout fails the test long before the slow handler gives up.
        for name in ("requests", "httpx"):
            assert make_client(name).get(server.url_for("/fast")).text == "fast"
        assert not slow_replies
    finally:
        release.set()
        worker.join(30)
    assert slow_replies == ["slow done"]


def test_stop_returns_with_idle_keep_alive_connections_and_closes_them() -> None:
    server = HTTPServer()
    server.start()
    try:
        server.expect_request("/idle").respond_with_data("idle")
        kept = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        silent = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        kept.request("GET", "/idle")
        assert kept.getresponse().read() == b"idle"
        # The connection thread of `silent` is blocked reading a request line that never comes.
        server.stop()
        assert not server.is_running()
        assert silent.recv(1) == b""
        assert kept.sock is not None
        assert kept.sock.recv(1) == b""
    finally:
        kept.close()
        silent.close()
        if server.is_running():
            server.stop()


def _conn_threads(server: HTTPServer) -> list[threading.Thread]:
    name = f"httpdouble:{server.port}:conn"
    return [t for t in threading.enumerate() if t.name == name]


def _until_a_thread_is_parked(server: HTTPServer) -> None:
    """Wait (5 s at most) until a connection thread waits for its next connection."""
    parked = threading.Event()
    for _ in range(500):
        if len(server._core._idle):
            return
        parked.wait(0.01)
    raise AssertionError("no connection thread parked within 5 s of its connection's end")


def _one_request_per_connection(server: HTTPServer, count: int, *, park: bool = False) -> None:
    """``park``: before each next connection, wait until the last one's thread is parked."""
    for number in range(count):
        if park and number:
            _until_a_thread_is_parked(server)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            connection.request("GET", "/which")
            assert connection.getresponse().read() == b"seen"
        finally:
            connection.close()


def test_a_connection_thread_serves_the_next_connection_instead_of_ending() -> None:
    seen = threading.local()
    fresh_threads: list[int] = []

    def which(request: Request) -> Response:
        if not getattr(seen, "before", False):  # a thread-local starts empty on a new thread
            seen.before = True
            fresh_threads.append(1)
        return Response("seen")

    with HTTPServer(handler_timeout=None) as server:  # handler on the connection's thread
        server.expect_request("/which").respond_with_handler(which)
        _one_request_per_connection(server, 20, park=True)
        assert len(server.log) == 20
        # Each connection opens once the last one's thread waits for it: one thread serves all.
        assert fresh_threads == [1]
    assert _conn_threads(server) == []


class _DawdlingCore(IOCore):
    """Its connection threads linger between the end of a piece of work and parking."""

    connection_ended: threading.Event

    def _serve_turn(self, conn: Conn, pending: Pending | None) -> None:
        super()._serve_turn(conn, pending)
        self.connection_ended.set()
        time.sleep(0.3)  # stop() runs now: the thread is neither serving nor parked


class _DawdlingServer(HTTPServer):
    """Its I/O core's connection threads linger between a piece of work and parking."""

    def __init__(self) -> None:
        super().__init__()
        self.connection_ended = threading.Event()
        self._core = _DawdlingCore(self, self._app.entry, self._core._reports)
        self._core.connection_ended = self.connection_ended


def test_stop_joins_a_connection_thread_caught_between_two_connections() -> None:
    server = _DawdlingServer()
    with server:
        # A handler function: its request is served on a connection thread, not the loop.
        server.expect_request("/which").respond_with_handler(_seen)
        _one_request_per_connection(server, 1)
        assert server.connection_ended.wait(10)
    assert _conn_threads(server) == []


def _seen(request: Request) -> Response:
    return Response("seen")


def test_idle_connection_threads_end_after_a_while_and_at_stop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import httpdouble._server.core as server_module

    monkeypatch.setattr(server_module, "_IDLE_THREAD_SECONDS", 0.05)
    with HTTPServer() as server:
        server.expect_request("/which").respond_with_handler(_seen)
        _one_request_per_connection(server, 3)
        for thread in _conn_threads(server):
            thread.join(5)
        assert _conn_threads(server) == []  # ended on their own, the server still running
        _one_request_per_connection(server, 3)  # and a new connection gets a new thread
        assert len(server.log) == 6
    monkeypatch.setattr(server_module, "_IDLE_THREAD_SECONDS", 60.0)
    with HTTPServer() as server:
        server.expect_request("/which").respond_with_handler(_seen)
        _one_request_per_connection(server, 3)
        assert _conn_threads(server) != []  # idle, waiting for a next connection
    assert _conn_threads(server) == []  # stop() ended them at once


def test_localhost_serves_ipv4(
    server: HTTPServer, make_client: Callable[[str], HTTPClient]
) -> None:
    server.expect_request("/v4").respond_with_data("v4")
    for name in ("requests", "http.client"):
        assert make_client(name).get(f"http://127.0.0.1:{server.port}/v4").text == "v4"
    assert {request.environ["REMOTE_ADDR"] for request, _ in server.log} == {"127.0.0.1"}


def test_localhost_serves_ipv6(
    server: HTTPServer, make_client: Callable[[str], HTTPClient], ipv6_loopback: str
) -> None:
    server.expect_request("/v6").respond_with_data("v6")
    for name in ("httpx", "urllib3"):
        assert make_client(name).get(f"http://[::1]:{server.port}/v6").text == "v6"
    assert {request.environ["REMOTE_ADDR"] for request, _ in server.log} == {ipv6_loopback}


def test_server_on_ipv6_address_puts_brackets_in_urls(
    make_client: Callable[[str], HTTPClient], ipv6_loopback: str
) -> None:
    with HTTPServer(ipv6_loopback) as server:
        assert server.url_for("/x") == f"http://[::1]:{server.port}/x"
        server.expect_request("/x").respond_with_data("six")
        for name in ("requests", "http.client"):
            assert make_client(name).get(server.url_for("/x")).text == "six"


def test_server_on_ipv4_address_serves_only_that(
    make_client: Callable[[str], HTTPClient],
) -> None:
    with HTTPServer("127.0.0.1") as server:
        assert server.url_for("/x") == f"http://127.0.0.1:{server.port}/x"
        server.expect_request("/x").respond_with_data("four")
        for name in ("httpx", "urllib3"):
            assert make_client(name).get(server.url_for("/x")).text == "four"


# ---------------------------------------------------------------------- limits


@pytest.fixture
def small_server() -> Iterator[HTTPServer]:
    limits = Limits(max_request_line=200, max_header_count=8, max_body_bytes=10)
    srv = HTTPServer(limits=limits)
    srv.start()
    yield srv
    srv.stop()


@pytest.mark.parametrize("name", ["requests", "http.client"])
def test_body_over_the_limit_gets_413_and_a_finding(
    small_server: HTTPServer, make_client: Callable[[str], HTTPClient], name: str
) -> None:
    small_server.expect_request("/b").respond_with_data("never")
    reply = make_client(name).post(small_server.url_for("/b"), b"x" * 11)
    assert reply.status == 413
    assert "over the 10 limit" in reply.text
    [entry] = small_server.log_entries
    assert entry.outcome is Outcome.MALFORMED
    assert entry.request is None
    [finding] = small_server.findings
    assert finding.kind is Kind.MALFORMED
    assert finding.expected == "POST /b HTTP/1.1"
    assert small_server.log == []


@pytest.mark.parametrize("name", ["httpx", "urllib3"])
def test_long_request_line_gets_414(
    small_server: HTTPServer, make_client: Callable[[str], HTTPClient], name: str
) -> None:
    reply = make_client(name).get(small_server.url_for("/" + "a" * 300))
    assert reply.status == 414
    detail = small_server.findings[0].detail
    assert detail.startswith("answered 414: request line longer than 200 bytes\n")
    assert "Limits(max_request_line=200)" in detail


@pytest.mark.parametrize("name", ["requests", "urllib3"])
def test_too_many_headers_get_431(
    small_server: HTTPServer, make_client: Callable[[str], HTTPClient], name: str
) -> None:
    headers = {f"X-H{number}": "v" for number in range(10)}
    reply = make_client(name).get(small_server.url_for("/h"), headers=headers)
    assert reply.status == 431
    with pytest.raises(AssertionError, match="malformed request"):
        small_server.check_assertions()
