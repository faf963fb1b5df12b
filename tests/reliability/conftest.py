"""Fixtures of the reliability tier: servers, raw sockets and whole pytest runs.

Every socket here has a timeout and every wait is bounded, so a server that hangs
makes a test fail instead of hanging the suite.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from httpdouble import HTTPServer

SOCKET_TIMEOUT = 10.0
"""Seconds any socket of this tier waits before the test fails."""

CLIENT_HELPERS = '''
import http.client
import urllib.parse


def get(url, method="GET", body=None, headers=None):
    """Send one request with http.client and return (status, text)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        target = parts.path + ("?" + parts.query if parts.query else "")
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()
'''


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester with a ``client`` helper module and warnings as errors."""
    pytester.makepyfile(client=CLIENT_HELPERS)
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    return pytester


Runner = Callable[..., pytest.RunResult]


@pytest.fixture
def run(pytester: pytest.Pytester) -> Runner:
    """Run pytest in a subprocess (xdist workers and crashes need a real process)."""

    def runner(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "-p", "no:benchmark", *args, timeout=150
        )

    return runner


def load_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    """A started server on localhost that answers 404 when no handler matches."""
    srv = HTTPServer(no_handler_status_code=404)
    srv.start()
    try:
        yield srv
    finally:
        srv.clear()
        if srv.is_running():
            srv.stop()


def has_ipv6_loopback() -> bool:
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
    if not has_ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback (::1)")
    return "::1"
