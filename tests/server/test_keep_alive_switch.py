"""``keep_alive=False``: one connection per request, as pytest-httpserver serves them.

Each request's client port is in the log (``REMOTE_PORT``): as many ports as requests
proves the pooled client opened a new connection every time.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
from collections.abc import Iterator

import httpx
import pytest
import requests
from werkzeug.wrappers import Response

from httpdouble import HTTPDoubleUsageError, HTTPServer

WAIT = 10.0


def client_ports(server: HTTPServer) -> list[str]:
    return [entry.request.environ["REMOTE_PORT"] for entry in server.log_entries]


def register_every_path(server: HTTPServer) -> None:
    """A static reply (served by the I/O loop), a handler function (on a thread), a stream."""
    server.expect_request("/static").respond_with_data("s")
    server.expect_request("/function").respond_with_handler(lambda request: Response("f"))
    server.expect_request("/stream").respond_with_stream([b"a", b"b"])


PATHS = ["/static", "/static", "/function", "/stream", "/static", "/function"]


@pytest.fixture
def closing_server() -> Iterator[HTTPServer]:
    srv = HTTPServer(keep_alive=False)
    srv.start()
    yield srv
    srv.stop()


def test_keep_alive_false_closes_after_every_response_of_a_pooled_client(
    closing_server: HTTPServer,
):
    register_every_path(closing_server)
    with requests.Session() as session:
        for path in PATHS:
            response = session.get(closing_server.url_for(path), timeout=WAIT)
            assert response.status_code == 200
            assert response.headers["Connection"] == "close"
    assert len(set(client_ports(closing_server))) == len(PATHS)
    closing_server.check_assertions()


def test_keep_alive_false_closes_for_an_async_pool_too(closing_server: HTTPServer):
    register_every_path(closing_server)

    async def fetch_all() -> list[int]:
        async with httpx.AsyncClient(timeout=WAIT) as client:
            return [(await client.get(closing_server.url_for(p))).status_code for p in PATHS]

    assert asyncio.run(fetch_all()) == [200] * len(PATHS)
    assert len(set(client_ports(closing_server))) == len(PATHS)


def test_the_default_keeps_one_connection_for_a_pooled_client(server: HTTPServer):
    assert server.keep_alive is True
    register_every_path(server)
    with requests.Session() as session:
        for path in PATHS:
            response = session.get(server.url_for(path), timeout=WAIT)
            assert "Connection" not in response.headers
    assert len(set(client_ports(server))) == 1


def test_keep_alive_false_answers_an_http_1_0_keep_alive_request_and_closes(
    closing_server: HTTPServer,
):
    closing_server.expect_request("/static").respond_with_data("s")
    with socket.create_connection((closing_server.host, closing_server.port), WAIT) as sock:
        sock.sendall(b"GET /static HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" * 2)
        received = b""
        while chunk := sock.recv(65536):  # ends: the server closes after the first response
            received += chunk
    assert received.count(b"HTTP/1.0 200") + received.count(b"HTTP/1.1 200") == 1
    assert b"Connection: close" in received


def test_the_attribute_applies_to_connections_accepted_after_it_is_set(server: HTTPServer):
    server.expect_request("/static").respond_with_data("s")
    server.keep_alive = False
    conn = http.client.HTTPConnection(server.host, server.port, timeout=WAIT)
    try:
        conn.request("GET", "/static")
        response = conn.getresponse()
        assert response.getheader("Connection") == "close"
        assert response.read() == b"s"
    finally:
        conn.close()


@pytest.mark.parametrize("bad", ["false", 0, None])
def test_keep_alive_must_be_a_bool(bad: object):
    with pytest.raises(HTTPDoubleUsageError) as caught:
        HTTPServer(keep_alive=bad)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "keep_alive" in message
    assert "True (keep connections open) or False" in message
    assert repr(bad) in message
