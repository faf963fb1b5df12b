"""HTTP/1.1 details of the connection loop, checked on raw sockets and with httpx."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from httpdouble import HTTPServer


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer(no_handler_status_code=404) as srv:
        srv.expect_request("/echo", method="POST").respond_with_handler(
            lambda request: request.get_data(as_text=True) or "empty"
        )
        yield srv


def _exchange(server: HTTPServer, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_handler_date_header_is_sent_once_and_hop_by_hop_headers_are_the_servers(
    server: HTTPServer,
) -> None:
    server.expect_request("/dated").respond_with_data(
        "x", headers={"Date": "Mon, 01 Jan 2024 00:00:00 GMT", "Transfer-Encoding": "chunked"}
    )
    with httpx.Client(timeout=10) as client:
        response = client.get(server.url_for("/dated"))
    assert response.headers.get_list("date") == ["Mon, 01 Jan 2024 00:00:00 GMT"]
    assert "transfer-encoding" not in response.headers
    assert response.text == "x"


def test_header_name_with_underscore_is_not_taken_for_content_length(server: HTTPServer) -> None:
    answer = _exchange(
        server, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent_Length: 5\r\nConnection: close\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b"empty")


@pytest.mark.parametrize("size", [b"0_5", b"+5", b"0x5", b" ", b"5 5"])
def test_chunk_size_must_be_hex_digits(server: HTTPServer, size: bytes) -> None:
    raw = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + size
        + b"\r\nhello\r\n0\r\n\r\n"
    )
    assert _exchange(server, raw).startswith(b"HTTP/1.1 400 ")


def test_http10_client_gets_no_100_continue(server: HTTPServer) -> None:
    raw = (
        b"POST /echo HTTP/1.0\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello"
    )
    answer = _exchange(server, raw)
    assert b"100 Continue" not in answer
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b"hello")


def test_static_response_served_many_times_on_one_connection_stays_exact(
    server: HTTPServer,
) -> None:
    handler = server.expect_request("/static")
    handler.respond_with_data("first", status=202, headers={"X-Tag": "a", "Connection": "close"})
    raw = b"GET /static HTTP/1.1\r\nHost: x\r\n\r\n"
    answers = [_exchange(server, raw) for _ in range(3)]
    for answer in answers:  # the first builds the response, the others reuse it
        head, _, body = answer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        assert lines[0] == b"HTTP/1.1 202 ACCEPTED"
        assert b"X-Tag: a" in lines
        assert b"Content-Length: 5" in lines
        assert [line for line in lines if line.lower().startswith(b"connection")] == [
            b"Connection: close"
        ]
        assert body == b"first"
    head_only = _exchange(server, b"HEAD /static HTTP/1.1\r\nHost: x\r\n\r\n")
    assert head_only.startswith(b"HTTP/1.1 202 ")
    assert head_only.endswith(b"\r\n\r\n")
    handler.respond_with_json({"second": True})  # a new response replaces the one kept
    answer = _exchange(server, raw)
    assert b"Content-Type: application/json" in answer
    assert answer.endswith(b'{\n    "second": true\n}')
    assert [response.get_data() for _, response in server.log] == [
        b"first",
        b"first",
        b"first",
        b"first",  # the log keeps the handler's response; HEAD only left its body unsent
        b'{\n    "second": true\n}',  # indent=4, as pytest-httpserver writes it
    ]


@pytest.mark.parametrize("name", [b"Host ", b"X-A b", b"X-\x01"])
def test_header_name_that_is_not_a_token_is_refused_even_after_valid_names(
    server: HTTPServer, name: bytes
) -> None:
    server.expect_request("/ok").respond_with_data("ok")
    good = _exchange(server, b"GET /ok HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nConnection: close\r\n\r\n")
    assert good.startswith(b"HTTP/1.1 200 ")
    bad = _exchange(server, b"GET /ok HTTP/1.1\r\nHost: x\r\n" + name + b": 1\r\n\r\n")
    assert bad.startswith(b"HTTP/1.1 400 ")
    assert b"malformed header line" in bad
