"""``Expect: 100-continue``: the interim answer comes when the body is needed, not before.

The client here sends the head only and waits for the server's word before the body,
as curl and other uploaders do. Every read has a socket timeout, so a server that
never answers makes a test fail instead of hanging.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.wrappers import Request

from httpdouble import HTTPServer, Kind, Outcome

WAIT = 5.0  # seconds a socket waits before the test fails: the 100 is owed long before


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer(no_handler_status_code=404) as srv:
        srv.expect_request("/echo", method="POST").respond_with_handler(
            lambda request: request.get_data(as_text=True) or "empty"
        )
        yield srv
        srv.clear()


def _connect(server: HTTPServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)


def _read_head(sock: socket.socket) -> bytes:
    """Read up to the end of one response head (bounded in reads)."""
    data = b""
    for _ in range(1000):
        if b"\r\n\r\n" in data:
            break
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    for _ in range(10_000):
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _head(path: bytes, *headers: bytes) -> bytes:
    return (
        b"POST "
        + path
        + b" HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        + b"".join(headers)
        + b"\r\n"
    )


def test_the_100_continue_comes_before_the_body_and_the_body_is_then_served(
    server: HTTPServer,
) -> None:
    with _connect(server) as sock:
        sock.sendall(_head(b"/echo", b"Content-Length: 5\r\n"))
        assert _read_head(sock) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        head = _read_head(sock)
        assert head.startswith(b"HTTP/1.1 200 ")
        assert b"connection: close" not in head.lower()  # the connection stays usable
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        rest = _read_all(sock)
    assert rest.startswith(b"hello")
    assert b"HTTP/1.1 404 " in rest
    assert server.log_entries[0].request is not None
    assert server.log_entries[0].request.get_data() == b"hello"


def test_a_chunked_body_also_waits_for_its_100_continue(server: HTTPServer) -> None:
    with _connect(server) as sock:
        sock.sendall(_head(b"/echo", b"Transfer-Encoding: chunked\r\nConnection: close\r\n"))
        assert _read_head(sock) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"3\r\nabc\r\n0\r\n\r\n")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b"abc")


def test_a_data_matcher_reading_the_body_to_match_triggers_the_100(server: HTTPServer) -> None:
    server.expect_request("/form", method="POST", data="a=1").respond_with_data("matched")
    with _connect(server) as sock:
        sock.sendall(_head(b"/form", b"Content-Length: 3\r\nConnection: close\r\n"))
        assert _read_head(sock) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"a=1")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b"matched")


def test_no_handler_gets_the_final_status_without_a_100_and_the_body_unread(
    server: HTTPServer,
) -> None:
    with _connect(server) as sock:
        sock.sendall(_head(b"/nowhere", b"Content-Length: 5\r\n"))
        answer = _read_all(sock)  # the server closes: the client never sent the body
    assert answer.startswith(b"HTTP/1.1 404 ")
    assert b"100 Continue" not in answer
    assert b"connection: close" in answer.lower()
    (entry,) = server.log_entries
    assert entry.outcome is Outcome.NO_HANDLER
    assert entry.request is not None
    assert entry.request.get_data() == b""
    assert [f.kind for f in server.findings] == [Kind.NO_HANDLER]


def test_a_body_over_the_limit_gets_413_without_a_100(server: HTTPServer) -> None:
    with _connect(server) as sock:
        sock.sendall(_head(b"/echo", b"Content-Length: 999999999\r\n"))
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"100 Continue" not in answer
    assert server.log_entries[0].outcome is Outcome.MALFORMED


def test_a_body_cut_short_after_the_100_is_a_400_logged_once_as_malformed(
    server: HTTPServer,
) -> None:
    with _connect(server) as sock:
        sock.sendall(_head(b"/echo", b"Content-Length: 10\r\n"))
        assert _read_head(sock) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"abc")
        sock.shutdown(socket.SHUT_WR)
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"body truncated" in answer
    assert [e.outcome for e in server.log_entries] == [Outcome.MALFORMED]
    assert [f.kind for f in server.findings] == [Kind.MALFORMED]


def test_a_handler_function_reading_the_body_gets_it_after_the_100(server: HTTPServer) -> None:
    def upper(request: Request) -> str:
        return request.get_data(as_text=True).upper()

    server.expect_request("/upper", method="PUT").respond_with_handler(upper)
    with _connect(server) as sock:
        sock.sendall(
            b"PUT /upper HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n"
            b"Content-Length: 2\r\nConnection: close\r\n\r\n"
        )
        assert _read_head(sock) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"ok")
        answer = _read_all(sock)
    assert answer.endswith(b"OK")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_uploading_two_megabytes_is_told_to_continue(
    server: HTTPServer, tmp_path: Path
) -> None:
    """curl sends ``Expect: 100-continue`` for a body this large and prints the 100 it gets."""
    upload = tmp_path / "upload.bin"
    upload.write_bytes(b"u" * (2 * 1024 * 1024))
    server.expect_request("/upload", method="POST").respond_with_handler(
        lambda request: str(len(request.get_data()))
    )
    result = subprocess.run(
        ["curl", "-sS", "-v", "--data-binary", f"@{upload}", server.url_for("/upload")],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert result.stdout == str(2 * 1024 * 1024)
    assert "Expect: 100-continue" in result.stderr
    assert "< HTTP/1.1 100 Continue" in result.stderr


def test_a_body_cut_short_under_a_oneshot_handler_function_still_settles_wait(
    server: HTTPServer,
) -> None:
    server.expect_oneshot_request("/once", method="POST").respond_with_handler(
        lambda request: request.get_data(as_text=True)
    )
    with server.wait(raise_assertions=False, timeout=WAIT) as waiting, _connect(server) as sock:
        sock.sendall(_head(b"/once", b"Content-Length: 10\r\n"))
        assert _read_head(sock) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"abc")
        sock.shutdown(socket.SHUT_WR)
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 400 ")
    # The oneshot handler was used: its request is settled, so wait() ended with it.
    assert waiting.result is True
    server.clear()
