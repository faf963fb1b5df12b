"""Listening sockets: the addresses a host name stands for, and binding them all on one port.

The server binds its sockets itself (not werkzeug), so a taken port raises
:class:`~httpdouble.ServerStartError` with what to do, instead of exiting the process.
``localhost`` is both loopback addresses, IPv4 and IPv6 (when the machine has IPv6).
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Callable

from .._errors import ServerStartError

_PORT_ATTEMPTS = 20


def listen_backlog() -> int:
    """The system's largest accept queue: a burst of connections must not be refused."""
    try:
        with open("/proc/sys/net/core/somaxconn", "rb") as file:  # no codec to import
            return max(int(file.read()), socket.SOMAXCONN)
    except (OSError, ValueError):
        return socket.SOMAXCONN  # the kernel clamps a larger value anyway


BACKLOG = listen_backlog()


def is_loopback(host: str) -> bool:
    """Return whether ``host`` is ``localhost`` or a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def addresses(host: str) -> list[tuple[socket.AddressFamily, str]]:
    """Return the (family, address) pairs to listen on for ``host``."""
    if host == "localhost":
        return [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")]
    host = host.strip("[]")
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][0]
    return [(family, host)]


def bind_listeners(
    host: str, fixed: int, port_source: Callable[[], int] | None
) -> list[socket.socket]:
    """Bind and listen on every address of ``host``, on one port, non-blocking.

    ``fixed``: the port asked for, or ``0``; then ``port_source`` proposes ports (a taken
    one is retried) before the system chooses.

    :raises ServerStartError: when no port could be bound, with what to do.
    """
    attempts = 1 if fixed else _PORT_ATTEMPTS
    last_error: OSError | None = None
    for attempt in range(attempts):
        if fixed:
            port = fixed
        elif port_source is not None and attempt < attempts - 1:
            port = port_source()
        else:
            port = 0
        try:
            return bind_all(host, port)
        except OSError as exc:
            last_error = exc
            if exc.errno != errno.EADDRINUSE:
                break
    assert last_error is not None
    remedy = (
        "choose another port, or port=0 to let one be chosen"
        if last_error.errno == errno.EADDRINUSE
        else "check the host name; tests should listen on localhost"
    )
    raise ServerStartError(host, fixed, last_error, remedy) from last_error


def bind_all(host: str, port: int) -> list[socket.socket]:
    """Bind every address of ``host`` on ``port`` (``0``: the first one's chosen port)."""
    bound: list[socket.socket] = []
    try:
        for index, (family, address) in enumerate(addresses(host)):
            try:
                sock = socket.socket(family, socket.SOCK_STREAM)
            except OSError:
                if index == 0:
                    raise
                continue  # No IPv6 on this machine: IPv4 alone serves localhost.
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind((address, port))
            except OSError as exc:
                sock.close()
                if index > 0 and exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                    continue
                raise
            bound.append(sock)
            sock.listen(BACKLOG)
            sock.setblocking(False)
            port = sock.getsockname()[1]
    except OSError:
        for sock in bound:
            sock.close()
        raise
    return bound
