"""Query-string matchers: a raw string, a mapping of arguments, or anything at all."""

from __future__ import annotations

import abc
import urllib.parse
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from .._errors import HTTPDoubleUsageError


class QueryMatcher(abc.ABC):
    """Compares a request's query string with an expectation.

    Subclasses implement :meth:`get_comparing_values`, returning
    ``(expected, actual)``; the query matches when they are equal.
    """

    def match(self, request_query_string: bytes) -> bool:
        """Return whether the raw query string matches."""
        expected, actual = self.get_comparing_values(request_query_string)
        return bool(expected == actual)

    @abc.abstractmethod
    def get_comparing_values(self, request_query_string: bytes) -> tuple[Any, Any]:
        """Return ``(expected, actual)`` for the raw query string of a request."""

    def describe(self) -> str:
        """Return the expectation as readable text."""
        return repr(self)


class StringQueryMatcher(QueryMatcher):
    """Matches the query string exactly, as text or bytes (no decoding, order matters)."""

    def __init__(self, query_string: str | bytes) -> None:
        if not isinstance(query_string, (str, bytes)):
            raise HTTPDoubleUsageError(
                "query_string",
                expected="str or bytes",
                got=query_string,
                remedy="pass the raw query string, e.g. 'a=1&b=2'",
            )
        self.query_string = (
            query_string.encode() if isinstance(query_string, str) else query_string
        )

    def get_comparing_values(self, request_query_string: bytes) -> tuple[bytes, bytes]:
        return self.query_string, request_query_string

    def __repr__(self) -> str:
        return repr(self.query_string.decode("utf-8", "replace"))


class MappingQueryMatcher(QueryMatcher):
    """Matches the decoded query arguments, in any order.

    A plain string value is compared with the key's first value, as in
    pytest-httpserver (``{"a": "1"}`` matches ``a=1`` and ``a=1&a=2``). A list
    value is compared with all of the key's values (``{"a": ["1", "2"]}``
    matches ``a=1&a=2`` only), and so is every key of a werkzeug ``MultiDict``.
    """

    def __init__(self, query_dict: Mapping[str, str | list[str]] | MultiDict[str, str]) -> None:
        expected: dict[str, list[str]] = {}
        self._first_only: frozenset[str] = frozenset()
        if isinstance(query_dict, MultiDict):
            for key in query_dict:
                expected[key] = list(query_dict.getlist(key))
        else:
            for key, value in query_dict.items():
                expected[key] = list(value) if isinstance(value, (list, tuple)) else [value]
            self._first_only = frozenset(
                key for key, value in query_dict.items() if not isinstance(value, (list, tuple))
            )
        for key, values in expected.items():
            if not isinstance(key, str) or not all(isinstance(v, str) for v in values):
                raise HTTPDoubleUsageError(
                    "query_string",
                    expected="a mapping of str to str (or to a list of str)",
                    got=dict(query_dict),
                    remedy="write numbers as strings, e.g. {'page': '2'}",
                )
        self.query_dict = expected

    @property
    def first_only(self) -> frozenset[str]:
        """The keys compared with their first value only (given as a plain string)."""
        return self._first_only

    def get_comparing_values(
        self, request_query_string: bytes
    ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        actual: dict[str, list[str]] = {}
        text = request_query_string.decode("utf-8", "replace")
        for key, value in urllib.parse.parse_qsl(text, keep_blank_values=True):
            values = actual.setdefault(key, [])
            if not values or key not in self._first_only:
                values.append(value)
        return self.query_dict, actual

    def __repr__(self) -> str:
        return repr({k: (v[0] if len(v) == 1 else v) for k, v in self.query_dict.items()})


class BooleanQueryMatcher(QueryMatcher):
    """Matches every query string (``True``) or none (``False``)."""

    def __init__(self, result: bool) -> None:
        self.result = result

    def get_comparing_values(self, request_query_string: bytes) -> tuple[bool, bool]:
        return True, self.result

    def __repr__(self) -> str:
        return "any query string" if self.result else "no query string at all"


QueryStringType = str | bytes | Mapping[str, Any] | MultiDict[str, str] | QueryMatcher | None


def to_query_matcher(query_string: QueryStringType) -> QueryMatcher | None:
    if query_string is None:
        return None
    if isinstance(query_string, QueryMatcher):
        return query_string
    if isinstance(query_string, (str, bytes)):
        return StringQueryMatcher(query_string)
    if isinstance(query_string, Mapping):
        return MappingQueryMatcher(query_string)
    raise HTTPDoubleUsageError(
        "query_string",
        expected="str, bytes, a mapping, a QueryMatcher or None",
        got=query_string,
        remedy="pass e.g. 'a=1' or {'a': '1'}",
    )


# ---------------------------------------------------------------------- headers
