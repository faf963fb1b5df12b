"""RequestMatcher: each field on its own, and how a matcher explains a miss."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, ClassVar

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from httpdouble import (
    METHOD_ALL,
    URI_DEFAULT,
    BooleanQueryMatcher,
    CaseInsensitiveHeaderValueMatcher,
    HeaderValueMatcher,
    HTTPDoubleUsageError,
    MappingQueryMatcher,
    Mismatch,
    NoMethodFoundForMatchingHeaderValueError,
    QueryMatcher,
    RequestMatcher,
    StringQueryMatcher,
    URIPattern,
)


def make_request(
    path: str = "/",
    method: str = "GET",
    *,
    query_string: str | bytes | None = None,
    headers: Mapping[str, str] | None = None,
    data: bytes | None = None,
) -> Request:
    builder = EnvironBuilder(
        path=path, method=method, query_string=query_string, headers=headers, data=data
    )
    try:
        return Request(builder.get_environ())
    finally:
        builder.close()


class PrefixPattern(URIPattern):
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def match(self, uri: str) -> bool:
        return uri.startswith(self.prefix)


class HasKeyQuery(QueryMatcher):
    """Matches when the raw query string names a key, whatever its value."""

    def __init__(self, key: str) -> None:
        self.key = key

    def get_comparing_values(self, request_query_string: bytes) -> tuple[Any, Any]:
        keys = {part.split(b"=", 1)[0] for part in request_query_string.split(b"&")}
        return True, self.key.encode() in keys


# ------------------------------------------------------------------------- uri


@pytest.mark.parametrize(
    ("path", "matches"), [("/users", True), ("/users/", False), ("/other", False)]
)
def test_string_uri_matches_the_exact_path_only(path: str, matches: bool) -> None:
    assert RequestMatcher("/users").match(make_request(path)) is matches


def test_string_uri_ignores_the_query_string() -> None:
    assert RequestMatcher("/users").match(make_request("/users", query_string="page=2"))


@pytest.mark.parametrize("path", ["/", "/a", "/a/b/c"])
def test_uri_default_matches_any_path(path: str) -> None:
    assert RequestMatcher(URI_DEFAULT).match(make_request(path))


@pytest.mark.parametrize(
    ("path", "matches"),
    [("/users/12", True), ("/users/12/posts", True), ("/users/x", False), ("/v1/users/1", False)],
)
def test_compiled_regex_is_anchored_at_the_start_only_as_upstream(
    path: str, matches: bool
) -> None:
    matcher = RequestMatcher(re.compile(r"/users/\d+"))
    assert matcher.match(make_request(path)) is matches


def test_compiled_regex_ending_in_dollar_matches_the_whole_path() -> None:
    matcher = RequestMatcher(re.compile(r"/users/\d+$"))
    assert matcher.match(make_request("/users/12"))
    assert not matcher.match(make_request("/users/12/posts"))


class _Prefix:
    """Not a URIPattern: only an __eq__, as pytest-httpserver allows."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.startswith(self.prefix)

    __hash__ = None  # type: ignore[assignment]


def test_an_object_with_its_own_eq_is_compared_with_the_path() -> None:
    matcher = RequestMatcher(_Prefix("/api/"))  # type: ignore[arg-type]
    assert matcher.match(make_request("/api/x"))
    assert not matcher.match(make_request("/web/x"))


@pytest.mark.parametrize("value", [b"/a", 42, None, ["/a"]])
def test_values_that_cannot_be_a_path_are_refused(value: object) -> None:
    with pytest.raises(HTTPDoubleUsageError, match="invalid uri"):
        RequestMatcher(value)  # type: ignore[arg-type]


def test_uri_pattern_subclass_decides_the_match() -> None:
    matcher = RequestMatcher(PrefixPattern("/static/"))
    assert matcher.match(make_request("/static/app.js"))
    assert not matcher.match(make_request("/api/static/app.js"))


# ---------------------------------------------------------------------- method


@pytest.mark.parametrize("method", ["get", "GET", "Get"])
def test_method_is_compared_case_insensitively(method: str) -> None:
    matcher = RequestMatcher("/", method=method)
    assert matcher.match(make_request("/", "GET"))
    assert not matcher.match(make_request("/", "POST"))


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_method_all_matches_every_method(method: str) -> None:
    assert RequestMatcher("/", method=METHOD_ALL).match(make_request("/", method))


# ------------------------------------------------------------------------ data


def test_data_as_bytes_must_equal_the_body() -> None:
    matcher = RequestMatcher("/", data=b"payload")
    assert matcher.match(make_request("/", "POST", data=b"payload"))
    assert not matcher.match(make_request("/", "POST", data=b"payload!"))
    assert not matcher.match(make_request("/", "POST"))


def test_data_as_str_is_encoded_with_data_encoding() -> None:
    latin = RequestMatcher("/", data="caf\u00e9", data_encoding="latin-1")
    utf8 = RequestMatcher("/", data="caf\u00e9")
    assert latin.match(make_request("/", "POST", data=b"caf\xe9"))
    assert not latin.match(make_request("/", "POST", data=b"caf\xc3\xa9"))
    assert utf8.match(make_request("/", "POST", data=b"caf\xc3\xa9"))
    assert not utf8.match(make_request("/", "POST", data=b"caf\xe9"))


def test_no_data_means_any_body() -> None:
    assert RequestMatcher("/").match(make_request("/", "POST", data=b"anything"))


# --------------------------------------------------------------------- headers


def test_headers_must_be_present_with_equal_values_and_others_are_free() -> None:
    matcher = RequestMatcher("/", headers={"X-Api-Key": "secret"})
    assert matcher.match(make_request(headers={"X-Api-Key": "secret", "X-Other": "1"}))
    assert matcher.match(make_request(headers={"x-api-key": "secret"}))
    assert not matcher.match(make_request(headers={"X-Api-Key": "Secret"}))
    assert not matcher.match(make_request())


@pytest.mark.parametrize(
    ("expected", "sent"),
    [
        ("Basic dXNlcjpwYXNz", "basic dXNlcjpwYXNz"),
        ('Digest username="u", realm="r"', 'digest realm="r",username="u"'),
        ("Bearer abc.def", "bearer abc.def"),
    ],
)
def test_authorization_is_compared_by_meaning_not_spelling(expected: str, sent: str) -> None:
    matcher = RequestMatcher("/", headers={"Authorization": expected})
    assert matcher.match(make_request(headers={"Authorization": sent}))


def test_authorization_with_other_credentials_does_not_match() -> None:
    matcher = RequestMatcher("/", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert not matcher.match(make_request(headers={"Authorization": "Basic dXNlcjpvdGhlcg=="}))
    assert not matcher.match(make_request())


def test_header_value_matcher_looks_comparators_up_by_the_name_as_written() -> None:
    def same_number(actual: str | None, expected: str) -> bool:
        return actual is not None and int(actual) == int(expected)

    custom = HeaderValueMatcher({"X-Count": same_number})
    matcher = RequestMatcher("/", headers={"X-Count": "7"}, header_value_matcher=custom)
    assert matcher.match(make_request(headers={"x-count": "007"}))
    assert not matcher.match(make_request(headers={"X-Count": "8"}))
    # As in pytest-httpserver: the mapping replaces the defaults, names are exact.
    with pytest.raises(NoMethodFoundForMatchingHeaderValueError, match="x-count") as raised:
        custom("x-count", "7", "7")
    assert "CaseInsensitiveHeaderValueMatcher" in str(raised.value)
    assert "['X-Count']" in str(raised.value)


def test_case_insensitive_header_value_matcher_finds_comparators_in_any_case() -> None:
    def same_number(actual: str | None, expected: str) -> bool:
        return actual is not None and int(actual) == int(expected)

    custom = CaseInsensitiveHeaderValueMatcher({"X-COUNT": same_number})
    matcher = RequestMatcher("/", headers={"x-count": "7"}, header_value_matcher=custom)
    assert matcher.match(make_request(headers={"X-Count": "007"}))
    assert not matcher.match(make_request(headers={"X-Count": "8"}))
    with pytest.raises(NoMethodFoundForMatchingHeaderValueError, match="X-Other"):
        custom("X-Other", "a", "a")
    defaults = CaseInsensitiveHeaderValueMatcher()
    assert defaults("authorization", 'Digest a="1", b="2"', 'Digest b="2", a="1"')
    assert not defaults("X-Tag", "BLUE", "blue")


def test_the_default_matcher_compares_authorization_by_meaning_in_any_case() -> None:
    matcher = RequestMatcher("/", headers={"authorization": 'Digest b="2", a="1"'})
    assert matcher.match(make_request(headers={"Authorization": 'Digest a="1", b="2"'}))
    assert isinstance(matcher.header_value_matcher, HeaderValueMatcher)
    assert matcher.header_value_matcher.matchers is HeaderValueMatcher.DEFAULT_MATCHERS
    assert "authorization" not in HeaderValueMatcher.DEFAULT_MATCHERS  # nothing cached


def test_header_value_matcher_subclass_can_add_default_comparators() -> None:
    class Lenient(HeaderValueMatcher):
        DEFAULT_MATCHERS: ClassVar[MutableMapping[str, Callable[[str | None, str], bool]]] = (
            defaultdict(
                lambda: HeaderValueMatcher.default_header_value_matcher,
                {"X-Tag": lambda actual, expected: (actual or "").lower() == expected},
            )
        )

    matcher = RequestMatcher("/", headers={"X-Tag": "blue"}, header_value_matcher=Lenient())
    assert matcher.match(make_request(headers={"X-Tag": "BLUE"}))
    assert not RequestMatcher("/", headers={"X-Tag": "blue"}).match(
        make_request(headers={"X-Tag": "BLUE"})
    )


# ---------------------------------------------------------------- query string


@pytest.mark.parametrize("expected", ["a=1&b=2", b"a=1&b=2"])
def test_query_string_as_str_or_bytes_must_match_exactly(expected: str | bytes) -> None:
    matcher = RequestMatcher("/", query_string=expected)
    assert matcher.match(make_request(query_string="a=1&b=2"))
    assert not matcher.match(make_request(query_string="b=2&a=1"))
    assert not matcher.match(make_request())
    assert isinstance(matcher.query_matcher, StringQueryMatcher)


def test_query_string_as_mapping_matches_decoded_arguments_in_any_order() -> None:
    matcher = RequestMatcher("/", query_string={"a": "1", "q": "x y"})
    assert matcher.match(make_request(query_string="q=x+y&a=1"))
    assert matcher.match(make_request(query_string="a=1&q=x%20y"))
    assert not matcher.match(make_request(query_string="a=1"))
    assert not matcher.match(make_request(query_string="a=1&q=x+y&extra=1"))
    assert isinstance(matcher.query_matcher, MappingQueryMatcher)


def test_query_mapping_with_a_list_matches_a_repeated_key() -> None:
    repeated = RequestMatcher("/", query_string={"tag": ["a", "b"]})
    single = RequestMatcher("/", query_string={"tag": "a"})
    assert repeated.match(make_request(query_string="tag=a&tag=b"))
    assert not repeated.match(make_request(query_string="tag=b&tag=a"))
    # A plain string is compared with the first value, as pytest-httpserver does.
    assert single.match(make_request(query_string="tag=a&tag=b"))
    assert not single.match(make_request(query_string="tag=b&tag=a"))


def test_difference_unpacks_like_pytest_httpserver_tuples() -> None:
    matcher = RequestMatcher("/expected", method="POST")
    differences = matcher.difference(make_request(path="/got"))
    unpacked = {field: (actual, expected) for field, actual, expected in differences}
    assert unpacked["uri"] == ("'/got'", "'/expected'")
    assert unpacked["method"] == ("'GET'", "'POST'")


def test_query_string_as_multidict_compares_every_value() -> None:
    matcher = RequestMatcher("/", query_string=MultiDict([("k", "1"), ("k", "2")]))
    assert matcher.match(make_request(query_string="k=1&k=2"))
    assert not matcher.match(make_request(query_string="k=1"))


def test_boolean_query_matcher_matches_everything_or_nothing() -> None:
    anything = RequestMatcher("/", query_string=BooleanQueryMatcher(True))
    nothing = RequestMatcher("/", query_string=BooleanQueryMatcher(False))
    for query in ("", "a=1", "x"):
        assert anything.match(make_request(query_string=query))
        assert not nothing.match(make_request(query_string=query))


def test_query_matcher_subclass_decides_the_match() -> None:
    matcher = RequestMatcher("/", query_string=HasKeyQuery("token"))
    assert matcher.match(make_request(query_string="a=1&token=zzz"))
    assert not matcher.match(make_request(query_string="a=1"))


# ------------------------------------------------------------------------ json


@pytest.mark.parametrize(
    ("expected", "body", "matches"),
    [
        ({"a": 1}, b'{"a": 1}', True),
        ({"a": 1}, b'{ "a" : 1.0 }', True),
        ({"a": [1, 2]}, b'{"a": [2, 1]}', False),
        ({"flag": True}, b'{"flag": 1}', False),
        ({"flag": 1}, b'{"flag": true}', False),
        (True, b"1", False),
        (0, b"false", False),
        (None, b"null", True),
        (None, b"0", False),
        ("1", b"1", False),
        ({"a": 1}, b'{"a": 1, "b": 2}', False),
        ({"a": 1}, b"not json", False),
    ],
)
def test_json_compares_the_decoded_body_with_strict_types(
    expected: Any, body: bytes, matches: bool
) -> None:
    matcher = RequestMatcher("/", json=expected)
    assert matcher.match(make_request("/", "POST", data=body)) is matches


# ------------------------------------------------------------------ difference


def test_difference_is_empty_for_a_matching_request() -> None:
    matcher = RequestMatcher("/a", method="GET", query_string="x=1", headers={"X-K": "v"})
    assert matcher.difference(make_request("/a", query_string="x=1", headers={"X-K": "v"})) == []


def test_difference_lists_every_differing_field_with_expected_and_actual() -> None:
    matcher = RequestMatcher(
        "/a", method="get", query_string={"x": "1"}, headers={"X-K": "v", "X-Gone": "g"}
    )
    request = make_request(
        "/b", "POST", query_string="x=2", headers={"X-K": "w"}, data=b"irrelevant"
    )
    assert matcher.difference(request) == [
        Mismatch("method", "'GET'", "'POST'"),
        Mismatch("uri", "'/a'", "'/b'"),
        Mismatch("query_string x", "'1'", "'2'"),
        Mismatch("header X-K", "'v'", "'w'"),
        Mismatch("header X-Gone", "'g'", "no such header"),
    ]


def test_difference_explains_string_query_regex_and_pattern_uris() -> None:
    request = make_request("/zzz", query_string="b=2")
    assert RequestMatcher(re.compile("/a+"), query_string="a=1").difference(request) == [
        Mismatch("uri", "regex '/a+'", "'/zzz'"),
        Mismatch("query_string", "'a=1'", "'b=2'"),
    ]
    assert RequestMatcher(PrefixPattern("/s/")).difference(request) == [
        Mismatch("uri", "<PrefixPattern>", "'/zzz'")
    ]


def test_difference_explains_data_and_json() -> None:
    request = make_request("/", "POST", data=b'{"n": true}')
    assert RequestMatcher("/", data=b"abc").difference(request) == [
        Mismatch("data at byte 0", "b'abc' (3 bytes)", "b'{\"n\": true}' (11 bytes)")
    ]
    assert RequestMatcher("/", json={"n": 1}).difference(request) == [
        Mismatch("json n", "1 (int)", "True (bool)")
    ]


def test_difference_says_when_the_body_is_not_json() -> None:
    [mismatch] = RequestMatcher("/", json=[1]).difference(make_request("/", "POST", data=b"<x>"))
    assert mismatch.field == "json"
    assert mismatch.actual.startswith("a body that is not valid JSON")
    assert "b'<x>'" in mismatch.actual


def test_mismatch_reads_as_one_line() -> None:
    assert str(Mismatch("uri", "'/a'", "'/b'")) == "uri: expected '/a', got '/b'"


def test_describe_and_repr_name_every_given_field() -> None:
    matcher = RequestMatcher(
        "/a", method="post", query_string="q=1", headers={"X-K": "v"}, json={"k": 1}
    )
    assert matcher.describe() == "POST '/a' query 'q=1' header X-K='v' json {'k': 1}"
    assert repr(matcher) == (
        "<RequestMatcher uri='/a' method='post' query_string='q=1'"
        " headers={'X-K': 'v'} data=None json={'k': 1}>"
    )
    assert RequestMatcher(URI_DEFAULT).describe() == "any method any path"
