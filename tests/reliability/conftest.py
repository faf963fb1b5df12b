"""Fixtures of the reliability tier: servers, raw sockets and whole pytest runs.

Every socket here has a timeout and every wait is bounded, so a server that hangs
makes a test fail instead of hanging the suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from httpdouble import HTTPServer

SOCKET_TIMEOUT = 10.0
"""Seconds any socket of this tier waits before the test fails."""


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
