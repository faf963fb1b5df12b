"""How-to: match on something the built-in fields do not cover."""

from __future__ import annotations

from typing import Any

import requests
from werkzeug.wrappers import Request

from httpdouble import (
    HandlerType,
    HeaderValueMatcher,
    Mismatch,
    QueryMatcher,
    RequestMatcher,
)


class FormMatcher(RequestMatcher):
    """Also requires form fields (``application/x-www-form-urlencoded``) to have given values."""

    def __init__(self, uri: str, form: dict[str, str], **kwargs: Any) -> None:
        super().__init__(uri, **kwargs)
        self.form = form

    def match(self, request: Request) -> bool:
        return super().match(request) and request.form.to_dict() == self.form

    def difference(self, request: Request) -> list[Mismatch]:
        found = super().difference(request)
        if request.form.to_dict() != self.form:
            found.append(Mismatch("form", repr(self.form), repr(request.form.to_dict())))
        return found


def test_a_request_matcher_subclass_adds_a_condition(httpserver):
    httpserver.expect(
        FormMatcher("/login", {"user": "ada", "password": "pw"}, method="POST"),
        HandlerType.ONESHOT,
    ).respond_with_data("logged in")

    response = requests.post(
        httpserver.url_for("/login"), data={"user": "ada", "password": "pw"}, timeout=5
    )
    assert response.text == "logged in"


def test_a_header_comparator_replaces_string_equality_for_one_header(httpserver):
    def accepts_json(actual: str | None, expected: str) -> bool:
        # "application/json; charset=utf-8" and "application/json" both count.
        return actual is not None and actual.split(";")[0].strip() == expected

    matcher = HeaderValueMatcher({"Content-Type": accepts_json})
    httpserver.expect_request(
        "/upload",
        headers={"Content-Type": "application/json"},
        header_value_matcher=matcher,
    ).respond_with_data("stored")

    response = requests.post(
        httpserver.url_for("/upload"),
        data=b"{}",
        headers={"Content-Type": "application/json; charset=utf-8"},
        timeout=5,
    )
    assert response.text == "stored"


class HasKeys(QueryMatcher):
    """Matches when the query string has at least these argument names."""

    def __init__(self, *names: str) -> None:
        self.names = set(names)

    def get_comparing_values(self, request_query_string: bytes) -> tuple[Any, Any]:
        present = {pair.split(b"=")[0].decode() for pair in request_query_string.split(b"&")}
        return self.names, self.names & present

    def __repr__(self) -> str:
        return f"has {sorted(self.names)}"


def test_a_query_matcher_subclass_decides_on_the_raw_query_string(httpserver):
    httpserver.expect_request("/page", query_string=HasKeys("token")).respond_with_data("ok")

    assert requests.get(httpserver.url_for("/page?lang=en&token=x"), timeout=5).text == "ok"
