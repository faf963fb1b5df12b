"""The help a failure gives: the closest handler, shadowing, registration checks, replay lines."""

from __future__ import annotations

import re
import shlex
import warnings
from collections.abc import Mapping

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from httpdouble import (
    METHOD_ALL,
    URI_DEFAULT,
    HTTPDoubleFailure,
    HTTPDoubleUsageError,
    MethodTypoWarning,
    RequestDispatcher,
    RequestMatcher,
    RequestSummary,
)
from httpdouble._app.expectations import HandlerType, RequestHandler
from httpdouble._app.registration import QueryInURIWarning, likely_method_typo
from httpdouble._app.registry import Registry
from httpdouble._matching.ranking import closest, covers
from httpdouble._report.replay import curl_line, expect_request_line


def make_request(
    path: str = "/",
    method: str = "GET",
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


def closest_of(matchers: list[RequestMatcher], request: Request) -> RequestMatcher:
    best = closest(matchers, request)
    assert best is not None
    return best[0]


# --------------------------------------------------------------------- closest


def test_closest_is_the_most_similar_path_not_the_first_registered() -> None:
    users, orders, products = (
        RequestMatcher(p, method="GET") for p in ("/v1/users", "/v1/orders", "/v1/products")
    )
    assert closest_of([users, orders, products], make_request("/v1/prodcts")) is products


def test_closest_prefers_the_same_path_with_another_method_over_another_path() -> None:
    get_products = RequestMatcher("/v1/products", method="GET")
    post_orders = RequestMatcher("/v1/orders", method="POST")
    request = make_request("/v1/products", "POST")
    assert closest_of([post_orders, get_products], request) is get_products


def test_closest_ties_go_to_the_more_specific_handler() -> None:
    loose = RequestMatcher("/other")
    tight = RequestMatcher("/other", method="GET", headers={"X-K": "v"})
    request = make_request("/items", headers={"X-K": "v"})
    assert closest_of([loose, tight], request) is tight


def test_closest_weighs_query_and_body_similarity() -> None:
    page = RequestMatcher("/items", query_string={"page": "1"})
    sort = RequestMatcher("/items", query_string={"sort": "name"})
    assert closest_of([page, sort], make_request("/items", query_string="sort=nmae")) is sort
    alice = RequestMatcher("/u", json={"name": "alice", "role": "admin"})
    bob = RequestMatcher("/u", json={"name": "bob", "role": "user"})
    request = make_request("/u", "POST", data=b'{"name": "alicia", "role": "admin"}')
    assert closest_of([bob, alice], request) is alice


def test_assert_request_made_names_the_most_similar_logged_request() -> None:
    dispatcher = RequestDispatcher()
    dispatcher.expect_request(URI_DEFAULT).respond_with_data("")
    from werkzeug.test import Client

    client = Client(dispatcher)
    for path in ("/v1/users", "/v1/orders", "/v1/prodcts"):
        client.get(path)
    with pytest.raises(HTTPDoubleFailure) as info:
        dispatcher.assert_request_made(RequestMatcher("/v1/products"))
    assert "closest logged request: GET /v1/prodcts" in str(info.value).splitlines()


# ------------------------------------------------------------------- shadowing


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        (RequestMatcher(URI_DEFAULT), RequestMatcher("/a", method="POST", json={"k": 1})),
        (RequestMatcher("/a"), RequestMatcher("/a", method="GET", query_string="x=1")),
        (
            RequestMatcher("/a", method="get"),
            RequestMatcher("/a", method="GET", headers={"X": "1"}),
        ),
        (RequestMatcher(re.compile("/a/[0-9]+")), RequestMatcher("/a/12", method="GET")),
        (RequestMatcher(re.compile("/a")), RequestMatcher(re.compile("/a"), method="PUT")),
        (
            RequestMatcher("/a", headers={"x-k": "v"}),
            RequestMatcher("/a", headers={"X-K": "v", "X-L": "w"}),
        ),
        (
            RequestMatcher("/a", query_string={"p": "1"}),
            RequestMatcher("/a", query_string={"p": "1"}),
        ),
    ],
)
def test_an_earlier_matcher_with_fewer_constraints_covers_a_later_one(
    earlier: RequestMatcher, later: RequestMatcher
) -> None:
    assert covers(earlier, later)


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        (RequestMatcher("/a", method="GET"), RequestMatcher("/a")),
        (RequestMatcher("/a"), RequestMatcher("/b")),
        (RequestMatcher("/a"), RequestMatcher(URI_DEFAULT)),
        (RequestMatcher(re.compile("/a/[0-9]+")), RequestMatcher(re.compile("/a/1"))),
        (RequestMatcher("/a", query_string="x=1"), RequestMatcher("/a", query_string={"x": "1"})),
        (RequestMatcher("/a", headers={"X": "1"}), RequestMatcher("/a")),
        (RequestMatcher("/a", data="x"), RequestMatcher("/a", json="x")),
        (RequestMatcher("/a", json={"k": 1}), RequestMatcher("/a", json={"k": 2})),
        (
            RequestMatcher(URI_DEFAULT, method=METHOD_ALL, query_string={"p": "1"}),
            RequestMatcher("/a"),
        ),
    ],
)
def test_a_matcher_that_lets_some_request_through_does_not_cover(
    earlier: RequestMatcher, later: RequestMatcher
) -> None:
    assert not covers(earlier, later)


def _registry(*handlers: RequestHandler) -> Registry:
    registry = Registry()
    for handler in handlers:
        registry.add(handler)
    return registry


def test_only_an_earlier_permanent_handler_shadows_a_later_permanent_one() -> None:
    catch_all = RequestHandler(RequestMatcher(URI_DEFAULT))
    items = RequestHandler(RequestMatcher("/items", method="GET"))
    oneshot = RequestHandler(RequestMatcher("/items"), HandlerType.ONESHOT)
    registry = _registry(catch_all, items, oneshot)
    assert registry.shadowed_by(items) is catch_all
    assert registry.shadowed_by(catch_all) is None
    # Oneshot handlers are looked up before any permanent one.
    assert registry.shadowed_by(oneshot) is None


# --------------------------------------------------------- registration checks


@pytest.mark.parametrize(
    ("uri", "remedy"),
    [
        ("users/1", "pass '/users/1'"),
        ("//users", "pass '/users'"),
    ],
)
def test_a_path_no_request_can_have_is_refused_with_what_to_write(uri: str, remedy: str) -> None:
    dispatcher = RequestDispatcher()
    with pytest.raises(HTTPDoubleUsageError, match="invalid uri") as info:
        dispatcher.expect_request(uri)
    assert remedy in str(info.value)
    assert not dispatcher.handlers


def test_a_query_string_in_the_path_warns_with_the_query_string_argument() -> None:
    dispatcher = RequestDispatcher()
    with pytest.warns(QueryInURIWarning) as record:
        dispatcher.expect_oneshot_request("/x?a=1&b=2")
    assert (
        "expect_request('/x', query_string='a=1&b=2') or query_string={'a': '1', 'b': '2'}"
        in str(record[0].message)
    )
    assert record[0].filename == __file__


@pytest.mark.parametrize(
    ("method", "standard"),
    [
        ("GTE", "GET"),
        ("POTS", "POST"),
        ("DELTE", "DELETE"),
        ("optins", "OPTIONS"),
        ("PTACH", "PATCH"),
    ],
)
def test_a_misspelt_standard_method_warns(method: str, standard: str) -> None:
    dispatcher = RequestDispatcher()
    with pytest.warns(MethodTypoWarning, match=f"misspelling of '{standard}'") as record:
        dispatcher.bake(method=method).expect_ordered_request("/x")
    assert record[0].filename == __file__
    assert len(dispatcher.ordered_handlers) == 1


@pytest.mark.parametrize(
    "method", ["PURGE", "PROPFIND", "get", "MKCOL", "PRI", "TRACK", "FETCH", METHOD_ALL]
)
def test_custom_and_lower_case_methods_register_without_a_warning(method: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RequestDispatcher().expect_request("/x", method=method)
    assert likely_method_typo(method) is None


def test_uri_default_and_patterns_are_not_checked_as_paths() -> None:
    dispatcher = RequestDispatcher()
    dispatcher.expect_request(URI_DEFAULT)
    dispatcher.expect_request(re.compile("users?x"))
    assert len(dispatcher.handlers) == 2


# ---------------------------------------------------------------- replay lines


def summary(
    path: str = "/",
    method: str = "GET",
    *,
    query: str = "",
    headers: tuple[tuple[str, str], ...] = (),
    body: str = "",
) -> RequestSummary:
    return RequestSummary(method=method, path=path, query=query, headers=headers, body=body)


def test_expect_line_uses_a_dict_query_json_and_only_headers_that_matter() -> None:
    line = expect_request_line(
        summary(
            "/v1/orders",
            "POST",
            query="page=2&tag=a&tag=b",
            headers=(("Content-Type", "application/json"), ("X-Tenant", "t1")),
            body='{"qty": 9, "ok": true, "note": null}',
        )
    )
    assert line == (
        "httpserver.expect_request('/v1/orders', method='POST',"
        " query_string={'page': '2', 'tag': ['a', 'b']}, headers={'X-Tenant': 't1'},"
        " json={'qty': 9, 'ok': True, 'note': None})"
    )
    compile(line, "<line>", "eval")


def test_expect_line_keeps_a_query_that_does_not_round_trip_raw_and_short_bodies_as_data() -> None:
    line = expect_request_line(summary("/f", "PUT", query="a=%7e&flag", body="name=ada"))
    assert (
        line == "httpserver.expect_request('/f', method='PUT', query_string='a=%7e&flag',"
        " data='name=ada')"
    )


def test_curl_line_replays_method_url_headers_and_body_shell_quoted() -> None:
    line = curl_line(
        summary(
            "/it's",
            "POST",
            query="q=a b",
            headers=(("Content-Type", "application/json"),),
            body='{"a": "it\'s"}',
        ),
        "http://127.0.0.1:8000",
    )
    assert shlex.split(line) == [
        "curl",
        "-X",
        "POST",
        "http://127.0.0.1:8000/it's?q=a b",
        "-H",
        "Content-Type: application/json",
        "--data-raw",
        '{"a": "it\'s"}',
    ]


def test_curl_line_without_a_base_url_uses_the_placeholder() -> None:
    assert curl_line(summary("/x")) == "curl -X GET $HTTPSERVER/x"
