"""Fixtures of the server tier: a real server on loopback and four real HTTP clients.

The server here is an ``HTTPServer`` of our own, started and stopped by this
fixture, not the plugin's ``httpserver`` fixture (the plugin tier tests that).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from httpdouble import HTTPServer

from .clients import CLIENT_NAMES, CLIENTS, HTTPClient


@pytest.fixture
def make_client() -> Iterator[Callable[[str], HTTPClient]]:
    """Build clients by library name; every one is closed after the test."""
    made: list[HTTPClient] = []

    def make(name: str) -> HTTPClient:
        made.append(CLIENTS[name]())
        return made[-1]

    try:
        yield make
    finally:
        for http_client in made:
            http_client.close()


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    """A started server on localhost (127.0.0.1 and ::1), stopped after the test."""
    srv = HTTPServer()
    srv.start()
    try:
        yield srv
    finally:
        srv.clear()
        if srv.is_running():
            srv.stop()


@pytest.fixture(params=CLIENT_NAMES)
def client(request: pytest.FixtureRequest) -> Iterator[HTTPClient]:
    """Each of the four client libraries in turn."""
    http_client = CLIENTS[request.param]()
    try:
        yield http_client
    finally:
        http_client.close()
