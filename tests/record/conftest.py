"""Fixtures of the recording tests: a small real API on loopback (the upstream), plain and
over TLS, and a second server that records and replays it (the double)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.wrappers import Request, Response

from httpdouble import HTTPServer
from httpdouble._server.tls import TLSCertificates

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"
TOKEN = "tok-9f8e7d6c5b4a"  # what a client sends; it must reach no cassette


def _created(request: Request) -> Response:
    item = {"id": 2, **request.get_json()}
    return Response(json.dumps(item), 201, content_type="application/json")


def serve_api(server: HTTPServer) -> HTTPServer:
    """Register a small API with several kinds of bodies on ``server``."""
    server.expect_request("/items", method="GET").respond_with_json(
        {"items": [{"id": 1, "name": "pen"}]}
    )
    server.expect_request("/items", method="POST").respond_with_handler(_created)
    server.expect_request("/items/1", method="GET").respond_with_json({"id": 1, "name": "pen"})
    server.expect_request("/logo.png").respond_with_data(PNG, content_type="image/png")
    server.expect_request("/readme").respond_with_data("plain text\n")
    server.expect_request("/login", method="POST").respond_with_json(
        {"access_token": TOKEN, "user": "ann"}, headers={"Set-Cookie": f"session={TOKEN}"}
    )
    return server


@pytest.fixture(scope="module")
def api() -> Iterator[HTTPServer]:
    """The upstream: a real HTTP API on 127.0.0.1 (loopback only)."""
    server = serve_api(HTTPServer("127.0.0.1", 0))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tls_api(httpsserver_certificates: TLSCertificates) -> Iterator[HTTPServer]:
    """The same API over HTTPS, with a certificate of a test CA (trustme)."""
    server = serve_api(
        HTTPServer("127.0.0.1", 0, ssl_context=httpsserver_certificates.server_context)
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def double() -> Iterator[HTTPServer]:
    """The server that records and replays (as the plugin's fixtures do), cleared after."""
    server = HTTPServer("127.0.0.1", 0)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    """Where a test's cassette goes."""
    return tmp_path / "cassettes" / "test_api" / "test_x.json"
