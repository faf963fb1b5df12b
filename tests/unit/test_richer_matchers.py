"""The richer matchers without sockets: what matches, each difference line, misuse."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from httpdouble import (
    AllOf,
    AnyOf,
    HTTPDoubleUsageError,
    Not,
    Part,
    RequestMatcher,
    URITemplate,
)
from httpdouble._matching.ranking import closest, covers, specificity


def _request(path: str = "/", method: str = "POST", **kwargs: Any) -> Request:
    return Request(EnvironBuilder(path=path, method=method, **kwargs).get_environ())


def _lines(matcher: RequestMatcher, request: Request) -> list[str]:
    return [str(m) for m in matcher.difference(request)]


# ------------------------------------------------------------------ json_contains


def test_json_contains_lets_objects_have_more_keys_at_every_depth() -> None:
    matcher = RequestMatcher("/", json_contains={"user": {"id": 1}, "ok": True})
    assert matcher.match(_request(json={"user": {"id": 1, "n": "a"}, "ok": True, "x": 0}))
    assert matcher.match(_request(json={"user": {"id": 1.0}, "ok": True}))
    assert not matcher.match(_request(json={"user": {"id": 1}, "ok": 1}))
    assert _lines(matcher, _request(json={"user": {"id": "1"}, "ok": True})) == [
        "json_contains user.id: expected 1 (int), got '1' (str)"
    ]


def test_json_contains_lists_compare_by_position_and_length() -> None:
    matcher = RequestMatcher("/", json_contains={"items": [{"sku": "a"}, {"sku": "b"}]})
    assert matcher.match(_request(json={"items": [{"sku": "a", "q": 1}, {"sku": "b"}]}))
    assert not matcher.match(_request(json={"items": [{"sku": "b"}, {"sku": "a"}]}))
    assert _lines(matcher, _request(json={"items": [{"sku": "a"}]})) == [
        "json_contains items[1]: expected {'sku': 'b'} (dict), got missing item (the list has 1)"
    ]


def test_json_contains_says_when_the_body_is_not_json() -> None:
    [line] = _lines(RequestMatcher("/", json_contains={"a": 1}), _request(data=b"a=1"))
    assert line.startswith("json_contains: expected {'a': 1}, got a body that is not valid JSON")


def test_json_contains_and_json_can_be_given_together() -> None:
    matcher = RequestMatcher("/", json={"a": 1}, json_contains={"a": 1})
    assert matcher.match(_request(json={"a": 1}))


# ------------------------------------------------------------- body_contains/regex


def test_body_contains_takes_str_or_bytes() -> None:
    assert RequestMatcher("/", body_contains="é").match(_request(data="café".encode()))
    assert RequestMatcher("/", body_contains=b"\xff").match(_request(data=b"a\xffb"))
    assert _lines(RequestMatcher("/", body_contains="x"), _request(data=b"")) == [
        "body_contains: expected a body containing b'x', got an empty body"
    ]


def test_body_regex_searches_text_with_its_charset_or_raw_bytes() -> None:
    latin = _request(data="prix: 5€".encode("cp1252"), content_type="text/plain; charset=cp1252")
    assert RequestMatcher("/", body_regex="5€").match(latin)
    assert RequestMatcher("/", body_regex=re.compile(r"^prix", re.M)).match(latin)
    assert RequestMatcher("/", body_regex=rb"5\x80$").match(latin)
    assert not RequestMatcher("/", body_regex="^5").match(latin)  # search, not fullmatch
    assert _lines(RequestMatcher("/", body_regex="[0-9]{3}"), latin) == [
        "body_regex: expected a body matching regex '[0-9]{3}', got b'prix: 5\\x80' (8 bytes)"
    ]


# --------------------------------------------------------------------------- form


def test_form_compares_named_fields_and_leaves_others_free() -> None:
    matcher = RequestMatcher("/", form={"a": "1", "tag": ["x", "y"]})
    assert matcher.match(_request(data={"a": "1", "tag": ["x", "y"], "b": "2"}))
    assert not matcher.match(_request(data={"a": "1", "tag": ["y", "x"]}))
    assert _lines(matcher, _request(data={"tag": "x"})) == [
        "form a: expected '1', got missing field 'a'",
        "form tag: expected ['x', 'y'], got 'x'",
    ]


def test_form_reads_the_fields_of_a_multipart_body() -> None:
    request = _request(data={"a": "1", "f": (io.BytesIO(b"bytes"), "f.txt")})
    assert request.mimetype == "multipart/form-data"
    assert RequestMatcher("/", form={"a": "1"}).match(request)
    assert request.get_data()  # still readable for the handler


# ------------------------------------------------------------------------ cookies


def test_cookies_compare_each_named_cookie_and_mask_their_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HTTPDOUBLE_SHOW_SECRETS", raising=False)
    matcher = RequestMatcher("/", cookies={"s": "abcdefgh", "t": "1"})
    assert matcher.match(_request(headers={"Cookie": "t=1; s=abcdefgh; u=2"}))
    assert _lines(matcher, _request(headers={"Cookie": "s=abcdefgX"})) == [
        "cookie s: expected 'ab…(len 8)', got 'ab…(len 8)' (differ at char 8)",
        "cookie t: expected '…(len 1)', got no cookie 't' (cookies sent: ['s'])",
    ]
    assert "abcdefgh" not in matcher.describe()
    monkeypatch.setenv("HTTPDOUBLE_SHOW_SECRETS", "1")
    assert _lines(matcher, _request(headers={"Cookie": "s=abd; t=1"})) == [
        "cookie s: expected 'abcdefgh', got 'abd'"
    ]


# ---------------------------------------------------------------------- multipart


def test_multipart_compares_content_filename_and_content_type() -> None:
    matcher = RequestMatcher(
        "/", multipart={"f": Part("hello", filename="a.txt", content_type="text/plain")}
    )
    sent = {"f": (io.BytesIO(b"hello"), "a.txt", "text/plain")}
    assert matcher.match(_request(data=sent))
    other = {"f": (io.BytesIO(b"hello"), "a.txt", "text/csv")}
    assert _lines(matcher, _request(data=other)) == [
        "multipart f content_type: expected 'text/plain', got 'text/csv'"
    ]
    assert _lines(matcher, _request(data={"f": "hello"}, content_type="multipart/form-data")) == [
        "multipart f filename: expected 'a.txt', got None",
        "multipart f content_type: expected 'text/plain', got None",
    ]
    assert _lines(matcher, _request(json={})) == [
        "multipart: expected a multipart/form-data body, got Content-Type 'application/json'"
    ]


# ------------------------------------------------------------------ URITemplate


def test_uri_template_segments_ints_paths_and_literal_braces() -> None:
    template = URITemplate("/u/{id:int}/{{raw}}/{rest:path}")
    assert template.match("/u/12/{raw}/a/b")
    assert template.params("/u/12/{raw}/a/b") == {"id": 12, "rest": "a/b"}
    assert not template.match("/u/x/{raw}/a")
    assert not URITemplate("/u/{id}").match("/u/1/2")
    with pytest.raises(ValueError, match="does not fit"):
        template.params("/v")


def test_a_template_matcher_is_scanned_not_indexed_by_path() -> None:
    assert RequestMatcher(URITemplate("/u/{id}")).exact_path is None
    assert RequestMatcher("/u/{id}").exact_path == "/u/{id}"


@pytest.mark.parametrize(
    "template", ["u/{id}", "/u/{id}/{id}", "/u/{1x}", "/u/{id:float}", "/u/{id", "/u/{}"]
)
def test_a_bad_template_is_refused_at_construction(template: str) -> None:
    with pytest.raises(HTTPDoubleUsageError, match="template"):
        URITemplate(template)


# -------------------------------------------------------------------- composition


def test_operators_build_flat_composites() -> None:
    a, b, c = RequestMatcher("/a"), RequestMatcher("/b"), RequestMatcher("/c")
    both = a & b & c
    assert isinstance(both, AllOf)
    assert both.parts == (a, b, c)
    either = a | b
    assert isinstance(either, AnyOf)
    assert isinstance(~a, Not)
    assert ~~a is a
    assert both.exact_path is None
    assert either.exact_method is None
    assert either.describe() == "(any method '/a') | (any method '/b')"


def test_composite_differences_name_each_part() -> None:
    matcher = RequestMatcher("/a", method="POST") & RequestMatcher("/a", json_contains={"k": 1})
    assert _lines(matcher, _request("/a", method="PUT", json={"k": 2})) == [
        "method: expected 'POST', got 'PUT'",
        "json_contains k: expected 1 (int), got 2 (int)",
    ]
    either = RequestMatcher("/a", method="GET") | RequestMatcher("/zz", method="POST")
    assert _lines(either, _request("/a", method="POST")) == [
        "method (alternative 1 of 2): expected 'GET', got 'POST'"
    ]
    negated = ~RequestMatcher("/a")
    assert _lines(negated, _request("/a")) == [
        "not: expected not to match any method '/a', got a request that matches"
    ]
    assert _lines(negated, _request("/b")) == []


def test_composing_with_something_else_is_refused() -> None:
    with pytest.raises(HTTPDoubleUsageError, match="matcher"):
        AllOf(RequestMatcher("/a"), "/b")  # type: ignore[arg-type]


# ------------------------------------------------------- ranking, shadowing, misuse


def test_closest_counts_a_missed_richer_check() -> None:
    request = _request("/a", json={"k": 2}, headers={"Cookie": "s=1"})
    wrong_json = RequestMatcher("/a", json_contains={"k": 1})
    right = RequestMatcher("/a", cookies={"s": "2"}, json_contains={"k": 2})
    found = closest([wrong_json, right], request)
    assert found is not None
    assert found[0] is right
    assert specificity(right) == specificity(RequestMatcher("/a")) + 2


def test_a_richer_check_is_shadowed_only_by_the_same_check() -> None:
    plain, cookie = RequestMatcher("/a"), RequestMatcher("/a", cookies={"s": "1"})
    assert covers(plain, cookie)
    assert not covers(cookie, plain)
    assert covers(cookie, RequestMatcher("/a", cookies={"s": "1"}, body_contains="x"))


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("json_contains", "text"),
        ("json_contains", {"a": object()}),
        ("body_contains", 3),
        ("body_contains", ""),
        ("body_regex", "("),
        ("body_regex", 3),
        ("form", {"a": 1}),
        ("form", ["a"]),
        ("cookies", {"a": 1}),
        ("multipart", {"a": 1}),
    ],
)
def test_a_richer_argument_of_the_wrong_type_is_named(argument: str, value: object) -> None:
    with pytest.raises(HTTPDoubleUsageError, match=argument):
        RequestMatcher("/", **{argument: value})


def test_unset_richer_arguments_keep_the_upstream_repr() -> None:
    assert repr(RequestMatcher("/a")) == (
        "<RequestMatcher uri='/a' method='__ALL' query_string=None headers={} data=None"
        " json=<UNDEFINED>>"
    )
    assert repr(RequestMatcher("/a", body_contains="x")).endswith(" body_contains b'x'>")
