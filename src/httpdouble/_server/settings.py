"""Checks of the settings a server is made with: each bad one is an error that says why."""

from __future__ import annotations

import ssl
from collections.abc import Callable

from .._errors import HTTPDoubleUsageError
from .._wire.request import Limits


def check_settings(
    host: object,
    port: object,
    ssl_context: object,
    limits: object,
    port_source: Callable[[], int] | None,
    startup_timeout: object,
    keep_alive: object,
) -> None:
    """Raise :class:`~httpdouble.HTTPDoubleUsageError` for the first setting that is wrong.

    :param host: a non-empty str (whether it is loopback is the server's to check).
    """
    if startup_timeout is not None and (
        isinstance(startup_timeout, bool)
        or not isinstance(startup_timeout, int | float)
        or not 0 < startup_timeout < 1e9
    ):
        raise HTTPDoubleUsageError(
            "startup_timeout",
            expected="a positive number of seconds, or None (no readiness check)",
            got=startup_timeout,
            remedy="pass e.g. startup_timeout=10, or leave it out",
        )
    if not isinstance(keep_alive, bool):
        raise HTTPDoubleUsageError(
            "keep_alive",
            expected="True (keep connections open) or False (close after every response)",
            got=keep_alive,
            remedy="pass keep_alive=False to close every connection after its response",
        )
    if not isinstance(host, str) or not host:
        raise HTTPDoubleUsageError(
            "host", expected="a host name or IP address", got=host, remedy="pass 'localhost'"
        )
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise HTTPDoubleUsageError(
            "port",
            expected="an int from 0 to 65535 (0: chosen for you)",
            got=port,
            remedy="pass port=0 unless the code under test needs a fixed port",
        )
    if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
        raise HTTPDoubleUsageError(
            "ssl_context",
            expected="an ssl.SSLContext for the server side, or None",
            got=ssl_context,
            remedy="build one with ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)",
        )
    if limits is not None and not isinstance(limits, Limits):
        raise HTTPDoubleUsageError(
            "limits", expected="a Limits or None", got=limits, remedy="pass Limits(...)"
        )
    if port_source is not None and not callable(port_source):
        raise HTTPDoubleUsageError(
            "port_source",
            expected="a callable returning a port number, or None",
            got=port_source,
            remedy="pass portpicker.pick_unused_port, or None for a system-chosen port",
        )
