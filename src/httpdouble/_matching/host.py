"""Matching by host, and the full-URL shorthand of a matcher's ``uri``.

``host=`` is what a matcher asks of the request's host (werkzeug's ``request.host``: the
``Host`` header, its port left out when it is the scheme's default). With ``expect_request(
"https://api.example.test/v1/charges")`` the URL stands for its parts: the path becomes the
``uri``, the host the ``host=``, the scheme must match too, and a query string becomes an exact
``query_string``. Requests reach the server with such hosts through a proxy (absolute-form
targets, CONNECT tunnels) or with a ``Host`` header of their own.

Checked once at registration; per request, one comparison of two strings.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any, Protocol, runtime_checkable

from werkzeug.wrappers import Request

from .._errors import HTTPDoubleUsageError
from .mismatch import Mismatch
from .uri import is_url

DEFAULT_PORTS = {"http": 80, "https": 443}
"""The port a scheme implies; a host written with it is the host without it."""


@runtime_checkable
class HostPattern(Protocol):
    """What ``host=`` takes besides a string and a regex: anything with this method.

    ``match`` gets the request's host in lower case, without the scheme's default port
    (``api.example.test``, ``api.example.test:8443``).
    """

    def match(self, host: str) -> bool:
        """Return whether ``host`` is one this matcher accepts."""


# No typing.Union of a string: that compiles the string at every import (issue 27).
HostType = str | re.Pattern[str] | HostPattern
"""What ``host=`` may be."""

# host= only: compiled on first use, by re's own cache (issue 27).
_HOST_CHARS = r"[a-z0-9._~!$&'()*+,;=%-]+|\[[0-9a-f:.]+\]"


def _usage(got: object, expected: str, remedy: str) -> HTTPDoubleUsageError:
    return HTTPDoubleUsageError("host", expected=expected, got=got, remedy=remedy)


def split_host(text: str) -> tuple[str, int | None]:
    """Split ``name[:port]`` into its lower-case name and its port (``None`` if absent).

    :raises HTTPDoubleUsageError: for an empty name, a scheme, a path or a bad port.
    """
    lowered = text.strip().lower()
    if "://" in lowered or "/" in lowered:
        raise _usage(
            text,
            "a host name, with a port if it is not the scheme's default: 'api.example.test'",
            "pass the full URL as the uri (expect_request('https://api.example.test/x'))"
            " or the host alone (host='api.example.test')",
        )
    name, port_text = lowered, ""
    if lowered.startswith("["):
        end = lowered.find("]")
        name, port_text = lowered[: end + 1], lowered[end + 1 :]
        port_text = port_text[1:] if port_text.startswith(":") else port_text or ""
    elif ":" in lowered:
        name, _, port_text = lowered.rpartition(":")
    port: int | None = None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise _usage(text, "a port from 1 to 65535 after the ':'", "write e.g. 'host:8443'")
        port = int(port_text)
    if not re.fullmatch(_HOST_CHARS, name):
        raise _usage(
            text,
            "a host name or address: 'api.example.test', '127.0.0.1', '[::1]'",
            "pass the name the client's URL has, without scheme or path",
        )
    return name, port


def _normalised(name: str, port: int | None, scheme: str) -> str:
    """The host as ``request.host`` writes it for ``scheme``: the default port left out."""
    return name if port is None or port == DEFAULT_PORTS.get(scheme) else f"{name}:{port}"


class HostMatcher:
    """The host (and, from a URL, the scheme) a matcher asks for.

    :param expected: a host string (exact, case-insensitive; without a port it means the
        scheme's default port), a compiled regex (``fullmatch`` against the host in lower
        case, default port left out), or a :class:`HostPattern`.
    :param scheme: the scheme the request must have too (``"https"``), or ``None``.
    """

    __slots__ = ("_any_scheme", "_by_scheme", "expected", "scheme")

    def __init__(self, expected: HostType, scheme: str | None = None) -> None:
        self.expected = expected
        self.scheme = scheme
        self._by_scheme: dict[str, str] = {}
        self._any_scheme = ""
        if isinstance(expected, str):
            name, port = split_host(expected)
            self._by_scheme = {s: _normalised(name, port, s) for s in DEFAULT_PORTS}
            self._any_scheme = name if port is None else f"{name}:{port}"
        elif not isinstance(expected, re.Pattern) and not callable(
            getattr(expected, "match", None)
        ):
            raise _usage(
                expected,
                "a host str ('api.example.test'), a compiled regex, or an object with a"
                " match(host) -> bool method",
                "pass e.g. host='api.example.test' or host=re.compile(r'.*\\.example\\.test')",
            )

    def match_host(self, host: str, scheme: str) -> bool:
        """Return whether ``host`` (as ``request.host`` has it) is the one asked for."""
        expected = self.expected
        host = host.lower()
        if isinstance(expected, str):
            return host == self._by_scheme.get(scheme, self._any_scheme)
        if isinstance(expected, re.Pattern):
            return expected.fullmatch(host) is not None
        return bool(expected.match(host))

    def match(self, request: Request) -> bool:
        """Return whether ``request`` has the host (and scheme) asked for."""
        scheme = request.scheme
        if self.scheme is not None and scheme != self.scheme:
            return False
        return self.match_host(request.host, scheme)

    def differences(self, request: Request) -> list[Mismatch]:
        """Return the ``scheme`` and ``host`` lines that differ; empty when both match."""
        found = []
        scheme = request.scheme
        if self.scheme is not None and scheme != self.scheme:
            found.append(Mismatch("scheme", repr(self.scheme), repr(scheme)))
        if not self.match_host(request.host, scheme):
            found.append(Mismatch("host", self.describe_host(), repr(request.host or "(none)")))
        return found

    def describe_host(self) -> str:
        """Return the host expectation as readable text."""
        expected = self.expected
        if isinstance(expected, str):
            return repr(self._any_scheme)
        if isinstance(expected, re.Pattern):
            return f"regex {expected.pattern!r}"
        return repr(expected)

    def describe(self) -> str:
        """Return ``host 'api.example.test'`` (with ``https only`` when the scheme counts)."""
        text = f"host {self.describe_host()}"
        return f"{text} ({self.scheme} only)" if self.scheme else text

    def arguments(self) -> str:
        """Return the expectation as a matcher's ``repr`` shows it: `` host='...'``."""
        shown = self._any_scheme if isinstance(self.expected, str) else self.expected
        text = f" host={shown!r}"
        return f"{text} scheme={self.scheme!r}" if self.scheme else text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HostMatcher):
            return NotImplemented
        return (self._key(), self.scheme) == (other._key(), other.scheme)

    def __hash__(self) -> int:
        return hash((type(self.expected).__name__, self.scheme))

    def _key(self) -> object:
        if not isinstance(self.expected, str):
            return self.expected
        return (
            self._by_scheme.get(self.scheme, self._any_scheme) if self.scheme else self._any_scheme
        )

    def __repr__(self) -> str:
        return f"HostMatcher({self.describe()})"


def host_and_uri(
    uri: Any, host: HostType | None, query_string: Any
) -> tuple[Any, HostMatcher | None, Any]:
    """Return ``(uri, host matcher, query_string)`` for a matcher's arguments.

    A full URL as ``uri`` stands for its path, host, scheme and query string; any other
    ``uri`` is returned as given, with ``host`` (if any) made a :class:`HostMatcher`.

    :raises HTTPDoubleUsageError: for a bad ``host``, a URL whose host ``host=`` contradicts,
        a URL with a query string and ``query_string=`` too, or one with a fragment or
        user name.
    """
    if not is_url(uri):
        return uri, None if host is None else HostMatcher(host), query_string
    try:
        parts = urllib.parse.urlsplit(uri)
        port = parts.port
    except ValueError as exc:
        raise HTTPDoubleUsageError(
            "uri", expected="a valid URL", got=uri, remedy=f"fix the URL ({exc})"
        ) from None
    scheme = parts.scheme.lower()
    if parts.fragment or parts.username is not None or not parts.hostname:
        raise HTTPDoubleUsageError(
            "uri",
            expected="a URL with a host and no fragment ('#...') or user name ('user@'):"
            " clients send neither",
            got=uri,
            remedy="leave them out; match credentials with headers={'Authorization': ...}",
        )
    name = parts.netloc.rpartition("@")[2]
    name = name[: name.rfind("]") + 1] if name.startswith("[") else name.partition(":")[0]
    matcher = HostMatcher(_normalised(name.lower(), port, scheme), scheme)
    if host is not None and HostMatcher(host, scheme) != matcher:
        raise HTTPDoubleUsageError(
            "host",
            expected=f"no host=, or the URL's own host {matcher._any_scheme!r}",
            got=host,
            remedy="give the host once: in the URL, or as host= with a path as the uri",
        )
    if parts.query:
        if query_string is not None:
            raise HTTPDoubleUsageError(
                "query_string",
                expected="the query string once: in the URL or as query_string=",
                got=f"URL query {parts.query!r}, query_string={query_string!r}",
                remedy="drop the '?...' from the URL, or drop query_string=",
            )
        query_string = parts.query
    return parts.path or "/", matcher, query_string
