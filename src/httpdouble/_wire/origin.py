"""Whether a request was meant for another host, and which: ``https://api.example.test``.

Reports show ``POST https://api.example.test/v1/charges`` for such a request and
``POST /v1/charges`` for one sent to the server itself, as before. A request is meant for
another host when it came as a proxy's request (an absolute-form target, or through a CONNECT
tunnel, marked :data:`TUNNEL`), or when its ``Host`` names neither the server's own name nor
a loopback name. One function of the environ, run per request to count hosts: a few lookups.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TUNNEL = "httpdouble.tunnel"
"""Environ key of a request that came through a CONNECT tunnel: ``"host:port"``."""

_DEFAULT_PORT_SUFFIX = {"http": ":80", "https": ":443"}
_LOOPBACK_NAMES = frozenset({"localhost", "::1", "[::1]", "0.0.0.0", ""})


def _name(host: str) -> str:
    """The name of ``host[:port]`` in lower case, brackets kept: ``[::1]``, ``api.test``."""
    if host.startswith("["):
        return host[: host.find("]") + 1].lower()
    return host.partition(":")[0].lower()


def is_loopback(name: str) -> bool:
    """Whether ``name`` (a host without its port) is a loopback name or address."""
    return name in _LOOPBACK_NAMES or name.startswith("127.") or name.endswith(".localhost")


def origin_of(environ: Mapping[str, Any]) -> str:
    """Return ``scheme://host`` of a request meant for another host, ``""`` for any other.

    The host is the ``Host`` header, as matching sees it (``host=``), in lower case with
    the scheme's default port left out.
    """
    host: str = environ.get("HTTP_HOST", "")
    if not host:
        return ""
    target: str = environ.get("REQUEST_URI", "/")
    if TUNNEL not in environ and target[:1] in ("/", "*", ""):
        name = _name(host)
        if is_loopback(name) or name == str(environ.get("SERVER_NAME", "")).lower():
            return ""
    scheme = environ.get("wsgi.url_scheme", "http")
    host = host.lower().removesuffix(_DEFAULT_PORT_SUFFIX.get(scheme, "\0"))
    return f"{scheme}://{host}"
