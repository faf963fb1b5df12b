"""The registration shortcuts: ``expect_request`` and friends, ``create_matcher``, ``bake``.

They only build a :class:`RequestMatcher` and call ``expect``; the dispatcher
owns the handlers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._expectations import HandlerType, RequestHandler
from ._matching import (
    METHOD_ALL,
    UNDEFINED,
    HeaderValueMatcher,
    RequestMatcher,
    URIType,
)
from ._query import QueryStringType


class Registration:
    """Mixed into the dispatcher: every way to register a handler."""

    def expect(
        self, matcher: RequestMatcher, handler_type: HandlerType = HandlerType.PERMANENT
    ) -> RequestHandler:  # pragma: no cover - the dispatcher defines it
        raise NotImplementedError

    def create_matcher(self, *args: Any, **kwargs: Any) -> RequestMatcher:
        """Return ``RequestMatcher(*args, **kwargs)`` (a hook for subclasses, as upstream)."""
        return RequestMatcher(*args, **kwargs)

    def expect_request(
        self,
        uri: URIType,
        method: str = METHOD_ALL,
        data: str | bytes | None = None,
        data_encoding: str = "utf-8",
        headers: Mapping[str, str] | None = None,
        query_string: QueryStringType = None,
        header_value_matcher: HeaderValueMatcher | None = None,
        handler_type: HandlerType = HandlerType.PERMANENT,
        json: Any = UNDEFINED,
    ) -> RequestHandler:
        """Register a handler (permanent by default); arguments as :class:`RequestMatcher`."""
        matcher = self.create_matcher(
            uri, method, data, data_encoding, headers, query_string, header_value_matcher, json
        )
        return self.expect(matcher, handler_type)

    def expect_oneshot_request(
        self,
        uri: URIType,
        method: str = METHOD_ALL,
        data: str | bytes | None = None,
        data_encoding: str = "utf-8",
        headers: Mapping[str, str] | None = None,
        query_string: QueryStringType = None,
        header_value_matcher: HeaderValueMatcher | None = None,
        json: Any = UNDEFINED,
    ) -> RequestHandler:
        """Register a handler that serves one request and is then removed."""
        matcher = self.create_matcher(
            uri, method, data, data_encoding, headers, query_string, header_value_matcher, json
        )
        return self.expect(matcher, HandlerType.ONESHOT)

    def expect_ordered_request(
        self,
        uri: URIType,
        method: str = METHOD_ALL,
        data: str | bytes | None = None,
        data_encoding: str = "utf-8",
        headers: Mapping[str, str] | None = None,
        query_string: QueryStringType = None,
        header_value_matcher: HeaderValueMatcher | None = None,
        json: Any = UNDEFINED,
    ) -> RequestHandler:
        """Register a oneshot handler that must be used in registration order."""
        matcher = self.create_matcher(
            uri, method, data, data_encoding, headers, query_string, header_value_matcher, json
        )
        return self.expect(matcher, HandlerType.ORDERED)

    def bake(self, **kwargs: Any) -> BakedHTTPServer:
        """Return a view whose ``expect_*`` calls use ``kwargs`` as defaults.

        ``server.bake(method="POST", headers={"X-Key": "k"}).expect_request("/a")``
        registers ``/a`` for POST with that header.
        """
        return BakedHTTPServer(self, kwargs)


class BakedHTTPServer:
    """A server with default arguments for its ``expect_*`` calls; see ``bake``.

    Everything else (``url_for``, ``check``, ...) is the server's own.
    """

    def __init__(self, server: Registration, defaults: dict[str, Any]) -> None:
        self._server = server
        self._defaults = defaults
        # One entry per open ``with``: whether that block started the server.
        self._started: list[bool] = []

    def _merged(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {**self._defaults, **kwargs}

    def bake(self, **kwargs: Any) -> BakedHTTPServer:
        """Return a new view with these defaults on top of this view's ones."""
        return BakedHTTPServer(self._server, self._merged(kwargs))

    def __enter__(self) -> BakedHTTPServer:
        """Start the server unless it runs; the matching ``__exit__`` stops what it started."""
        server: Any = self._server
        starts = not server.is_running()
        if starts:
            server.start()
        self._started.append(starts)
        return self

    def __exit__(self, *exc_info: object) -> None:
        server: Any = self._server
        if self._started.pop() and server.is_running():
            server.stop()

    def __repr__(self) -> str:
        return f"<BakedHTTPServer defaults={self._defaults!r} server={self._server!r}>"

    def expect_request(self, uri: URIType, **kwargs: Any) -> RequestHandler:
        """``expect_request`` with the baked defaults."""
        return self._server.expect_request(uri, **self._merged(kwargs))

    def expect_oneshot_request(self, uri: URIType, **kwargs: Any) -> RequestHandler:
        """``expect_oneshot_request`` with the baked defaults."""
        return self._server.expect_oneshot_request(uri, **self._merged(kwargs))

    def expect_ordered_request(self, uri: URIType, **kwargs: Any) -> RequestHandler:
        """``expect_ordered_request`` with the baked defaults."""
        return self._server.expect_ordered_request(uri, **self._merged(kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)
