"""The server fixtures as pytest-httpserver declares them: each takes what it needs as an
argument (ini ``httpserver_fixture_arguments = true``).

Registered after the plugin's own fixtures, so these win over them (a ``conftest.py``
override still wins over both). pytest then parametrizes a test by a parametrized
``make_httpserver``, ``httpserver_listen_address`` or ``httpserver_ssl_context``, and
refuses a narrower-scoped one with its ``ScopeMismatch``, as with pytest-httpserver; the
price is pytest's walk of these arguments at every test (about 25 us of setup, issue 27).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from .asking import current_item
from .fixtures import Plugin, _finish_server, _run_test, _start_server
from .session import active_config, state_of

if TYPE_CHECKING:
    from .._server.server import HTTPServer
    from .._server.tls import TLSCertificates

PLUGIN_NAME = "httpdouble-argument-fixtures"


@pytest.fixture(scope="session")
def make_httpserver(
    httpserver_listen_address: tuple[str, int],
    httpserver_ssl_context: ssl.SSLContext | None,
) -> Iterator[HTTPServer]:
    """The server of this process (one per xdist worker), started once per session."""
    state = state_of(active_config())
    server = _start_server(state, httpserver_listen_address, httpserver_ssl_context)
    Plugin.SERVER = server
    yield server
    Plugin.SERVER = None
    _finish_server(state, server)


@pytest.fixture
def httpserver(make_httpserver: HTTPServer) -> Iterator[HTTPServer]:
    """The process's server, cleared, for one test; its HTTP problems fail the test at teardown."""
    __tracebackhide__ = True
    yield from _run_test(make_httpserver, current_item())


@pytest.fixture(scope="session")
def make_httpsserver(
    httpserver_listen_address: tuple[str, int],
    httpsserver_certificates: TLSCertificates,
) -> Iterator[HTTPServer]:
    """The HTTPS server of this process, started once per session on a port of its own."""
    state = state_of(active_config())
    host, _ = httpserver_listen_address
    server = _start_server(state, (host, 0), httpsserver_certificates.server_context)
    yield server
    _finish_server(state, server)


@pytest.fixture
def httpsserver(make_httpsserver: HTTPServer) -> Iterator[HTTPServer]:
    """Like ``httpserver``, over HTTPS; trust it with ``httpsserver_certificates``."""
    __tracebackhide__ = True
    yield from _run_test(make_httpsserver, current_item())
