"""Whether a request was meant for another host, and which: ``https://api.example.test``.

Reports show ``POST https://api.example.test/v1/charges`` for such a request and
``POST /v1/charges`` for one sent to the server itself, as before. A request is meant for
another host when its ``Host`` names neither a loopback name nor the server's own name; a
proxy's request (an absolute-form target, or one through a CONNECT tunnel, which carries
``TUNNEL_KEY``) also when it names another port of those. One function of the environ, run
per request to count hosts: a few lookups.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .target import TUNNEL_KEY

_DEFAULT_PORT_SUFFIX = {"http": ":80", "https": ":443"}
_USUAL_HOSTS = ("localhost:", "127.0.0.1:", "[::1]:")
_LOOPBACK_NAMES = frozenset({"localhost", "::1", "[::1]", "0.0.0.0", ""})


def _split(host: str) -> tuple[str, str]:
    """``host[:port]`` as its name in lower case (brackets kept: ``[::1]``) and its port."""
    if host.startswith("["):
        end = host.find("]") + 1
        return host[:end].lower(), host[end + 1 :]
    name, _, port = host.partition(":")
    return name.lower(), port


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
    proxied = TUNNEL_KEY in environ or target[:1] not in ("/", "*", "")
    if not proxied and host.startswith(_USUAL_HOSTS):  # the common case, decided at once
        return ""
    name, port = _split(host)
    own = is_loopback(name) or name == str(environ.get("SERVER_NAME", "")).lower()
    if own and (not proxied or port == str(environ.get("SERVER_PORT", ""))):
        return ""
    scheme = environ.get("wsgi.url_scheme", "http")
    host = host.lower().removesuffix(_DEFAULT_PORT_SUFFIX.get(scheme, "\0"))
    return f"{scheme}://{host}"
