"""Property tests: matchers on query strings, headers and JSON; findings across processes."""

from __future__ import annotations

import json
import unicodedata
import urllib.parse
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from httpdouble import Finding, Kind, Mismatch, RequestMatcher, RequestSummary, Stamp

# Hypothesis imports mypy_extensions to report a failure; its DeprecationWarning must not
# hide the failure behind an INTERNALERROR under -W error.
pytestmark = pytest.mark.filterwarnings(
    "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
)

EXAMPLES = settings(max_examples=60, deadline=None)

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
query_mapping = st.dictionaries(text, st.lists(text, min_size=1, max_size=3), max_size=5)


def _request(
    query: str = "", headers: list[tuple[str, str]] | None = None, body: bytes = b""
) -> Request:
    builder = EnvironBuilder(path="/p", query_string=query, headers=headers, data=body)
    try:
        return Request(builder.get_environ())
    finally:
        builder.close()


@EXAMPLES
@given(mapping=query_mapping, data=st.data())
def test_mapping_query_matches_its_urlencoded_form_in_any_order(
    mapping: dict[str, list[str]], data: st.DataObject
) -> None:
    # Interleave the keys at random; the values of one key keep their list order.
    remaining = {key: list(values) for key, values in mapping.items()}
    pairs: list[tuple[str, str]] = []
    while remaining:
        key = data.draw(st.sampled_from(sorted(remaining)))
        pairs.append((key, remaining[key].pop(0)))
        if not remaining[key]:
            del remaining[key]
    query = urllib.parse.urlencode(pairs)
    matcher = RequestMatcher("/p", query_string=mapping)

    assert matcher.match(_request(query))
    assert matcher.difference(_request(query)) == []


@EXAMPLES
@given(mapping=query_mapping, extra=text, value=text)
def test_mapping_query_does_not_match_with_an_extra_key(
    mapping: dict[str, list[str]], extra: str, value: str
) -> None:
    pairs = [(key, v) for key, values in mapping.items() for v in values]
    if extra in mapping:
        return
    query = urllib.parse.urlencode([*pairs, (extra, value)])
    matcher = RequestMatcher("/p", query_string=mapping)

    assert not matcher.match(_request(query))
    [mismatch] = matcher.difference(_request(query))
    assert mismatch.field.startswith("query_string ")
    assert mismatch.actual.startswith(f"extra field {extra!r}")


header_name = st.from_regex(r"X-[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True)
header_value = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20
)


@EXAMPLES
@given(name=header_name, value=header_value, data=st.data())
def test_header_names_match_whatever_their_case(
    name: str, value: str, data: st.DataObject
) -> None:
    spelled = "".join(c.upper() if data.draw(st.booleans()) else c.lower() for c in name)
    matcher = RequestMatcher("/p", headers={name: value})

    assert matcher.match(_request(headers=[(spelled, value)]))
    assert not matcher.match(_request(headers=[(spelled, value + "!")]))


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=15,
)


@EXAMPLES
@given(value=json_values)
def test_json_matcher_matches_the_encoded_value_whatever_the_key_order(value: Any) -> None:
    matcher = RequestMatcher("/p", json=value)
    for body in (json.dumps(value), json.dumps(value, sort_keys=True, indent=1)):
        assert matcher.match(_request(body=body.encode()))


@EXAMPLES
@given(flag=st.booleans(), wrap=st.sampled_from(["bare", "list", "dict"]))
def test_json_true_is_not_1_and_false_is_not_0(flag: bool, wrap: str) -> None:
    def wrapped(value: object) -> object:
        return {"bare": value, "list": [value], "dict": {"k": value}}[wrap]

    matcher = RequestMatcher("/p", json=wrapped(flag))
    number_body = json.dumps(wrapped(int(flag))).encode()

    assert not matcher.match(_request(body=number_body))
    path = {"bare": "json", "list": "json [0]", "dict": "json k"}[wrap]
    assert [m.field for m in matcher.difference(_request(body=number_body))] == [path]
    assert not RequestMatcher("/p", json=wrapped(int(flag))).match(
        _request(body=json.dumps(wrapped(flag)).encode())
    )


optional_text = st.none() | text
summaries = st.builds(
    RequestSummary,
    method=st.sampled_from(["GET", "POST", "BREW"]),
    path=text,
    query=text,
    headers=st.lists(st.tuples(text, text), max_size=3).map(tuple),
    body=text,
)
findings = st.builds(
    Finding,
    kind=st.sampled_from(Kind),
    stamp=st.builds(
        Stamp,
        test=optional_text,
        after_test=optional_text,
        worker=text,
        time=st.floats(allow_nan=False, allow_infinity=False),
    ),
    request=st.none() | summaries,
    expected=text,
    closest=text,
    differences=st.lists(st.builds(Mismatch, text, text, text), max_size=3).map(tuple),
    detail=text,
)

BUILTINS = (dict, list, str, int, float, bool, type(None))


def _only_builtins(value: object) -> bool:
    if type(value) not in BUILTINS:
        return False
    if isinstance(value, dict):
        return all(type(k) is str and _only_builtins(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_only_builtins(v) for v in value)
    return True


@EXAMPLES
@given(finding=findings)
def test_findings_round_trip_through_plain_builtins_and_json(finding: Finding) -> None:
    data = finding.to_builtins()

    assert _only_builtins(data)
    assert Finding.from_builtins(data) == finding
    assert Finding.from_builtins(json.loads(json.dumps(data))) == finding
    assert Finding.from_builtins(data).render() == finding.render()


# Texts that often hold secret names, values and the characters masking looks at.
secretish = st.lists(
    st.sampled_from(["password", "token", "key", "'", '"', ":", " ", "=", "&", "{", "}", "[",
                     "]", ",", "a", "7", "\\", "\x1b", "\r", "\n", "name=", "…(len 3)"]),
    max_size=12,
).map("".join)  # fmt: skip


@EXAMPLES
@given(shown=secretish, content_type=st.sampled_from(["", "application/json", "text/plain"]))
def test_masking_a_text_or_a_body_twice_changes_nothing_more(
    shown: str, content_type: str
) -> None:
    from httpdouble._matching import body_masking as _body_masking
    from httpdouble._matching import masking as _masking

    once = _masking.text(shown)
    assert _masking.text(once) == once
    body = _body_masking.body_text(shown, content_type)
    assert _body_masking.body_text(body, content_type) == body


@EXAMPLES
@given(summary=summaries)
def test_paste_ready_lines_never_carry_a_raw_control_character(summary: RequestSummary) -> None:
    from httpdouble._report.replay import curl_line, expect_request_line

    for line in (curl_line(summary, "http://127.0.0.1:1"), expect_request_line(summary)):
        assert not any(unicodedata.category(char) == "Cc" for char in line), line
    rendered = Finding(Kind.NO_HANDLER, Stamp(None, None, "main", 0.0), summary).render()
    assert not any(unicodedata.category(char) == "Cc" and char not in "\n\t" for char in rendered)
