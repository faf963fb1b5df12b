"""The public API through a real socket, each behaviour with every client library."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable

import pytest
from werkzeug.wrappers import Request, Response

from httpdouble import (
    METHOD_ALL,
    URI_DEFAULT,
    BooleanQueryMatcher,
    HandlerType,
    HeaderValueMatcher,
    HTTPDoubleFailure,
    HTTPServer,
    Kind,
    MappingQueryMatcher,
    Outcome,
    RequestMatcher,
    StringQueryMatcher,
    URIPattern,
    Waiting,
    WaitingSettings,
)

from .clients import HTTPClient


class EndsWith(URIPattern):
    def __init__(self, suffix: str) -> None:
        self.suffix = suffix

    def match(self, uri: str) -> bool:
        return uri.endswith(self.suffix)


# ------------------------------------------------------------------- matching


def test_uri_kinds_match_through_the_socket(server: HTTPServer, client: HTTPClient) -> None:
    server.expect_request("/exact").respond_with_data("exact")
    server.expect_request(re.compile(r"/users/\d+")).respond_with_data("regex")
    server.expect_request(EndsWith(".css")).respond_with_data("pattern")
    server.expect_request(URI_DEFAULT).respond_with_data("default")
    assert client.get(server.url_for("/exact")).text == "exact"
    assert client.get(server.url_for("/users/42")).text == "regex"
    assert client.get(server.url_for("/static/site.css")).text == "pattern"
    assert client.get(server.url_for("/anything/else")).text == "default"


def test_method_is_case_insensitive_and_method_all_takes_any(
    server: HTTPServer, client: HTTPClient
) -> None:
    server.expect_request("/m", method="put").respond_with_data("put")
    server.expect_request("/m", method=METHOD_ALL).respond_with_data("any")
    assert client.request("PUT", server.url_for("/m"), body=b"").text == "put"
    assert client.request("DELETE", server.url_for("/m")).text == "any"
    assert client.get(server.url_for("/m")).text == "any"


def test_data_and_data_encoding_compare_the_raw_body(
    server: HTTPServer, client: HTTPClient
) -> None:
    server.expect_request("/d", data="caf\u00e9", data_encoding="latin-1").respond_with_data("l1")
    server.expect_request("/d", data="caf\u00e9").respond_with_data("utf8")
    assert client.post(server.url_for("/d"), b"caf\xe9").text == "l1"
    assert client.post(server.url_for("/d"), "caf\u00e9".encode()).text == "utf8"
    assert client.post(server.url_for("/d"), b"cafe").status == 500


def test_headers_match_by_value_and_authorization_by_meaning(
    server: HTTPServer, client: HTTPClient
) -> None:
    server.expect_request(
        "/auth", headers={"Authorization": "Basic dXNlcjpwYXNz", "X-Tenant": "t1"}
    ).respond_with_data("welcome")
    url = server.url_for("/auth")
    ok = {"authorization": "BASIC dXNlcjpwYXNz", "x-tenant": "t1"}
    assert client.get(url, headers=ok).text == "welcome"
    assert client.get(url, headers={**ok, "x-tenant": "t2"}).status == 500
    assert client.get(url, headers={"x-tenant": "t1"}).status == 500


def test_custom_header_value_matcher_is_used(server: HTTPServer, client: HTTPClient) -> None:
    def prefix(actual: str | None, expected: str) -> bool:
        return actual is not None and actual.startswith(expected)

    server.expect_request(
        "/ua",
        headers={"X-Client": "acme/"},
        header_value_matcher=HeaderValueMatcher({"X-Client": prefix}),
    ).respond_with_data("acme")
    assert client.get(server.url_for("/ua"), headers={"X-Client": "acme/2.1"}).text == "acme"
    assert client.get(server.url_for("/ua"), headers={"X-Client": "other"}).status == 500


@pytest.mark.parametrize(
    ("query_string", "sent", "matches"),
    [
        ("a=1&b=2", "a=1&b=2", True),
        ("a=1&b=2", "b=2&a=1", False),
        (b"raw=%20", "raw=%20", True),
        ({"b": "2", "a": "x y"}, "a=x+y&b=2", True),
        ({"tag": ["1", "2"]}, "tag=1&tag=2", True),
        ({"a": "1"}, "a=2", False),
        (StringQueryMatcher("q=1"), "q=1", True),
        (MappingQueryMatcher({"q": "1"}), "q=1", True),
        (BooleanQueryMatcher(True), "whatever=1", True),
        (BooleanQueryMatcher(False), "", False),
    ],
)
def test_query_string_forms_match_through_the_socket(
    server: HTTPServer,
    client: HTTPClient,
    query_string: object,
    sent: str,
    matches: bool,
) -> None:
    server.expect_request("/q", query_string=query_string).respond_with_data("q")  # type: ignore[arg-type]
    url = server.url_for("/q" + (f"?{sent}" if sent else ""))
    assert (client.get(url).status == 200) is matches


def test_json_compares_types_strictly(server: HTTPServer, client: HTTPClient) -> None:
    server.expect_request("/j", method="POST", json={"on": True, "n": 1}).respond_with_data("ok")
    url = server.url_for("/j")
    assert client.post(url, b'{"n": 1.0, "on": true}').status == 200
    assert client.post(url, b'{"n": 1, "on": 1}').status == 500
    reply = client.post(url, b"{broken")
    assert reply.status == 500
    assert "json: expected {'on': True, 'n': 1}, got a body that is not valid JSON" in reply.text


# ----------------------------------------------------------- responses


def test_respond_with_data_json_response_and_handler(
    server: HTTPServer, client: HTTPClient
) -> None:
    server.expect_request("/data").respond_with_data(
        b"\x00bin", status=203, headers={"X-A": "1"}, content_type="application/octet-stream"
    )
    server.expect_request("/json").respond_with_json({"k": [1, None]}, status=201)
    server.expect_request("/resp").respond_with_response(
        Response("teapot", status=418, headers={"X-R": "r"})
    )

    def handler(request: Request) -> Response:
        return Response(f"{request.method} {request.args.get('v')}", status=207)

    server.expect_request("/func").respond_with_handler(handler)

    data = client.get(server.url_for("/data"))
    assert (data.status, data.body, data.headers["X-A"]) == (203, b"\x00bin", "1")
    assert data.headers["Content-Type"] == "application/octet-stream"
    js = client.get(server.url_for("/json"))
    assert (js.status, json.loads(js.body)) == (201, {"k": [1, None]})
    assert js.headers["Content-Type"] == "application/json"
    resp = client.get(server.url_for("/resp"))
    assert (resp.status, resp.text, resp.headers["X-R"]) == (418, "teapot", "r")
    func = client.get(server.url_for("/func?v=9"))
    assert (func.status, func.text) == (207, "GET 9")
    assert int(data.headers["Content-Length"]) == len(data.body)


def test_each_request_gets_a_fresh_response(server: HTTPServer, client: HTTPClient) -> None:
    server.expect_request("/same").respond_with_response(Response("same"))
    for _ in range(3):
        assert client.get(server.url_for("/same")).text == "same"
    responses = [response for _, response in server.log]
    assert len({id(response) for response in responses}) == 3


# --------------------------------------------------------- lifetimes and order


def test_lookup_order_ordered_then_oneshot_then_permanent(
    server: HTTPServer, client: HTTPClient
) -> None:
    server.expect_request("/x").respond_with_data("permanent")
    server.expect_oneshot_request("/x").respond_with_data("oneshot")
    server.expect_ordered_request("/x").respond_with_data("ordered")
    server.expect(RequestMatcher("/x"), HandlerType.ONESHOT).respond_with_data("oneshot 2")
    replies = [client.get(server.url_for("/x")).text for _ in range(5)]
    assert replies == ["ordered", "oneshot", "oneshot 2", "permanent", "permanent"]
    server.check()


def test_ordered_violation_refuses_everything_until_clear(
    server: HTTPServer, client: HTTPClient
) -> None:
    server.expect_ordered_request("/step1").respond_with_data("1")
    server.expect_ordered_request("/step2").respond_with_data("2")
    server.expect_request("/health").respond_with_data("up")
    assert client.get(server.url_for("/step2")).status == 500
    for path in ("/step1", "/health"):
        reply = client.get(server.url_for(path))
        assert reply.status == 500
        assert "refuses requests since an ordered request came out of order" in reply.text
    assert server.permanently_failed
    with pytest.raises(HTTPDoubleFailure, match="ordered request out of order: GET /step2"):
        server.check_assertions()
    server.clear()
    server.expect_request("/health").respond_with_data("up")
    assert client.get(server.url_for("/health")).text == "up"


def test_no_handler_answer_names_request_and_closest_matcher(client: HTTPClient) -> None:
    with HTTPServer(no_handler_status_code=404) as server:
        server.expect_request("/orders", method="POST").respond_with_data("created")
        reply = client.get(server.url_for("/orders?id=1"))
        assert reply.status == 404
        lines = reply.text.splitlines()
        assert lines[0] == "No handler found for this request (no handler matched)"
        assert "  request:  GET /orders?id=1" in lines
        assert "  closest:  POST '/orders'" in lines
        assert "    - method: expected 'POST', got 'GET'" in lines
        [(request, response)] = server.log
        assert (request.path, response.status_code) == ("/orders", 404)
        assert [f.kind for f in server.findings] == [Kind.NO_HANDLER]
        server.clear()


# -------------------------------------------------------------- handler errors


def test_handler_errors_become_500_and_are_raised_by_check_handler_errors(
    server: HTTPServer, client: HTTPClient
) -> None:
    def broken(request: Request) -> Response:
        raise ZeroDivisionError("handler divided by zero")

    server.expect_request("/broken").respond_with_handler(broken)
    server.expect_request("/typed").respond_with_handler(lambda request: {"not": "a response"})
    assert client.get(server.url_for("/broken")).status == 500
    assert client.get(server.url_for("/typed")).status == 500
    assert [entry.outcome for entry in server.log_entries] == [Outcome.HANDLER_ERROR] * 2
    with pytest.raises(ZeroDivisionError, match="handler divided by zero"):
        server.check()
    with pytest.raises(TypeError, match="handler function returned dict"):
        server.check_handler_errors()
    server.check()


# ---------------------------------------------------------------- verification


def test_verification_helpers_see_the_socket_traffic(
    server: HTTPServer, client: HTTPClient
) -> None:
    server.expect_request("/v").respond_with_data("v")
    client.get(server.url_for("/v?n=1"))
    client.post(server.url_for("/v?n=2"), b"body")
    client.get(server.url_for("/missing"))
    get_v = RequestMatcher("/v", method="GET")
    server.assert_request_made(get_v)
    server.assert_request_made(RequestMatcher("/v"), count=2)
    assert server.get_matching_requests_count(RequestMatcher(URI_DEFAULT)) == 3
    [(request, response)] = server.iter_matching_requests(RequestMatcher("/v", data=b"body"))
    assert (request.args["n"], response.status_code) == ("2", 200)
    with pytest.raises(AssertionError, match="expected 1 request\\(s\\) matching GET '/w'"):
        server.assert_request_made(RequestMatcher("/w", method="GET"))
    assert (
        "Permanent matchers:\n    <RequestMatcher uri='/v' method='__ALL' query_string=None"
        in (server.format_matchers())
    )
    assert len(server.log) == 3
    assert server.total_requests >= 3
    assert len(server.assertions) == 1
    server.clear_assertions()
    server.check_assertions()
    server.clear_log()
    assert server.log == []
    server.clear_all_handlers()
    assert client.get(server.url_for("/v")).status == 500
    server.clear_handler_errors()
    with pytest.raises(HTTPDoubleFailure):
        server.check_assertions()


def test_wait_wakes_when_the_last_expected_request_arrives(
    server: HTTPServer, client: HTTPClient
) -> None:
    server.expect_oneshot_request("/a").respond_with_data("a")
    server.expect_ordered_request("/b").respond_with_data("b")
    go = threading.Event()
    statuses: list[int] = []

    def send() -> None:
        go.wait(30)
        statuses.extend(client.get(server.url_for(path)).status for path in ("/b", "/a"))

    sender = threading.Thread(target=send)
    sender.start()
    try:
        with server.wait(timeout=60) as waiting:
            go.set()
    finally:
        sender.join(30)
    assert isinstance(waiting, Waiting)
    assert waiting.result is True
    assert statuses == [200, 200]


def test_wait_stops_on_an_unmatched_request(server: HTTPServer, client: HTTPClient) -> None:
    server.expect_oneshot_request("/expected").respond_with_data("")
    with server.wait(stop_on_nohandler=True, raise_assertions=False, timeout=60) as waiting:
        client.get(server.url_for("/unexpected"))
    assert waiting.result is False
    server.clear()


def test_wait_times_out_with_default_settings(make_client: Callable[[str], HTTPClient]) -> None:
    settings = WaitingSettings(raise_assertions=True, stop_on_nohandler=False, timeout=0.05)
    with HTTPServer(default_waiting_settings=settings) as server:
        server.expect_oneshot_request("/late").respond_with_data("")
        server.expect_request("/other").respond_with_data("")
        with pytest.raises(HTTPDoubleFailure, match="with handlers never used"), server.wait():
            make_client("httpx").get(server.url_for("/other"))
        server.clear()
