"""What pytest-httpserver 1.2.0 and 1.2.1 added to matching, without sockets.

``data_form=``, ``CaseInsensitiveHeaderValueMatcher``, the exact lookup of
``HeaderValueMatcher`` and the 1.2.0 rule for empty query values.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from httpdouble import (
    CaseInsensitiveHeaderValueMatcher,
    HeaderValueMatcher,
    HTTPDoubleUsageError,
    MappingQueryMatcher,
    Mismatch,
    NoMethodFoundForMatchingHeaderValueError,
    RequestMatcher,
)

FORM = "application/x-www-form-urlencoded"


def form_request(body: str | bytes, content_type: str = FORM) -> Request:
    return Request.from_values(method="POST", data=body, content_type=content_type)


# ------------------------------------------------------------------ data_form


@pytest.mark.parametrize(
    ("expected", "body", "matches"),
    [
        ({"tag": "first"}, "tag=first&tag=second", True),  # a mapping: the first value
        ({"tag": "second"}, "tag=first&tag=second", False),
        ({"name": "Ada"}, "name=Ada&extra=1", False),  # every field must be named
        ({"flag": ""}, "flag=", True),
        ({"flag": ""}, "", False),
        ({}, "", True),
        ({"q": "a b+c"}, "q=a+b%2Bc", True),  # decoded as a form is
        (MultiDict([("tag", "first"), ("tag", "second")]), "tag=first&tag=second", True),
        (MultiDict([("tag", "first"), ("tag", "second")]), "tag=second&tag=first", False),
        (MultiDict([("tag", "first"), ("tag", "second")]), "tag=first", False),
    ],
)
def test_data_form_compares_first_values_of_a_mapping_and_every_value_of_a_multidict(
    expected: dict[str, str], body: str, matches: bool
) -> None:
    matcher = RequestMatcher("/", data_form=expected)
    request = form_request(body)
    assert matcher.match(request) is matches
    assert (matcher.difference(request) == []) is matches


def test_data_form_reads_multipart_fields_and_ignores_files() -> None:
    builder = EnvironBuilder(
        method="POST",
        data={"name": "Ada", "upload": (io.BytesIO(b"x"), "a.txt")},
    )
    request = Request(builder.get_environ())
    assert request.mimetype == "multipart/form-data"
    assert RequestMatcher("/", data_form={"name": "Ada"}).match(request)


def test_data_form_a_body_that_is_not_a_form_has_no_fields() -> None:
    request = form_request("name=Ada", content_type="text/plain")
    matcher = RequestMatcher("/", data_form={"name": "Ada"})
    assert not matcher.match(request)
    [mismatch] = matcher.difference(request)
    assert mismatch.field == "data_form"
    assert "Content-Type 'text/plain' is not" in mismatch.actual
    assert RequestMatcher("/", data_form={}).match(request)  # as upstream: no fields


def test_data_form_difference_reads_as_text_and_compares_as_upstreams_tuple() -> None:
    request = form_request("name=Ada&extra=1")
    expected = {"name": "Ada"}
    matcher = RequestMatcher("/", data_form=expected)
    [mismatch] = matcher.difference(request)
    assert str(mismatch) == (
        "data_form: expected {'name': 'Ada'}, got {'name': 'Ada', 'extra': '1'}"
        " (extra field 'extra' = '1')"
    )
    # pytest-httpserver 1.2.1's difference(): (field, the request's form, the expectation).
    assert matcher.difference(request) == [("data_form", request.form, expected)]
    field, actual, given = mismatch
    assert (field, actual, given) == ("data_form", request.form, expected)
    assert given is expected
    assert mismatch == Mismatch("data_form", mismatch.expected, mismatch.actual)


def test_data_form_names_the_fields_whose_values_differ() -> None:
    matcher = RequestMatcher("/", data_form=MultiDict([("tag", "a"), ("tag", "b")]))
    [mismatch] = matcher.difference(form_request("tag=a"))
    assert "tag" in mismatch.actual
    assert "instead of" in mismatch.actual


def test_data_form_shows_in_repr_and_describe_as_upstream_writes_it() -> None:
    matcher = RequestMatcher("/f", method="POST", data_form={"name": "Ada"})
    assert repr(matcher).endswith("json=<UNDEFINED> data_form={'name': 'Ada'}>")
    assert "data_form={'name': 'Ada'}" in matcher.describe()
    assert matcher.data_form == {"name": "Ada"}


@pytest.mark.parametrize(("other", "value"), [("data", "name=Ada"), ("json", {"name": "Ada"})])
def test_data_form_with_data_or_json_is_refused_naming_both(other: str, value: object) -> None:
    with pytest.raises(HTTPDoubleUsageError, match="mutually exclusive") as raised:
        RequestMatcher("/", data_form={"name": "Ada"}, **{other: value})  # type: ignore[arg-type]
    text = str(raised.value)
    assert f"invalid data_form/{other}" in text
    assert "data_form= alone" in text
    assert isinstance(raised.value, ValueError)  # what pytest-httpserver raises


@pytest.mark.parametrize("bad", [{"tag": ["a", "b"]}, {"n": 1}, "name=Ada", {1: "a"}])
def test_data_form_of_the_wrong_type_is_refused_with_the_remedy(bad: object) -> None:
    with pytest.raises(HTTPDoubleUsageError, match="invalid data_form") as raised:
        RequestMatcher("/", data_form=bad)  # type: ignore[arg-type]
    assert "MultiDict([('tag', 'a'), ('tag', 'b')])" in str(raised.value)


def test_data_form_and_form_combine() -> None:
    request = form_request("name=Ada&tag=a&tag=b")
    both = RequestMatcher("/", data_form={"name": "Ada", "tag": "a"}, form={"tag": ["a", "b"]})
    assert both.match(request)
    assert not RequestMatcher("/", data_form={"name": "Ada"}, form={"tag": "a"}).match(request)


def test_data_form_leaves_the_body_and_form_for_the_handler() -> None:
    request = form_request("name=Ada")
    assert RequestMatcher("/", data_form={"name": "Ada"}).match(request)
    assert request.get_data() == b"name=Ada"
    assert request.form["name"] == "Ada"


# ------------------------------------------------------------ header comparators

Comparator = Callable[[str | None, str], bool]


def _upper(actual: str | None, expected: str) -> bool:
    return actual == expected.upper()


def test_header_value_matcher_uses_the_mapping_it_got_as_it_is() -> None:
    comparators: defaultdict[str, Comparator] = defaultdict(
        lambda: HeaderValueMatcher.default_header_value_matcher
    )
    matcher = HeaderValueMatcher(comparators)
    assert matcher("X-Custom", "value", "value")
    comparators["X-Other"] = _upper
    assert matcher("X-Other", "VALUE", "value")  # a later change is seen
    with pytest.raises(NoMethodFoundForMatchingHeaderValueError, match="X-Custom"):
        HeaderValueMatcher({"x-custom": _upper})("X-Custom", "V", "v")


def test_header_value_matcher_reads_default_matchers_when_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replaced: dict[str, Comparator] = {"X-Custom": _upper}
    monkeypatch.setattr(HeaderValueMatcher, "DEFAULT_MATCHERS", replaced)
    default = RequestMatcher("/").header_value_matcher
    assert isinstance(default, HeaderValueMatcher)
    assert default.matchers is replaced
    # The case-insensitive matcher has defaults of its own.
    assert CaseInsensitiveHeaderValueMatcher()("x-custom", "value", "value")


def test_case_insensitive_matcher_copies_lower_cased_names_the_later_one_winning() -> None:
    comparators: dict[str, Comparator] = {
        "X-Custom": HeaderValueMatcher.default_header_value_matcher,
        "x-CUSTOM": _upper,
    }
    matcher = CaseInsensitiveHeaderValueMatcher(comparators)
    comparators["X-Custom"] = HeaderValueMatcher.default_header_value_matcher
    assert matcher("x-custom", "VALUE", "value")
    assert not matcher("X-CUSTOM", "value", "value")
    assert "x-custom" in repr(matcher)


def test_case_insensitive_matcher_asks_a_defaultdicts_factory_without_storing() -> None:
    comparators: defaultdict[str, Comparator] = defaultdict(lambda: _upper)
    matcher = CaseInsensitiveHeaderValueMatcher(comparators)
    assert matcher("X-Any", "VALUE", "value")
    assert not comparators


def test_case_insensitive_matcher_without_a_comparator_names_the_header() -> None:
    matcher = CaseInsensitiveHeaderValueMatcher({"X-Known": _upper})
    with pytest.raises(NoMethodFoundForMatchingHeaderValueError) as raised:
        matcher("X-Missing", "a", "a")
    text = str(raised.value)
    assert text.startswith("No method found for matching header value: X-Missing\n")
    assert "without regard to case" in text
    assert "['x-known']" in text


def test_case_insensitive_matcher_compares_authorization_by_meaning_in_any_case() -> None:
    matcher = RequestMatcher(
        "/",
        headers={"AUTHORIZATION": 'Digest b="2", a="1"'},
        header_value_matcher=CaseInsensitiveHeaderValueMatcher(),
    )
    request = Request.from_values(headers={"Authorization": 'Digest a="1", b="2"'})
    assert matcher.match(request)
    assert not matcher.match(Request.from_values())


# ------------------------------------------------------- empty query values (1.2.0)


@pytest.mark.parametrize("query", [b"flag=&foo=123", b"flag&foo=123", b"foo=123&flag="])
def test_an_empty_query_value_must_be_expected(query: bytes) -> None:
    assert not MappingQueryMatcher({"foo": "123"}).match(query)
    assert MappingQueryMatcher({"flag": "", "foo": "123"}).match(query)


def test_empty_query_values_count_in_a_multidict_and_first_values() -> None:
    assert MappingQueryMatcher({"flag": ""}).match(b"flag=&flag=x")
    assert not MappingQueryMatcher({"flag": "x"}).match(b"flag=&flag=x")
    assert MappingQueryMatcher(MultiDict([("flag", ""), ("flag", "x")])).match(b"flag&flag=x")
    assert not MappingQueryMatcher({}).match(b"flag=")
