"""Request targets a proxy receives: ``CONNECT``'s ``host:port``, and the absolute form.

A client that takes the server for its proxy sends ``CONNECT api.example.test:443`` to
open a tunnel, and plain-HTTP requests with the whole URL as their target
(``GET http://api.example.test/x HTTP/1.1``). The request then belongs to the URL's scheme
and host, as RFC 9112 3.2.2 tells a proxy, whatever the ``Host`` header says.
"""

from __future__ import annotations

import re
from typing import Any

# CONNECT's target (RFC 9110 9.3.6): a host (name, IPv4, or IPv6 in brackets) and a port.
# CONNECT only: compiled on first use, by re's own cache (issue 27).
_AUTHORITY = rb"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+):([0-9]{1,5})"
_DEFAULT_PORTS = {"http": "80", "https": "443"}
TUNNEL_KEY = "httpdouble.tunnel"
"""The environ key of a request inside a CONNECT tunnel: the tunnel's ``host:port``."""


def is_authority(target: bytes) -> bool:
    """Return whether ``target`` is ``host:port``, what ``CONNECT`` takes."""
    return re.fullmatch(_AUTHORITY, target) is not None


def split_authority(target: str) -> tuple[str, int]:
    """Return the host (IPv6 without brackets) and the port of a ``host:port`` target."""
    host, _, port = target.rpartition(":")
    return host.removeprefix("[").removesuffix("]"), int(port)


def connect_refusal(can_tunnel: bool, target: bytes) -> str:
    """Return why a ``CONNECT`` is answered 400."""
    if not can_tunnel:
        return (
            "CONNECT is answered only by a server that intercepts"
            " (httpdouble.intercept(httpserver), the httpserver_intercept fixture),"
            " and never inside a tunnel"
        )
    return f"CONNECT target {target[:60].decode('latin-1')!r} is not host:port"


def take_absolute_form(environ: dict[str, Any], target: bytes) -> None:
    """Give the request of an absolute-form ``target`` its URL's scheme and host.

    The host keeps its port unless it is the scheme's default one.
    """
    scheme, _, rest = target.decode("latin-1").partition("://")
    scheme = scheme.lower()
    authority = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
    environ["wsgi.url_scheme"] = scheme
    if authority:
        name, colon, port = authority.rpartition(":")
        default = colon and port == _DEFAULT_PORTS[scheme]
        environ["HTTP_HOST"] = name if default else authority


def tunnel_host(target: str, scheme: str) -> str:
    """The ``Host`` of a request inside the tunnel to ``target`` that sent none.

    The tunnel's ``host:port``, without the port when it is the scheme's default one.
    """
    name, _, port = target.rpartition(":")
    return name if port == _DEFAULT_PORTS[scheme] else target
