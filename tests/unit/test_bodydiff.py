"""Differences inside a field: where JSON, bytes, forms and query arguments differ."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from httpdouble import Mismatch, RequestMatcher
from httpdouble._matching.bodydiff import elide_pair


def make_request(
    path: str = "/",
    method: str = "POST",
    *,
    query_string: str | None = None,
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


def diff_lines(matcher: RequestMatcher, request: Request) -> list[str]:
    return [str(m) for m in matcher.difference(request)]


# ------------------------------------------------------------------------ JSON


def test_json_difference_names_the_path_and_both_values_with_types() -> None:
    items = [{"sku": f"s{i}", "qty": str(i)} for i in range(10)]
    sent = [{"sku": f"s{i}", "qty": str(i)} for i in range(9)] + [{"sku": "s9", "qty": 9}]
    request = make_request(data=f'{{"items": {_dumps(sent)}}}'.encode())
    assert diff_lines(RequestMatcher("/", json={"items": items}), request) == [
        "json items[9].qty: expected '9' (str), got 9 (int)"
    ]


def _dumps(value: object) -> str:
    import json

    return json.dumps(value)


def test_json_difference_lists_missing_and_extra_keys() -> None:
    request = make_request(data=b'{"a": 1, "c": {"d": null}}')
    assert diff_lines(RequestMatcher("/", json={"a": 1, "b": [1]}), request) == [
        "json b: expected [1] (list), got missing key 'b'",
        "json c: expected no key 'c', got extra key 'c': {'d': None} (dict)",
    ]


def test_json_difference_names_missing_and_extra_list_items() -> None:
    short = make_request(data=b"[1]")
    assert diff_lines(RequestMatcher("/", json=[1, 2]), short) == [
        "json [1]: expected 2 (int), got missing item (the list has 1)"
    ]
    long = make_request(data=b"[1, 2, true]")
    assert diff_lines(RequestMatcher("/", json=[1, 2]), long) == [
        "json [2]: expected no item (the list has 2), got extra item True (bool)"
    ]


def test_json_difference_keeps_bool_and_numbers_apart_but_not_int_and_float() -> None:
    request = make_request(data=b'{"on": 1, "n": 2.0, "keys": {"a b": "x"}}')
    assert diff_lines(
        RequestMatcher("/", json={"on": True, "n": 2, "keys": {"a b": "y"}}), request
    ) == [
        "json on: expected True (bool), got 1 (int)",
        "json keys['a b']: expected 'y' (str), got 'x' (str)",
    ]


def test_many_json_differences_are_cut_after_ten_with_a_count() -> None:
    request = make_request(data=_dumps({f"k{i}": i + 1 for i in range(14)}).encode())
    lines = diff_lines(RequestMatcher("/", json={f"k{i}": i for i in range(14)}), request)
    assert lines[0] == "json k0: expected 0 (int), got 1 (int)"
    assert len(lines) == 11
    assert lines[-1] == "json ... and 4 more differences"


def test_long_json_strings_are_cut_around_the_difference_not_before_it() -> None:
    expected = "a" * 500 + "X" + "b" * 500
    sent = "a" * 500 + "Y" + "b" * 500
    request = make_request(data=_dumps({"text": sent}).encode())
    [mismatch] = RequestMatcher("/", json={"text": expected}).difference(request)
    assert "X" in mismatch.expected
    assert "Y" in mismatch.actual
    assert mismatch.expected.startswith("...a")
    assert mismatch.expected.endswith("... (str, 1003 chars)")
    assert len(mismatch.expected) < 120


# ----------------------------------------------------------------------- bytes


def test_data_difference_gives_the_offset_and_context_around_it() -> None:
    expected = b"0123456789" * 10 + b"EXPECTED" + b"-" * 100
    sent = b"0123456789" * 10 + b"RECEIVED" + b"-" * 100
    [mismatch] = RequestMatcher("/", data=expected).difference(make_request(data=sent))
    assert mismatch.field == "data at byte 100"
    assert (
        mismatch.expected
        == "...b'678901234567890123456789EXPECTED----------------'... (208 bytes)"
    )
    assert (
        mismatch.actual == "...b'678901234567890123456789RECEIVED----------------'... (208 bytes)"
    )


def test_data_difference_of_a_shorter_body_points_at_its_end() -> None:
    [mismatch] = RequestMatcher("/", data=b"abcdef").difference(make_request(data=b"abc"))
    assert mismatch == Mismatch("data at byte 3", "b'abcdef' (6 bytes)", "b'abc' (3 bytes)")


# ------------------------------------------------------------ forms and queries


def test_form_bodies_are_compared_field_by_field() -> None:
    request = make_request(
        data=b"name=ada&role=admin&debug=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert diff_lines(RequestMatcher("/", data="name=ada&role=user&team=x"), request) == [
        "form role: expected 'user', got 'admin'",
        "form team: expected 'x', got missing field 'team'",
        "form debug: expected no field 'debug', got extra field 'debug' = '1'",
    ]


def test_form_bodies_that_differ_only_in_order_are_shown_as_bytes() -> None:
    request = make_request(
        data=b"b=2&a=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    [mismatch] = RequestMatcher("/", data="a=1&b=2").difference(request)
    assert mismatch.field == "data at byte 0"


def test_mapping_query_strings_are_compared_field_by_field() -> None:
    request = make_request("/", "GET", query_string="page=2&sort=name&sort=id")
    matcher = RequestMatcher("/", query_string={"page": "3", "size": "10", "sort": ["name"]})
    assert diff_lines(matcher, request) == [
        "query_string page: expected '3', got '2'",
        "query_string size: expected '10', got missing field 'size'",
        "query_string sort: expected 'name', got ['name', 'id']",
    ]


def test_raw_query_strings_are_cut_around_the_difference() -> None:
    raw = "&".join(f"k{i}=v" for i in range(40))
    request = make_request("/", "GET", query_string=raw.replace("k30=v", "k30=w"))
    [mismatch] = RequestMatcher("/", query_string=raw).difference(request)
    assert "k30=v" in mismatch.expected
    assert "k30=w" in mismatch.actual


# --------------------------------------------------------------------- eliding


@pytest.mark.parametrize("limit", [10, 30, 80])
def test_elided_texts_always_show_the_first_difference(limit: int) -> None:
    expected, actual = elide_pair("x" * 300 + "A" + "y" * 300, "x" * 300 + "B", limit)
    assert "A" in expected
    assert "B" in actual
    assert len(expected) <= limit + 6


def test_short_texts_are_not_elided() -> None:
    assert elide_pair("'a'", "'b'") == ("'a'", "'b'")
