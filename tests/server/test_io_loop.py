"""The I/O loop: cached replies served from the loop, hand-overs to threads and back.

Every test here sends a request twice or more: the first use of a static response is
answered on a thread (and cached), the next ones by the loop itself.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
from collections.abc import Iterator

import httpx
import pytest
import requests
from werkzeug.wrappers import Request, Response

from httpdouble import BlockingHTTPServer, HeaderValueMatcher, HTTPServer, Limits, Outcome
from httpdouble._app.entry import RequestEntry
from httpdouble._server.core import IOCore

TIMEOUT = 10
BIG = 8 * 1024 * 1024  # more than the loopback socket buffers take at once


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer(handler_timeout=None) as server:
        yield server


def _read_response(sock: socket.socket, buffered: bytearray) -> tuple[bytes, bytes]:
    """Read one response with a Content-Length body; return its head and body."""
    while b"\r\n\r\n" not in buffered:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a whole head: {bytes(buffered[:200])!r}"
        buffered += chunk
    end = buffered.index(b"\r\n\r\n") + 4
    head = bytes(buffered[:end])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(buffered) < end + length:
        chunk = sock.recv(1 << 20)
        assert chunk, "closed in the middle of a body"
        buffered += chunk
    body = bytes(buffered[end : end + length])
    del buffered[: end + length]
    return head, body


def test_pipelined_requests_mixing_loop_and_threads_are_answered_in_order(
    server: HTTPServer,
) -> None:
    server.expect_request("/static").respond_with_data("s")
    server.expect_request("/function").respond_with_handler(lambda r: Response("f"))
    with requests.get(server.url_for("/static"), timeout=TIMEOUT) as warm:  # now cached
        assert warm.text == "s"
    order = ["/static", "/function", "/static", "/missing", "/static", "/function"]
    pipeline = b"".join(f"GET {p} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for p in order)
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(pipeline)
        buffered = bytearray()
        bodies = [_read_response(sock, buffered)[1] for _ in order]
    assert bodies[:3] == [b"s", b"f", b"s"]
    assert b"No handler found" in bodies[3]
    assert bodies[4:] == [b"s", b"f"]
    assert [r.path for r, _ in server.log] == ["/static", *order]


def test_a_big_cached_reply_goes_out_as_a_slow_reader_reads_it(server: HTTPServer) -> None:
    body = bytes(range(256)) * (BIG // 256)
    server.expect_request("/big").respond_with_data(body)
    server.expect_request("/small").respond_with_data("next")
    assert requests.get(server.url_for("/big"), timeout=TIMEOUT).content == body
    request = b"GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /small HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        buffered = bytearray()
        assert _read_response(sock, buffered)[1] == body
        assert _read_response(sock, buffered)[1] == b"next"
    # The loop stayed free for others while that reply was on its way.
    assert httpx.get(server.url_for("/small"), timeout=TIMEOUT).text == "next"


def test_a_cached_reply_the_client_does_not_take_is_logged_as_not_delivered(
    server: HTTPServer,
) -> None:
    server.expect_request("/big").respond_with_data(b"x" * BIG)
    assert len(requests.get(server.url_for("/big"), timeout=TIMEOUT).content) == BIG
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
    sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.recv(100).startswith(b"HTTP/1.1 200")
    # Close with unread bytes and SO_LINGER 0: a reset, so the server's next send fails.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    for _ in range(500):
        if server.log_entries[-1].outcome is Outcome.NOT_DELIVERED:
            break
        threading.Event().wait(0.01)
    assert server.log_entries[-1].outcome is Outcome.NOT_DELIVERED
    assert requests.get(server.url_for("/big"), timeout=TIMEOUT).status_code == 200


def test_connection_close_and_http10_are_honoured_on_cached_replies(server: HTTPServer) -> None:
    server.expect_request("/c").respond_with_data("c")
    for _ in range(2):
        assert requests.get(server.url_for("/c"), timeout=TIMEOUT).text == "c"
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        buffered = bytearray()
        head, body = _read_response(sock, buffered)
        assert b"Connection: keep-alive" in head
        assert body == b"c"
        sock.sendall(b"GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head, body = _read_response(sock, buffered)
        assert b"Connection: close" in head
        assert body == b"c"
        assert sock.recv(10) == b""  # the server closed it
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET /c HTTP/1.0\r\n\r\n")
        head, body = _read_response(sock, bytearray())
        assert b"Connection: close" in head
        assert body == b"c"


def test_a_request_cut_short_in_the_loop_is_answered_by_the_strict_reader(
    server: HTTPServer,
) -> None:
    server.expect_request("/c", method="POST").respond_with_data("c")
    for _ in range(2):
        assert requests.post(server.url_for("/c"), data=b"abc", timeout=TIMEOUT).text == "c"
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        sock.shutdown(socket.SHUT_WR)
        head, body = _read_response(sock, bytearray())
    assert head.startswith(b"HTTP/1.1 400")
    assert b"truncated" in body
    assert server.log_entries[-1].outcome is Outcome.MALFORMED


def test_a_handler_blocked_on_a_thread_does_not_hold_up_cached_replies(
    server: HTTPServer,
) -> None:
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(TIMEOUT)
        return Response("slow")

    server.expect_request("/slow").respond_with_handler(slow)
    server.expect_request("/fast").respond_with_data("fast")
    with httpx.Client(timeout=TIMEOUT) as fast:
        assert fast.get(server.url_for("/fast")).text == "fast"
        result: list[str] = []
        waiter = threading.Thread(
            target=lambda: result.append(requests.get(server.url_for("/slow"), timeout=20).text)
        )
        waiter.start()
        try:
            for _ in range(20):  # all served while the handler still waits
                assert fast.get(server.url_for("/fast")).text == "fast"
            assert result == []
        finally:
            release.set()
            waiter.join(20)
    assert result == ["slow"]


def test_stop_closes_connections_the_loop_and_threads_hold() -> None:
    server = HTTPServer(handler_timeout=None)
    server.start()
    entered = threading.Event()

    def hold(request: Request) -> Response:
        entered.set()
        threading.Event().wait(0.2)  # stop() comes while it holds the connection
        return Response("held")

    server.expect_request("/hold").respond_with_handler(hold)
    server.expect_request("/idle").respond_with_data("idle")
    idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    for _ in range(2):  # the second is served by the loop, which then owns the connection
        idle.request("GET", "/idle")
        assert idle.getresponse().read() == b"idle"
    holder = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
    holder.sendall(b"GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
    assert entered.wait(TIMEOUT)
    server.stop()  # the held connection's thread gives it back to a loop that has ended
    idle.request("GET", "/idle")
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        idle.getresponse()
    idle.close()
    with holder:
        holder.settimeout(TIMEOUT)
        try:
            rest = holder.recv(65536)
        except ConnectionError:
            rest = b""
        while rest and not rest.endswith(b"held"):
            more = holder.recv(65536)
            if not more:
                break
            rest += more
        assert holder.recv(10) == b""  # closed by the server after stop
    assert not server.is_running()


def test_a_blocking_server_and_a_custom_dispatch_answer_through_threads() -> None:
    class Custom(HTTPServer):
        def dispatch(self, request: Request) -> Response:
            return Response(f"custom {request.path}")

    with Custom() as custom:
        for _ in range(3):
            assert requests.get(custom.url_for("/x"), timeout=TIMEOUT).text == "custom /x"
    blocking = BlockingHTTPServer(timeout=TIMEOUT)
    with blocking:
        result: list[str] = []
        client = threading.Thread(
            target=lambda: result.append(requests.get(blocking.url_for("/b"), timeout=20).text)
        )
        client.start()
        handler = blocking.assert_request("/b")
        handler.respond_with_data("blocked")
        client.join(20)
    assert result == ["blocked"]


def test_a_client_resetting_an_idle_connection_leaves_the_loop_serving(
    server: HTTPServer,
) -> None:
    server.expect_request("/r").respond_with_data("r")
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        for _ in range(2):  # the second answer comes from the loop, which keeps the connection
            sock.sendall(b"GET /r HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _read_response(sock, bytearray())[1] == b"r"
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # a reset: the loop's next read fails
    assert requests.get(server.url_for("/r"), timeout=TIMEOUT).text == "r"
    assert [e.outcome for e in server.log_entries] == [Outcome.MATCHED] * 7


def test_a_bug_in_the_loops_lookup_is_a_500_and_a_finding_not_a_dead_loop() -> None:
    class Broken(RequestEntry):
        broken = False

        def begin_request(self, environ: dict[str, object], raw: object = None) -> object:  # type: ignore[override]
            if self.broken:
                raise RuntimeError("a bug in begin")
            return super().begin_request(environ, raw)  # type: ignore[arg-type]

    server = HTTPServer()
    broken = Broken(server._app, False)
    server._core = IOCore(server, broken, server._core._reports)  # its loop calls the broken one
    with server:
        server.expect_request("/x").respond_with_data("x")
        assert requests.get(server.url_for("/x"), timeout=TIMEOUT).text == "x"
        broken.broken = True
        response = requests.get(server.url_for("/x"), timeout=TIMEOUT)
        assert response.status_code == 500
        assert "internal error" in response.text
        broken.broken = False
        assert requests.get(server.url_for("/x"), timeout=TIMEOUT).text == "x"
        with pytest.raises(AssertionError, match="RuntimeError") as raised:
            server.check_assertions()
        assert str(raised.value.__cause__) == "a bug in begin"


def test_heads_the_bulk_parser_leaves_to_the_strict_reader_are_answered_at_once(
    server: HTTPServer,
) -> None:
    """A bare LF before the blank line, empty lines first, a request line over its limit."""
    server.expect_request("/x").respond_with_data("x")
    assert requests.get(server.url_for("/x"), timeout=TIMEOUT).text == "x"
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: x\n\r\n")  # answered without a close
        assert _read_response(sock, bytearray())[1] == b"x"
        sock.sendall(b"\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_response(sock, bytearray())[1] == b"x"
    server.limits = Limits(max_request_line=100)
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET /" + b"a" * 200)  # still arriving, already over the limit
        head, _ = _read_response(sock, bytearray())
    assert head.startswith(b"HTTP/1.1 414")


def test_a_matcher_calling_pytest_fail_is_a_500_and_a_finding_and_the_loop_serves_on(
    server: HTTPServer,
) -> None:
    def refuse(actual: str | None, expected: str) -> bool:
        pytest.fail("this matcher refuses every request")

    server.expect_request(
        "/m", headers={"X-Key": "k"}, header_value_matcher=HeaderValueMatcher({"X-Key": refuse})
    ).respond_with_data("never")
    server.expect_request("/ok").respond_with_data("ok")
    for _ in range(2):
        assert requests.get(server.url_for("/ok"), timeout=TIMEOUT).text == "ok"
    response = requests.get(server.url_for("/m"), headers={"X-Key": "k"}, timeout=TIMEOUT)
    assert response.status_code == 500
    assert "matcher" in response.text
    assert requests.get(server.url_for("/ok"), timeout=TIMEOUT).text == "ok"
    with pytest.raises(pytest.fail.Exception, match="this matcher refuses"):
        server.check_handler_errors()


def test_a_connection_stays_with_its_thread_while_requests_come_then_goes_back_to_the_loop(
    server: HTTPServer,
) -> None:
    server.expect_request("/f").respond_with_handler(lambda r: Response("f"))
    server.expect_request("/s").respond_with_data("s")
    with requests.Session() as session:
        for _ in range(3):  # each next request finds the thread still waiting for it
            assert session.get(server.url_for("/f"), timeout=TIMEOUT).text == "f"
        threading.Event().wait(0.5)  # idle longer than a thread waits: back to the loop
        for path in ("/s", "/s", "/f"):
            assert session.get(server.url_for(path), timeout=TIMEOUT).text == path[1]
    assert [r.path for r, _ in server.log] == ["/f"] * 3 + ["/s", "/s", "/f"]
