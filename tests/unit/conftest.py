"""Fixtures of the unit tier: the dispatcher as a plain WSGI app, no socket anywhere."""

from __future__ import annotations

import pytest
from werkzeug.test import Client

from httpdouble import RequestDispatcher


@pytest.fixture
def dispatcher() -> RequestDispatcher:
    """A fresh dispatcher with default settings."""
    return RequestDispatcher()


@pytest.fixture
def client(dispatcher: RequestDispatcher) -> Client:
    """A werkzeug test client that calls ``dispatcher`` directly."""
    return Client(dispatcher)
