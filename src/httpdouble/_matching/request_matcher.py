"""Request matching: what a request must look like, and why it did not.

Every matcher can do two things: answer "does this request match?" as fast as
possible (that runs on every request), and explain, field by field, what it
expected and what arrived (that runs only when something went wrong).
"""

from __future__ import annotations

import codecs
import json as _json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from werkzeug.wrappers import Request

from .._errors import HTTPDoubleUsageError
from . import typed_kwargs_getattr
from .headers import HeaderValueMatcher
from .mismatch import Mismatch
from .query import MappingQueryMatcher, QueryStringType, to_query_matcher
from .richer import build_checks, data_form_check
from .uri import URIPattern as URIPattern  # re-exported: its public path
from .uri import URIType as URIType
from .uri import is_uri, is_url

# .bodydiff explains a miss: imported by the methods that explain one (issue 27), and
# loaded when a server starts (_app.failures.load_failure_paths).
if TYPE_CHECKING:
    from .bodydiff import Difference
    from .checks import Check
    from .composite import AllOf, AnyOf
    from .host import HostMatcher, HostType
    from .typed_kwargs import FormSpec, MultipartSpec
    from .typed_kwargs import RequestMatcherKwargs as RequestMatcherKwargs

URI_DEFAULT: Final = ""
"""Pass as ``uri`` to match any path."""

METHOD_ALL: Final = "__ALL"
"""Pass as ``method`` to match any HTTP method."""


class _Undefined:
    """The type of :data:`UNDEFINED`: "no value given", distinct from ``None``."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<UNDEFINED>"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Final = _Undefined()
"""Default of ``json=``: the body is not compared as JSON. (``None`` is JSON ``null``.)"""


def _mismatches(field: str, found: list[Difference]) -> list[Mismatch]:
    from .bodydiff import bounded

    return [
        Mismatch(f"{field} {where}" if where else field, expected, actual)
        for where, expected, actual in bounded(found)
    ]


def _short(value: object, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


# --------------------------------------------------------------------- matcher


HVMATCHER_T = Callable[[str, "str | None", str], bool]
"""What ``header_value_matcher`` may be: ``(name, actual or None, expected) -> bool``."""


# RequestMatcherKwargs, a type for typing code, lives in .typed_kwargs: loaded on first
# access (issue 27, round 3: its annotations cost every import about 0.25 ms).
__getattr__ = typed_kwargs_getattr(__name__, frozenset({"RequestMatcherKwargs"}))


class RequestMatcher:
    """What a request must look like to be served by a handler.

    Only the fields given are compared; every other part of the request is free.
    The richer arguments, from ``json_contains`` on, are keyword-only; ``None`` (for
    ``json_contains``, :data:`UNDEFINED`) leaves the field free. Matchers combine with
    ``&`` (:class:`AllOf`), ``|`` (:class:`AnyOf`) and ``~`` (:class:`Not`).

    :param uri: the exact path (``str``), :data:`URI_DEFAULT` for any path, a
        compiled regular expression (``pattern.match(path)``: anchored at the start
        only, as in pytest-httpserver; end it with ``$`` to match the whole path), a
        :class:`URIPattern`, or any object with its own ``__eq__`` (compared with the path).
    :param method: the HTTP method, case-insensitive; :data:`METHOD_ALL` for any.
    :param data: the exact body, as ``bytes`` or ``str`` (encoded with
        ``data_encoding``); ``None`` for any body.
    :param data_encoding: how a ``str`` ``data`` is encoded.
    :param headers: header values that must be present; other headers are free.
    :param query_string: ``str``/``bytes`` (exact), a mapping (decoded, any
        order), a :class:`QueryMatcher`, or ``None`` for any.
    :param header_value_matcher: compares header values; defaults to
        :class:`HeaderValueMatcher`.
    :param json: a JSON value the decoded body must equal (types compared
        strictly); :data:`UNDEFINED` to not compare.
    :param data_form: the form fields (urlencoded or multipart, parsed by the request's
        ``Content-Type``; a body of another type has none) must be exactly these: a mapping
        compares each field's first value, a werkzeug ``MultiDict`` every value, in order.
        Not with ``data`` or ``json``. As in pytest-httpserver 1.2.1; ``form=`` names only
        some fields.
    :param json_contains: a dict the decoded JSON body must hold: objects may have
        more keys, at every depth; lists compare item by item and must be as long.
    :param body_contains: ``bytes`` (or ``str``, encoded as UTF-8) the body must hold.
    :param body_regex: a regular expression searched for in the body (``search``); a ``str``
        pattern sees the body decoded with its charset, a ``bytes`` one the raw bytes.
    :param form: fields a urlencoded or multipart form must have, name to value (or
        list of values, in order); other fields are free.
    :param cookies: cookies the ``Cookie`` header must hold, name to value.
    :param multipart: parts a ``multipart/form-data`` body must have, name to content
        (``bytes``/``str``) or a :class:`Part`.
    :param host: the request's host: a ``str`` (case-insensitive; without a port, the
        scheme's default port), a compiled regex (``fullmatch``) or an object with a
        ``match(host)`` method; ``None`` for any. A full URL as ``uri``
        (``"https://api.example.test/v1"``) sets the path, the host, the scheme and the
        query string at once.

    :raises HTTPDoubleUsageError: when an argument has the wrong type; the
        message names the argument, what was expected and what was given.

    .. versionchanged:: 0.3
       The ``data_form`` argument.

    .. versionadded:: 0.4
       The ``host`` argument and the full-URL ``uri``.
    """

    __slots__ = (
        "_method_upper",
        "checks",
        "data",
        "data_encoding",
        "data_form",
        "header_value_matcher",
        "headers",
        "host_matcher",
        "json",
        "method",
        "query_matcher",
        "query_string",
        "uri",
    )

    def __init__(
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
        json_contains: Any = UNDEFINED,
        body_contains: str | bytes | None = None,
        body_regex: str | bytes | re.Pattern[str] | re.Pattern[bytes] | None = None,
        form: FormSpec | None = None,
        cookies: Mapping[str, str] | None = None,
        multipart: MultipartSpec | None = None,
        host: HostType | None = None,
    ) -> None:
        host_matcher = None
        if host is not None or is_url(uri):  # .host loads for the first such matcher
            from .host import host_and_uri

            uri, host_matcher, query_string = host_and_uri(uri, host, query_string)
        if not is_uri(uri):
            raise HTTPDoubleUsageError(
                "uri",
                expected="a path str, URI_DEFAULT, a compiled regex, a URIPattern,"
                " or an object with its own __eq__",
                got=uri,
                remedy="pass e.g. '/users' or re.compile('/users/[0-9]+')",
            )
        if not isinstance(method, str) or not method:
            raise HTTPDoubleUsageError(
                "method",
                expected="an HTTP method name such as 'GET', or METHOD_ALL",
                got=method,
                remedy="pass the method as a non-empty string",
            )
        if data is not None and not isinstance(data, (str, bytes)):
            raise HTTPDoubleUsageError(
                "data",
                expected="str, bytes or None",
                got=data,
                remedy="use json= to compare a decoded JSON body",
            )
        if data is not None and json is not UNDEFINED:
            raise HTTPDoubleUsageError(
                "data/json",
                expected="at most one of data= and json=",
                got=f"data={_short(data)}, json={_short(json)}",
                remedy="compare the body either as bytes (data=) or as JSON (json=)",
            )
        if data_form is not None and (data is not None or json is not UNDEFINED):
            other = "data" if data is not None else "json"
            raise HTTPDoubleUsageError(
                f"data_form/{other}",
                expected="data_form= alone: it is mutually exclusive with data= and json=",
                got=f"data_form={_short(data_form)}, {other}="
                + _short(data if data is not None else json),
                remedy="compare the body once: as form fields (data_form=), as bytes (data=)"
                " or as JSON (json=); form= names some fields and combines with the others",
            )
        if headers is not None and (
            not isinstance(headers, Mapping)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
        ):
            raise HTTPDoubleUsageError(
                "headers",
                expected="a mapping of header name to str value",
                got=headers,
                remedy="write every value as a string, e.g. {'X-Count': '3'}",
            )
        if not isinstance(data_encoding, str) or not _is_codec(data_encoding):
            raise HTTPDoubleUsageError(
                "data_encoding",
                expected="the name of a text encoding known to Python",
                got=data_encoding,
                remedy="pass e.g. 'utf-8' or 'latin-1'",
            )
        if header_value_matcher is not None and not callable(header_value_matcher):
            raise HTTPDoubleUsageError(
                "header_value_matcher",
                expected="a HeaderValueMatcher (or a callable (name, actual, expected) -> bool)",
                got=header_value_matcher,
                remedy="pass HeaderValueMatcher({'X-Name': comparator}) or None",
            )
        if json is not UNDEFINED:
            try:
                _json.dumps(json)
            except (TypeError, ValueError) as exc:
                raise HTTPDoubleUsageError(
                    "json",
                    expected="a JSON-serialisable value",
                    got=json,
                    remedy=f"use dicts, lists, str, numbers, bool and None ({exc})",
                ) from None
        self.uri = uri
        self.method = method
        self._method_upper = method.upper()
        self.data_encoding = data_encoding
        # Kept encoded, as pytest-httpserver keeps it.
        self.data = data.encode(data_encoding) if isinstance(data, str) else data
        self.headers: Mapping[str, str] = dict(headers) if headers else {}
        self.query_string = query_string
        self.query_matcher = to_query_matcher(query_string)
        # Made per matcher, as pytest-httpserver does: it reads DEFAULT_MATCHERS now.
        self.header_value_matcher: HVMATCHER_T = (
            HeaderValueMatcher() if header_value_matcher is None else header_value_matcher
        )
        self.json = json
        # Only the checks asked for: an unset field costs nothing per request.
        self.checks: tuple[Check, ...] = build_checks(
            json_contains=json_contains,
            json_unset=UNDEFINED,
            body_contains=body_contains,
            body_regex=body_regex,
            form=form,
            cookies=cookies,
            multipart=multipart,
        )
        self.data_form = data_form
        self.host_matcher: HostMatcher | None = host_matcher
        if data_form is not None:
            self.checks += (data_form_check(data_form),)

    # -- what the registry indexes on

    @property
    def exact_path(self) -> str | None:
        """The path if ``uri`` is a plain path, else ``None`` (pattern, regex, any)."""
        uri = self.uri
        return uri if isinstance(uri, str) and uri != URI_DEFAULT else None

    @property
    def exact_method(self) -> str | None:
        """The upper-case method, or ``None`` when any method matches."""
        return None if self.method == METHOD_ALL else self._method_upper

    # -- matching

    def match_uri(self, request: Request) -> bool:
        """Return whether the request path meets ``uri``."""
        uri = self.uri
        if isinstance(uri, str):
            return uri == URI_DEFAULT or uri == request.path
        if isinstance(uri, URIPattern):
            return bool(uri.match(request.path))
        if isinstance(uri, re.Pattern):
            return uri.match(request.path) is not None
        return bool(uri == request.path)

    def match(self, request: Request) -> bool:
        """Return whether ``request`` meets every expectation."""
        if self.method != METHOD_ALL and self._method_upper != request.method.upper():
            return False
        if not self.match_uri(request):
            return False
        if self.host_matcher is not None and not self.host_matcher.match(request):
            return False
        if self.query_matcher is not None and not self.query_matcher.match(request.query_string):
            return False
        for name, expected in self.headers.items():
            if not self.header_value_matcher(name, request.headers.get(name), expected):
                return False
        if self.data is not None and request.get_data() != self.data:
            return False
        if self.json is not UNDEFINED and not self._json_matches(request):
            return False
        return not self.checks or all(check.match(request) for check in self.checks)

    def _json_matches(self, request: Request) -> bool:
        try:
            decoded = _json.loads(request.get_data())
        except (ValueError, RecursionError):  # RecursionError: nested too deep to decode
            return False
        from .json_equality import json_equal  # json= only (ranking loads it at start)

        return json_equal(self.json, decoded)

    def difference(self, request: Request) -> list[Mismatch]:
        """Explain the match: every field that differs, with expected and actual values.

        An empty list means the request matches.
        """
        found: list[Mismatch] = []
        if self.method != METHOD_ALL and self._method_upper != request.method.upper():
            found.append(Mismatch("method", repr(self._method_upper), repr(request.method)))
        if not self.match_uri(request):
            found.append(Mismatch("uri", self.describe_uri(), repr(request.path)))
        if self.host_matcher is not None:
            found.extend(self.host_matcher.differences(request))
        if self.query_matcher is not None and not self.query_matcher.match(request.query_string):
            found.extend(self._query_difference(request))
        for name, expected in self.headers.items():
            actual_value = request.headers.get(name)
            if not self.header_value_matcher(name, actual_value, expected):
                found.append(
                    Mismatch(
                        f"header {name}",
                        repr(expected),
                        "no such header" if actual_value is None else repr(actual_value),
                    )
                )
        if self.data is not None and request.get_data() != self.data:
            found.extend(self._data_difference(request))
        if self.json is not UNDEFINED and not self._json_matches(request):
            body = request.get_data()
            try:
                actual_json: Any = _json.loads(body)
            except (ValueError, RecursionError) as exc:
                shown = f"a body that is not valid JSON ({exc.args[0]}): {_short(body)}"
                found.append(Mismatch("json", _short(self.json), shown))
            else:
                from .bodydiff import json_differences

                found.extend(_mismatches("json", json_differences(self.json, actual_json)))
        for check in self.checks:
            lines = check.differences(request)
            raw = check.upstream_values(request) if len(lines) == 1 else None
            found.extend(Mismatch(*line, upstream=raw) for line in lines)
        return found

    def _query_difference(self, request: Request) -> list[Mismatch]:
        from .bodydiff import elide_pair, mapping_differences

        matcher = self.query_matcher
        assert matcher is not None
        expected, actual = matcher.get_comparing_values(request.query_string)
        if isinstance(matcher, MappingQueryMatcher):
            return _mismatches("query_string", mapping_differences(expected, actual))
        if isinstance(actual, bytes) and isinstance(expected, bytes):
            return [
                Mismatch(
                    "query_string",
                    *elide_pair(
                        repr(expected.decode("utf-8", "replace")),
                        repr(actual.decode("utf-8", "replace")),
                    ),
                )
            ]
        return [Mismatch("query_string", matcher.describe(), _short(actual))]

    def _data_difference(self, request: Request) -> list[Mismatch]:
        from .bodydiff import bytes_difference, mapping_differences, parse_form

        assert self.data is not None
        body = request.get_data()
        if request.mimetype == "application/x-www-form-urlencoded":
            expected_form, actual_form = parse_form(self.data), parse_form(body)
            if expected_form is not None and actual_form is not None:
                fields = mapping_differences(expected_form, actual_form)
                if fields:  # else only the order or the spelling differs: show the bytes
                    return _mismatches("form", fields)
        where, expected, actual = bytes_difference(self.data, body)
        return [Mismatch(f"data {where}", expected, actual)]

    # -- describing

    def describe_uri(self) -> str:
        """Return the ``uri`` expectation as readable text."""
        uri = self.uri
        if isinstance(uri, str):
            return "any path" if uri == URI_DEFAULT else repr(uri)
        if isinstance(uri, re.Pattern):
            return f"regex {uri.pattern!r}"
        return repr(uri)

    def describe(self) -> str:
        """Return a one-line readable summary of every expectation."""
        parts = [
            "any method" if self.method == METHOD_ALL else self._method_upper,
            self.describe_uri(),
        ]
        if self.host_matcher is not None:
            parts.append(self.host_matcher.describe())
        if self.query_matcher is not None:
            parts.append(f"query {self.query_matcher.describe()}")
        for name, value in self.headers.items():
            parts.append(f"header {name}={value!r}")
        if self.data is not None:
            parts.append(f"data {_short(self.data, 80)}")
        if self.json is not UNDEFINED:
            parts.append(f"json {_short(self.json, 80)}")
        parts.extend(check.describe() for check in self.checks)
        return " ".join(parts)

    # -- composition: the operators build matchers of their own (see _composite)

    def __and__(self, other: RequestMatcher) -> AllOf:
        from .composite import AllOf  # late: _composite subclasses this class

        return AllOf(self, other)

    def __or__(self, other: RequestMatcher) -> AnyOf:
        from .composite import AnyOf

        return AnyOf(self, other)

    def __invert__(self) -> RequestMatcher:
        from .composite import Not

        return Not(self)

    def __repr__(self) -> str:
        # pytest-httpserver's form, field for field: suites compare it.
        return (
            f"<{type(self).__name__} uri={self.uri!r} method={self.method!r}"
            f" query_string={self.query_string!r} headers={dict(self.headers)!r}"
            f" data={self.data!r} json={self.json!r}"
            + ("" if self.host_matcher is None else self.host_matcher.arguments())
            + "".join(f" {check.describe()}" for check in self.checks)
            + ">"
        )
