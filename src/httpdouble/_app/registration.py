"""The registration shortcuts: ``expect_request`` and friends, ``create_matcher``, ``bake``.

They only build a :class:`RequestMatcher` and call ``expect``; the dispatcher
owns the handlers.
"""

from __future__ import annotations

import os
import sys
import urllib.parse
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Unpack

from .._errors import HTTPDoubleUsageError
from .._matching.query import QueryStringType
from .._matching.request_matcher import (
    HVMATCHER_T,
    METHOD_ALL,
    UNDEFINED,
    URI_DEFAULT,
    RequestMatcher,
    URIType,
)
from .expectations import HandlerType, RequestHandler, check_times
from .verification import check_matcher

if TYPE_CHECKING:
    # A type for annotations only: loaded on first access (issue 27, round 3).
    from .._matching.typed_kwargs import RicherMatching


class MethodTypoWarning(UserWarning):
    """A registered method looks like a misspelt standard one (``GTE`` for ``GET``).

    Custom methods such as ``PURGE`` or ``PROPFIND`` do not warn. To register a method
    this warns about on purpose, filter the warning:
    ``warnings.filterwarnings("ignore", category=MethodTypoWarning)``.
    """


class QueryInURIWarning(UserWarning):
    """A registered path holds a query string (``"/x?a=1"``), so it never matches.

    A warning rather than an error because pytest-httpserver accepts such a path.
    """


MethodTypoWarning.__module__ = "httpdouble"

STANDARD_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
# Methods in use beyond RFC 9110 (the IANA registry, WebDAV, caches): never typos.
_KNOWN_METHODS = frozenset(
    {
        *STANDARD_METHODS,
        *[
            "ACL",
            "BAN",
            "BIND",
            "CHECKIN",
            "CHECKOUT",
            "COPY",
            "LABEL",
            "LINK",
            "LOCK",
            "MERGE",
            "MKCOL",
            "MOVE",
            "PRI",
            "PROPFIND",
            "PROPPATCH",
            "PURGE",
            "QUERY",
            "REBIND",
            "REPORT",
            "SEARCH",
            "TRACK",
            "UNBIND",
            "UNCHECKOUT",
            "UNLINK",
            "UNLOCK",
            "UPDATE",
        ],
    }
)


def edit_distance(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) that turn ``a`` into ``b``."""
    rows = [list(range(len(b) + 1))]
    for i, char_a in enumerate(a, 1):
        row = [i]
        for j, char_b in enumerate(b, 1):
            cost = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (char_a != char_b))
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                cost = min(cost, rows[-2][j - 2] + 1)
            row.append(cost)
        rows.append(row)
    return rows[-1][-1]


def likely_method_typo(method: str) -> str | None:
    """The standard method ``method`` is probably a misspelling of, or ``None``.

    One edit away counts; two only for names of six letters or more, so short custom
    names (``PRI`` is two edits from ``PUT``) are left alone.
    """
    upper = method.upper()
    if upper in _KNOWN_METHODS or not upper.isalpha():
        return None
    for standard in STANDARD_METHODS:
        allowed = 2 if len(standard) >= 6 else 1
        if (
            abs(len(upper) - len(standard)) <= allowed
            and edit_distance(upper, standard) <= allowed
        ):
            return standard
    return None


def check_registration(matcher: RequestMatcher) -> None:
    """Refuse a ``uri`` no request can have; warn about a likely misspelt method.

    Runs once per ``expect_*`` call, never per request.

    :raises HTTPDoubleUsageError: for a full URL left whole (by a ``create_matcher`` of the
        user's), or a path without its leading ``/``
        (a path with a query string warns with :class:`QueryInURIWarning`).
    """
    uri = matcher.uri
    if isinstance(uri, str) and uri != URI_DEFAULT:
        _check_path(uri)
        if "?" in uri:
            _warn_query_in_path(uri)
    method = matcher.method
    if method != METHOD_ALL:
        standard = likely_method_typo(method)
        if standard is not None:
            warnings.warn(
                f"method {method!r} looks like a misspelling of {standard!r};"
                f" no client sends {method!r} unless told to. Pass method={standard!r}, or"
                " filter MethodTypoWarning if the custom method is meant",
                MethodTypoWarning,
                stacklevel=_caller_level(),
            )


def new_handler(
    matcher: RequestMatcher, handler_type: HandlerType, times: int | None
) -> RequestHandler:
    """The handler ``expect()`` registers; refuses a bad matcher, lifetime or ``times``."""
    check_matcher(matcher)
    if not isinstance(handler_type, HandlerType):
        raise HTTPDoubleUsageError(
            "handler_type",
            expected="a HandlerType (PERMANENT, ONESHOT or ORDERED)",
            got=handler_type,
            remedy="pass e.g. HandlerType.ONESHOT",
        )
    times = check_times(times)
    if handler_type is HandlerType.ONESHOT and times not in (None, 1):
        raise HTTPDoubleUsageError(
            "times",
            expected="no times=, or times=1, with HandlerType.ONESHOT (it serves one request)",
            got=times,
            remedy=f"drop handler_type=HandlerType.ONESHOT and keep times={times}",
        )
    return RequestHandler(matcher, handler_type, times)


def _warn_query_in_path(uri: str) -> None:
    # A warning, not an error: pytest-httpserver's own docs register such a path
    # ("never do this") in a test that must pass.
    path, _, query = uri.partition("?")
    mapping = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    alternative = f" or query_string={mapping!r} (any order)" if mapping else ""
    warnings.warn(
        f"uri {uri!r} holds a query string, so it never matches: a request's query"
        " string is not part of its path, and is matched on its own."
        f" Pass expect_request({path!r}, query_string={query!r}){alternative}",
        QueryInURIWarning,
        stacklevel=_caller_level(),
    )


def _check_path(uri: str) -> None:
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme in ("http", "https"):
        query = f", query_string={parts.query!r}" if parts.query else ""
        raise HTTPDoubleUsageError(
            "uri",
            expected="a path: this matcher kept the full URL as its uri, and a request's path"
            " is never a URL (RequestMatcher itself splits a URL into path, host= and scheme)",
            got=uri,
            remedy=f"pass the path: expect_request({parts.path or '/'!r}{query},"
            f" host={parts.netloc!r})",
        )
    if uri.startswith("//"):
        raise HTTPDoubleUsageError(
            "uri",
            expected="a path starting with a single '/': leading slashes of a request path"
            " are merged into one",
            got=uri,
            remedy=f"pass {'/' + uri.lstrip('/')!r}",
        )
    if not uri.startswith("/"):
        raise HTTPDoubleUsageError(
            "uri",
            expected="a path starting with '/': every request path does",
            got=uri,
            remedy=f"pass {'/' + uri!r}",
        )


_OUR_DIR = os.path.dirname(os.path.dirname(__file__))  # os.path: cheaper than pathlib


def _caller_level() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside httpdouble."""
    level = 1
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_OUR_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


class Registration:
    """Mixed into the dispatcher: every way to register a handler."""

    def expect(
        self,
        matcher: RequestMatcher,
        handler_type: HandlerType = HandlerType.PERMANENT,
        *,
        times: int | None = None,
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
        header_value_matcher: HVMATCHER_T | None = None,
        handler_type: HandlerType = HandlerType.PERMANENT,
        json: Any = UNDEFINED,
        data_form: Mapping[str, str] | None = None,
        *,
        times: int | None = None,
        **richer: Unpack[RicherMatching],
    ) -> RequestHandler:
        """Register a handler (permanent by default); arguments as :class:`RequestMatcher`.

        The richer keyword arguments (``json_contains``, ``body_contains``, ``body_regex``,
        ``form``, ``cookies``, ``multipart``, ``host``) are passed to the matcher only when
        given, so a ``create_matcher`` override written for pytest-httpserver keeps working; so is
        ``data_form`` (pytest-httpserver 1.2.1's form fields, see :class:`RequestMatcher`).

        :param times: serve exactly this many matching requests, then be gone (later
            requests go to other handlers, as after a oneshot handler's one use). Fewer
            uses fail the test at teardown (``expectation used 2 of 3 times``), and
            :meth:`~httpdouble.HTTPServer.wait` waits for all of them. A counted handler
            is looked up with the oneshot handlers, before every permanent one.
            ``times=1`` serves like a oneshot handler. With ``HandlerType.ORDERED`` the
            handler stays the next ordered one for that many requests.

        .. versionchanged:: 0.2
           The ``times`` argument.

        .. versionchanged:: 0.3
           The ``data_form`` argument.

        .. versionchanged:: 0.4
           The ``host`` argument, and a full URL as the ``uri``.
        """
        return self._register(
            handler_type,
            times,
            uri,
            method,
            data,
            data_encoding,
            headers,
            query_string,
            header_value_matcher,
            json,
            data_form,
            richer,
        )

    def expect_oneshot_request(
        self,
        uri: URIType,
        method: str = METHOD_ALL,
        data: str | bytes | None = None,
        data_encoding: str = "utf-8",
        headers: Mapping[str, str] | None = None,
        query_string: QueryStringType = None,
        header_value_matcher: HVMATCHER_T | None = None,
        json: Any = UNDEFINED,
        data_form: Mapping[str, str] | None = None,
        *,
        times: int | None = None,
        **richer: Unpack[RicherMatching],
    ) -> RequestHandler:
        """Register a handler that serves one request and is then removed.

        ``times`` is accepted so that ``bake(times=...)`` defaults pass through; a oneshot
        handler serves one request, so only ``times=1`` is allowed here.
        """
        return self._register(
            HandlerType.ONESHOT,
            times,
            uri,
            method,
            data,
            data_encoding,
            headers,
            query_string,
            header_value_matcher,
            json,
            data_form,
            richer,
        )

    def expect_ordered_request(
        self,
        uri: URIType,
        method: str = METHOD_ALL,
        data: str | bytes | None = None,
        data_encoding: str = "utf-8",
        headers: Mapping[str, str] | None = None,
        query_string: QueryStringType = None,
        header_value_matcher: HVMATCHER_T | None = None,
        json: Any = UNDEFINED,
        data_form: Mapping[str, str] | None = None,
        *,
        times: int | None = None,
        **richer: Unpack[RicherMatching],
    ) -> RequestHandler:
        """Register a oneshot handler that must be used in registration order.

        :param times: stay the next ordered handler for this many requests.
        """
        return self._register(
            HandlerType.ORDERED,
            times,
            uri,
            method,
            data,
            data_encoding,
            headers,
            query_string,
            header_value_matcher,
            json,
            data_form,
            richer,
        )

    def _register(
        self,
        handler_type: HandlerType,
        times: int | None,
        uri: URIType,
        method: str,
        data: str | bytes | None,
        data_encoding: str,
        headers: Mapping[str, str] | None,
        query_string: QueryStringType,
        header_value_matcher: HVMATCHER_T | None,
        json: Any,
        data_form: Mapping[str, str] | None,
        richer: RicherMatching,
    ) -> RequestHandler:
        """What the three ``expect_*_request`` methods do: build, check and register."""
        matcher = self.create_matcher(
            uri,
            method,
            data,
            data_encoding,
            headers,
            query_string,
            header_value_matcher,
            json,
            # Passed only when given, as pytest-httpserver does: a create_matcher override
            # written for 1.1.5 keeps working.
            **({"data_form": data_form} if data_form is not None else {}),
            **richer,
        )
        check_registration(matcher)
        return self.expect(matcher, handler_type, times=times)

    def bake(self, **kwargs: Any) -> BakedHTTPServer:
        """Return a view whose ``expect_*`` calls use ``kwargs`` as defaults.

        ``server.bake(method="POST", headers={"X-Key": "k"}).expect_request("/a")``
        registers ``/a`` for POST with that header.
        """
        return BakedHTTPServer(self, **kwargs)


class BakedHTTPServer:
    """A server with default arguments for its ``expect_*`` calls; see ``bake``.

    Everything else (``url_for``, ``check``, ...) is the server's own.
    """

    def __init__(self, server: Registration, **defaults: Any) -> None:
        self._server = server
        self._defaults = defaults
        # One entry per open ``with``: whether that block started the server.
        self._started: list[bool] = []

    def _merged(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {**self._defaults, **kwargs}

    def bake(self, **kwargs: Any) -> BakedHTTPServer:
        """Return a new view with these defaults on top of this view's ones."""
        # type(self): a subclass of the user's stays that subclass, as in pytest-httpserver.
        return type(self)(self._server, **self._merged(kwargs))

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
