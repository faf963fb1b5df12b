"""Hook specifications that conftest files and plugins may implement."""

from __future__ import annotations

import pytest


@pytest.hookspec(firstresult=True)
def pytest_httpdouble_listen_address(
    config: pytest.Config, worker_id: str
) -> tuple[str, int] | None:
    """Return the ``(host, port)`` the server of this process listens on, or ``None``.

    Called once per process: in each xdist worker (``worker_id`` is ``"gw0"``,
    ``"gw1"``, ...) or in the single process (``worker_id`` is ``"main"``).
    Port ``0`` lets the pool choose a free port. The first non-``None`` answer
    wins over the ``--httpserver-host`` / ``--httpserver-port`` options and
    the ``PYTEST_HTTPSERVER_HOST`` / ``PYTEST_HTTPSERVER_PORT`` variables.

    .. versionadded:: 0.1
    """
