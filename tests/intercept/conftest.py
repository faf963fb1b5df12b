"""Fixtures of the interception tier: a server of our own, started, intercepting or not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from httpdouble import HTTPServer


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    """A started server on localhost, stopped after the test (its findings are the test's)."""
    srv = HTTPServer()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
