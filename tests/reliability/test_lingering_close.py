"""Lingering close: an error answer reaches a client that is still sending its body.

Closing a socket with unread input makes the kernel reset the connection, and the
client then loses the answer it has not read yet. After an error answer the server
ends its sending side and reads (and drops) what still arrives, within bounds.
"""

from __future__ import annotations

import http.client
import socket
import threading

import httpx
import pytest
import requests

from httpdouble import HTTPServer, Kind, Outcome

from .conftest import SOCKET_TIMEOUT
from .rawhttp import read_until_closed

OVER_LIMIT = b"x" * (12 * 1024 * 1024)  # the default body limit is 10 MiB
TRIES = 3


def _http_client(url: str, port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=SOCKET_TIMEOUT)
    try:
        connection.request("POST", "/upload", body=OVER_LIMIT)
        return connection.getresponse().status
    finally:
        connection.close()


def _requests(url: str, port: int) -> int:
    return requests.post(url, data=OVER_LIMIT, timeout=SOCKET_TIMEOUT).status_code


def _httpx(url: str, port: int) -> int:
    return httpx.post(url, content=OVER_LIMIT, timeout=SOCKET_TIMEOUT).status_code


CLIENTS = {"http.client": _http_client, "requests": _requests, "httpx": _httpx}


@pytest.mark.parametrize("name", CLIENTS)
def test_a_client_uploading_over_the_body_limit_reads_the_413(
    server: HTTPServer, name: str
) -> None:
    server.expect_request("/upload", method="POST").respond_with_data("stored")
    url = f"http://127.0.0.1:{server.port}/upload"
    statuses = [CLIENTS[name](url, server.port) for _ in range(TRIES)]
    assert statuses == [413] * TRIES
    assert [e.outcome for e in server.log_entries] == [Outcome.MALFORMED] * TRIES
    assert all(f.kind is Kind.MALFORMED for f in server.findings)


def test_a_malformed_head_followed_by_a_large_body_is_answered_without_a_reset(
    server: HTTPServer,
) -> None:
    head = b"POST /x HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\nContent-Length: 4194304\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=SOCKET_TIMEOUT) as sock:
        sock.sendall(head)
        # The whole body, while the server has already answered: nothing of it is read.
        sock.sendall(b"y" * 4194304)
        data, reset = read_until_closed(sock)
    assert not reset
    assert data.startswith(b"HTTP/1.1 400 ")
    assert b"control character" in data


def test_stop_ends_a_connection_that_lingers_for_a_silent_client(server: HTTPServer) -> None:
    """The client reads the 413 and neither sends nor closes: stop() still ends at once."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=SOCKET_TIMEOUT) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n")
        data, _ = read_until_closed(sock)  # the server ended its side: EOF after the 413
        assert data.startswith(b"HTTP/1.1 413 ")
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        stopper.join(SOCKET_TIMEOUT)
        assert not stopper.is_alive()
