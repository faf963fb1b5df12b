"""Fixtures of the server tier: a real server on loopback and four real HTTP clients.

The server here is an ``HTTPServer`` of our own, started and stopped by this
fixture, not the plugin's ``httpserver`` fixture (the plugin tier tests that).
"""

from __future__ import annotations

import socket
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


def _has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def ipv6_loopback() -> str:
    """``::1``, or a clean skip on a machine without IPv6."""
    if not _has_ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback (::1)")
    return "::1"
