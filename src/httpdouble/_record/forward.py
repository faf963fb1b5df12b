"""Forwarding a request to its upstream while recording, with the standard library only.

Where a request goes: a host named in the ``upstreams`` mapping goes to the address given
there (and trusts the CA given there); a request addressed to the server itself (a base-URL
test) goes to the ``upstream`` base URL; an intercepted request (absolute form, or inside a
CONNECT tunnel) goes to its own scheme and host.
"""

from __future__ import annotations

import http.client
import ssl
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from werkzeug.wrappers import Request, Response

from .._errors import HTTPDoubleUsageError

# Hop-by-hop headers (RFC 9110 7.6.1) and what the forwarding itself decides: never passed on.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "accept-encoding",
        "expect",
    }
)
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Upstream:
    """A real server: ``scheme://host:port`` with an optional path prefix, and a CA to trust.

    :param base: the base URL, e.g. ``https://api.example.com`` or ``http://127.0.0.1:8080/v2``.
    :param ca: a PEM bundle to trust instead of the system's (a test CA, an internal one).
    """

    base: str
    ca: str | None = None
    scheme: str = field(init=False)
    netloc: str = field(init=False)
    prefix: str = field(init=False)

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.base)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise HTTPDoubleUsageError(
                "upstream",
                expected="a base URL: http:// or https://, a host, maybe a port and a path",
                got=self.base,
                remedy='write it as "https://api.example.com" or "http://127.0.0.1:8080/v2"',
            )
        if self.ca is not None and not Path(self.ca).is_file():
            raise HTTPDoubleUsageError(
                "upstream CA",
                expected="the path of a PEM file of CA certificates",
                got=self.ca,
                remedy="give a file that exists, or no CA to trust the system's",
            )
        object.__setattr__(self, "scheme", parts.scheme)
        object.__setattr__(self, "netloc", parts.netloc)
        object.__setattr__(self, "prefix", parts.path.rstrip("/"))


def upstream_of(value: object, where: str) -> Upstream:
    """Return an :class:`Upstream` for a base URL, ``(url, ca)`` or an Upstream."""
    if isinstance(value, Upstream):
        return value
    if isinstance(value, str):
        return Upstream(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and isinstance(value[0], str):
        return Upstream(value[0], None if value[1] is None else str(value[1]))
    raise HTTPDoubleUsageError(
        where,
        expected='a base URL, or (base URL, CA bundle path): "http://127.0.0.1:8080"',
        got=value,
        remedy="give the address as a string, with the CA to trust as a second item",
    )


def upstreams_of(value: object, where: str) -> dict[str, Upstream]:
    """Return the ``upstreams`` mapping checked: host to upstream.

    A key is a host (``api.example.test``), a host and port, or a scheme and host
    (``http://api.example.test``: that scheme only; it wins over the host alone).
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise HTTPDoubleUsageError(
            where,
            expected='a dict of host to base URL: {"api.example.test": "http://127.0.0.1:8080"}',
            got=value,
            remedy="map each host the code calls to the address that answers for it",
        )
    return {k.lower(): upstream_of(v, f"{where}[{k!r}]") for k, v in value.items()}


class Route(NamedTuple):
    """Where one request goes: the upstream, the path (with query), the ``Host`` to send,
    and whether it came to the server itself (``direct``) rather than for a host of its own."""

    upstream: Upstream
    path: str
    host: str
    direct: bool


class NoUpstream(Exception):
    """A request to record has nowhere to go."""


def target(
    request: Request, own: set[str], upstream: Upstream | None, upstreams: dict[str, Upstream]
) -> Route:
    """Return where a request goes: an intercepted request keeps its ``Host``, also when
    ``upstreams`` maps it elsewhere.

    :param own: the ``host:port`` names of the server itself (a request to them is direct).
    :raises NoUpstream: a direct request without a base URL, saying what to set.
    """
    host = request.host.lower()
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    path = request.full_path if request.query_string else request.path
    chosen = (
        upstreams.get(f"{request.scheme}://{host}") or upstreams.get(host) or upstreams.get(name)
    )
    if chosen is not None:
        return Route(chosen, chosen.prefix + path, request.host, direct=False)
    if host in own or (upstream is not None and _is_loopback(name)):
        if upstream is None:
            raise NoUpstream(
                f"{request.method} {request.path} came to the server itself and no upstream"
                ' is set\n  to fix: @pytest.mark.httpserver_record(upstream="https://...")'
                ' or the httpserver_record_config fixture\'s "upstream"'
            )
        return Route(upstream, upstream.prefix + path, upstream.netloc, direct=True)
    return Route(Upstream(f"{request.scheme}://{request.host}"), path, request.host, False)


def _is_loopback(name: str) -> bool:
    return name in ("localhost", "127.0.0.1", "[::1]", "::1")


def trust(to: Upstream, default: ssl.SSLContext) -> ssl.SSLContext:
    """Return the context an HTTPS upstream is verified with: its own CA, else ``default``.

    ``default`` is made when the recording starts, before an interception points
    ``SSL_CERT_FILE`` at its test CA, so a real upstream is verified as outside the test.
    """
    return default if to.ca is None else ssl.create_default_context(cafile=to.ca)


def forward(
    request: Request,
    route: Route,
    context: ssl.SSLContext,
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send ``request`` along ``route`` and return the status, headers (in order) and body.

    The body comes back whole (``Accept-Encoding`` is not passed on, so it is not
    compressed); hop-by-hop headers go neither way. No proxy variable is read: forwarding
    never goes back through an intercepting server.

    :param context: verifies an HTTPS upstream (see :func:`trust`).
    """
    to, path, host = route.upstream, route.path, route.host
    connection: http.client.HTTPConnection
    if to.scheme == "https":
        connection = http.client.HTTPSConnection(to.netloc, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(to.netloc, timeout=timeout)
    body = request.get_data()
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
    try:
        connection.putrequest(request.method, path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", host)
        for name, value in headers:
            connection.putheader(name, value)
        if body or request.method in ("POST", "PUT", "PATCH"):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        answer = connection.getresponse()
        data = answer.read()
        kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP]
        return answer.status, kept, data
    finally:
        connection.close()


def response_of(status: int, headers: list[tuple[str, str]], body: bytes) -> Response:
    """Return the werkzeug response the client gets for an upstream's answer."""
    response = Response(body, status=status)
    del response.headers["Content-Type"]
    for name, value in headers:
        response.headers.add(name, value)
    return response
