"""Edge cases of streams, latency and the richer matchers, found in review."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from httpdouble import HTTPDoubleUsageError, HTTPServer, Part, RequestMatcher

WAIT = 5.0


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer() as srv:
        yield srv


def _exchange(server: HTTPServer, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        for _ in range(1000):
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_body_matcher_of_the_richer_kind_never_reads_under_the_lock(server: HTTPServer) -> None:
    server.expect_request("/a", method="POST", json_contains={"a": 1}).respond_with_data("a")
    server.expect_request("/b").respond_with_data("b")
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as slow:
        slow.sendall(
            b"POST /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n"
        )
        assert slow.recv(100).startswith(b"HTTP/1.1 100 Continue")
        slow.sendall(b'{"')  # and stalls
        answer = _exchange(server, b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200 ")
    server.clear()


def _multipart_request(body: bytes) -> Request:
    builder = EnvironBuilder(
        path="/",
        method="POST",
        data=body,
        headers={"Content-Type": "multipart/form-data; boundary=zz"},
    )
    return Request(builder.get_environ())


def test_multipart_parts_without_a_filename_keep_their_bytes_and_content_type() -> None:
    request = _multipart_request(
        b'--zz\r\nContent-Disposition: form-data; name="meta"\r\n'
        b"Content-Type: application/json\r\n\r\n"
        b'{"a": 1}\r\n'
        b'--zz\r\nContent-Disposition: form-data; name="blob"\r\n\r\n\xff\x00\xfe\r\n--zz--\r\n'
    )
    meta = RequestMatcher(
        "/", multipart={"meta": Part(b'{"a": 1}', content_type="application/json")}
    )
    blob = RequestMatcher("/", multipart={"blob": b"\xff\x00\xfe"})
    assert meta.difference(request) == []
    assert blob.difference(request) == []


def test_odd_bodies_do_not_match_instead_of_raising() -> None:
    deep = Request(EnvironBuilder(method="POST", data=b"[" * 100_000).get_environ())
    matcher = RequestMatcher("/", json_contains={"a": 1})
    assert not matcher.match(deep)
    assert [m.field for m in matcher.difference(deep)] == ["json_contains"]
    assert not RequestMatcher("/", json={"a": 1}).match(deep)
    idna = Request(
        EnvironBuilder(
            method="POST", data=b"abc", headers={"Content-Type": "text/plain; charset=idna"}
        ).get_environ()
    )
    regex = RequestMatcher("/", body_regex="x")
    assert not regex.match(idna)
    assert [m.field for m in regex.difference(idna)] == ["body_regex"]


def test_latency_with_bytes_waiting_still_lets_stop_end_the_connection() -> None:
    server = HTTPServer()
    server.start()
    server.expect_request("/slow").with_latency(30).respond_with_data("ok")
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        # A second request, too big for the first read's buffer, waits in the socket while
        # the first one's latency runs.
        sock.sendall(
            b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"a" * 100_000
        )
        for _ in range(500):  # until the server holds the first request
            if server.logged_requests:
                break
            threading.Event().wait(0.01)
        server.stop()
    threads = [t for t in threading.enumerate() if t.name.startswith(f"httpdouble:{server.port}")]
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads)


def test_a_head_request_leaves_a_one_use_stream_for_the_get(server: HTTPServer) -> None:
    server.expect_request("/s").respond_with_stream(iter([b"a", b"b"]))
    head = _exchange(server, b"HEAD /s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    get = _exchange(server, b"GET /s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert get.startswith(b"HTTP/1.1 200 ")
    assert get.endswith(b"1\r\na\r\n1\r\nb\r\n0\r\n\r\n")
    server.check()


def test_a_streamed_head_tells_an_http_1_0_client_the_connection_stays(
    server: HTTPServer,
) -> None:
    server.expect_request("/s").respond_with_stream([b"a"])
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        sock.sendall(b"HEAD /s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        head = b""
        for _ in range(1000):
            head += sock.recv(1)
            if head.endswith(b"\r\n\r\n"):
                break
    assert b"Connection: keep-alive\r\n" in head


def test_a_sequence_refuses_a_generator_response_instead_of_reading_it(
    server: HTTPServer,
) -> None:
    def endless() -> Iterator[bytes]:
        while True:
            yield b"x"

    with pytest.raises(HTTPDoubleUsageError, match="responses\\[0\\]"):
        server.expect_request("/q").respond_with_sequence([Response(endless())])
    server.clear()


def test_times_passes_through_the_baked_oneshot_and_ordered_twins(server: HTTPServer) -> None:
    baked = server.bake(times=2)
    handler = baked.expect_ordered_request("/o")
    assert handler in server.ordered_handlers
    with pytest.raises(HTTPDoubleUsageError, match="times"):
        baked.expect_oneshot_request("/one")
    assert server.bake(times=1).expect_oneshot_request("/one") in server.oneshot_handlers
    server.clear()
