"""The dispatcher as a WSGI app: lookup order, lifetimes, responses, handler errors."""

from __future__ import annotations

import enum
import gc
import json
import re
import types
from typing import Any

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from httpdouble import (
    METHOD_ALL,
    URI_DEFAULT,
    HandlerType,
    Kind,
    Outcome,
    RequestDispatcher,
    RequestHandler,
    RequestMatcher,
)

# ----------------------------------------------------------------- responses


def test_respond_with_data_sends_body_status_headers_and_plain_text(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/d").respond_with_data(
        "h\u00e9llo", status=201, headers={"X-One": "1"}
    )
    response = client.get("/d")
    assert response.status_code == 201
    assert response.get_data() == "h\u00e9llo".encode()
    assert response.headers["X-One"] == "1"
    assert response.mimetype == "text/plain"


def test_respond_with_data_takes_mimetype_or_content_type(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/m").respond_with_data(b"<a/>", mimetype="application/xml")
    dispatcher.expect_request("/c").respond_with_data(b"x", content_type="image/png")
    assert client.get("/m").mimetype == "application/xml"
    assert client.get("/c").headers["Content-Type"] == "image/png"


def test_respond_with_data_accepts_headers_as_a_list_of_pairs(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/h").respond_with_data(
        "", headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    )
    assert client.get("/h").headers.getlist("Set-Cookie") == ["a=1", "b=2"]


def test_respond_with_json_encodes_the_object(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    payload = {"ok": True, "items": [1, 2.5, None, "x"]}
    dispatcher.expect_request("/j").respond_with_json(payload, status=202, headers={"X-J": "y"})
    response = client.get("/j")
    assert response.status_code == 202
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-J"] == "y"
    assert json.loads(response.get_data()) == payload


def test_respond_with_response_copies_status_headers_and_body(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    original = Response(b"gone", status=410, headers={"X-Why": "moved"}, mimetype="text/html")
    dispatcher.expect_request("/r").respond_with_response(original)
    first = client.get("/r")
    second = client.get("/r")
    for response in (first, second):
        assert response.status_code == 410
        assert response.get_data() == b"gone"
        assert response.headers["X-Why"] == "moved"
        assert response.mimetype == "text/html"
    served = [response for _, response in dispatcher.log]
    assert served[0] is not original
    assert served[1] is not original


def test_respond_with_handler_gets_the_request(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    def echo(request: Request) -> Response:
        text = f"{request.method} {request.path} {request.args['q']} {request.get_data()!r}"
        return Response(text, status=299)

    dispatcher.expect_request("/echo").respond_with_handler(echo)
    response = client.post("/echo?q=7", data=b"body")
    assert response.status_code == 299
    assert response.get_data(as_text=True) == "POST /echo 7 b'body'"


def test_every_request_gets_a_fresh_response_object(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/f").respond_with_data("same")
    dispatcher.expect_request("/g").respond_with_json([1])
    for _ in range(2):
        client.get("/f")
        client.get("/g")
    responses = [response for _, response in dispatcher.log]
    assert len({id(response) for response in responses}) == 4
    json_body = b"[\n    1\n]"  # indent=4, as pytest-httpserver writes it
    assert [r.get_data() for r in responses] == [b"same", json_body, b"same", json_body]


def test_a_handler_without_response_answers_500_and_says_so(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/nothing")
    response = client.get("/nothing")
    assert response.status_code == 500
    with pytest.raises(LookupError, match="has no response; call respond_with_data"):
        dispatcher.check_handler_errors()


def test_expect_returns_a_handler_of_the_given_type(dispatcher: RequestDispatcher) -> None:
    matcher = RequestMatcher("/x")
    handler = dispatcher.expect(matcher, HandlerType.ONESHOT)
    assert isinstance(handler, RequestHandler)
    assert handler.matcher is matcher
    assert handler.handler_type is HandlerType.ONESHOT
    assert dispatcher.expect(RequestMatcher("/y")).handler_type is HandlerType.PERMANENT
    assert dispatcher.expect_request("/z").handler_type is HandlerType.PERMANENT
    assert dispatcher.expect_oneshot_request("/z").handler_type is HandlerType.ONESHOT
    assert dispatcher.expect_ordered_request("/z").handler_type is HandlerType.ORDERED


def test_expect_request_with_handler_type_registers_that_lifetime(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/o", handler_type=HandlerType.ONESHOT).respond_with_data("once")
    assert client.get("/o").status_code == 200
    assert client.get("/o").status_code == 500


# -------------------------------------------------------------- lookup order


def test_oneshot_handler_is_removed_after_first_match(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_oneshot_request("/once").respond_with_data("first")
    assert client.get("/once").get_data() == b"first"
    assert "'/once'" not in dispatcher.format_matchers()
    assert client.get("/once").status_code == 500


def test_permanent_handler_serves_any_number_of_requests(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/p").respond_with_data("p")
    assert [client.get("/p").status_code for _ in range(5)] == [200] * 5


def test_oneshot_handlers_are_used_before_permanent_ones(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/x").respond_with_data("permanent")
    dispatcher.expect_oneshot_request("/x").respond_with_data("oneshot")
    assert [client.get("/x").get_data() for _ in range(3)] == [
        b"oneshot",
        b"permanent",
        b"permanent",
    ]


def test_head_of_ordered_list_is_used_before_oneshot_and_permanent(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/x").respond_with_data("permanent")
    dispatcher.expect_oneshot_request("/x").respond_with_data("oneshot")
    dispatcher.expect_ordered_request("/x").respond_with_data("ordered")
    assert [client.get("/x").get_data() for _ in range(3)] == [
        b"ordered",
        b"oneshot",
        b"permanent",
    ]


@pytest.mark.parametrize(
    "kind", ["expect_request", "expect_oneshot_request"], ids=["permanent", "oneshot"]
)
def test_oldest_matching_handler_wins_whatever_the_uri_kind(
    dispatcher: RequestDispatcher, client: Client, kind: str
) -> None:
    register = getattr(dispatcher, kind)
    register(re.compile("/items/.*")).respond_with_data("regex, oldest")
    register("/items/1", method="GET").respond_with_data("exact path and method")
    register("/items/1").respond_with_data("exact path")
    register(URI_DEFAULT).respond_with_data("any path")
    assert client.get("/items/1").get_data() == b"regex, oldest"


def test_exact_path_registered_first_wins_over_a_later_any_path(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/a", method="POST").respond_with_data("exact")
    dispatcher.expect_request(URI_DEFAULT, method=METHOD_ALL).respond_with_data("any")
    assert client.post("/a").get_data() == b"exact"
    assert client.get("/a").get_data() == b"any"


def test_oneshot_handlers_are_used_oldest_first(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    for number in range(3):
        dispatcher.expect_oneshot_request("/n").respond_with_data(str(number))
    assert [client.get("/n").get_data() for _ in range(3)] == [b"0", b"1", b"2"]


def test_ordered_requests_in_order_are_served(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    for name in ("a", "b", "c"):
        dispatcher.expect_ordered_request(f"/{name}").respond_with_data(name)
    assert [client.get(f"/{n}").get_data() for n in "abc"] == [b"a", b"b", b"c"]
    assert client.get("/a").status_code == 500
    assert not dispatcher.permanently_failed


def test_any_request_but_the_next_ordered_one_fails_the_order_by_default(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_ordered_request("/first").respond_with_data("first")
    dispatcher.expect_request("/health").respond_with_data("up")
    assert client.get("/health").status_code == 500
    assert dispatcher.permanently_failed
    assert client.get("/first").status_code == 500  # refused from then on, as upstream
    assert [f.kind for f in dispatcher.findings] == [Kind.OUT_OF_ORDER, Kind.REFUSED]
    dispatcher.clear()


def test_request_matching_no_ordered_handler_falls_through_when_opted_in(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.ordered_fall_through = True
    dispatcher.expect_ordered_request("/first").respond_with_data("first")
    dispatcher.expect_ordered_request("/second").respond_with_data("second")
    dispatcher.expect_request("/health").respond_with_data("up")
    assert client.get("/health").get_data() == b"up"
    assert client.get("/first").get_data() == b"first"
    assert not dispatcher.permanently_failed
    dispatcher.expect_request("/third")  # a later ordered one out of turn still fails it
    assert client.get("/third").status_code == 500
    assert not dispatcher.permanently_failed
    dispatcher.clear()
    assert client.get("/health").status_code == 500


def test_ordered_violation_refuses_every_further_request_until_clear(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_ordered_request("/1").respond_with_data("1")
    dispatcher.expect_ordered_request("/2").respond_with_data("2")
    dispatcher.expect_request("/always").respond_with_data("always")

    out_of_order = client.get("/2")
    assert out_of_order.status_code == 500
    text = out_of_order.get_data(as_text=True)
    assert "(ordered request out of order)" in text
    assert "expected: the next ordered request first: any method '/1'" in text
    assert (
        "order:    any method '/2' came before any method '/1';"
        " they were registered in the other order"
    ) in text
    assert dispatcher.permanently_failed

    for path in ("/1", "/2", "/always"):
        refused = client.get(path)
        assert refused.status_code == 500
        assert "call clear() to reset it" in refused.get_data(as_text=True)
    assert "refuses every request" in dispatcher.format_matchers()
    assert [entry.outcome for entry in dispatcher.log_entries] == [
        Outcome.OUT_OF_ORDER,
        Outcome.REFUSED,
        Outcome.REFUSED,
        Outcome.REFUSED,
    ]
    assert [f.kind for f in dispatcher.findings] == [Kind.OUT_OF_ORDER] + [Kind.REFUSED] * 3

    dispatcher.clear()
    assert not dispatcher.permanently_failed
    dispatcher.expect_request("/always").respond_with_data("back")
    assert client.get("/always").get_data() == b"back"


def test_clear_all_handlers_also_lifts_the_refusal(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_ordered_request("/1").respond_with_data("1")
    dispatcher.expect_ordered_request("/2").respond_with_data("2")
    client.get("/2")
    dispatcher.clear_all_handlers()
    dispatcher.expect_request("/1").respond_with_data("ok")
    assert client.get("/1").status_code == 200


# ------------------------------------------------------------------ no handler


def test_no_handler_answer_names_request_closest_matcher_and_differences(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/far/away", method="DELETE").respond_with_data("")
    dispatcher.expect_request("/items", method="GET", headers={"X-K": "v"}).respond_with_data("")
    response = client.post("/items?page=2", data=b"hello", headers={"X-K": "w"})
    assert response.status_code == 500
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).splitlines() == [
        "No handler found for this request (no handler matched)",
        "no handler matched: POST /items?page=2",
        "  request:  POST /items?page=2",
        "            X-K: w",
        "            body: 'hello'",
        "  expected: a request matching a registered handler",
        "  closest:  GET '/items' header X-K='v'",
        "    - method: expected 'GET', got 'POST'",
        "    - header X-K: expected 'v', got 'w'",
        "  to match it: httpserver.expect_request('/items', method='POST',"
        " query_string={'page': '2'}, headers={'X-K': 'w'}, data='hello')",
        "  to replay it: curl -X POST 'http://localhost:80/items?page=2' -H 'X-K: w'"
        " --data-raw hello",
    ]


def test_no_handler_status_code_is_configurable(client: Client) -> None:
    dispatcher = RequestDispatcher(no_handler_status_code=404)
    response = Client(dispatcher).get("/missing")
    assert response.status_code == 404
    assert "closest:  none (no handler was registered)" in response.get_data(as_text=True)


def test_unmatched_request_is_logged_and_recorded(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    client.get("/missing")
    [(request, response)] = dispatcher.log
    assert request.path == "/missing"
    assert response.status_code == 500
    [finding] = dispatcher.findings
    assert finding.kind is Kind.NO_HANDLER
    assert finding.request is not None
    assert finding.request.line() == "GET /missing"


def test_log_keeps_the_text_of_an_environ_a_handler_put_an_object_into(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    def tag(request: Request) -> Response:
        request.environ["app.session"] = object()  # not text: cannot be kept as it is
        request.environ["app.user"] = "ada"
        return Response("tagged")

    dispatcher.expect_request("/tag", method="POST").respond_with_handler(tag)
    client.post("/tag", data=b"payload", headers={"X-K": "v"})
    [(request, response)] = dispatcher.log
    assert request.get_data() == b"payload"
    assert request.headers["X-K"] == "v"
    assert request.environ["app.user"] == "ada"
    assert "app.session" not in request.environ
    assert response.get_data() == b"tagged"


# -------------------------------------------------------------- handler errors


def test_handler_exception_gives_500_and_is_kept_for_check_handler_errors(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    error = ValueError("handler blew up")

    def explode(request: Request) -> Response:
        raise error

    dispatcher.expect_request("/boom").respond_with_handler(explode)
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.get_data(as_text=True) == (
        "Internal Server Error: the handler for GET /boom raised ValueError: handler blew up\n"
    )
    [entry] = dispatcher.log_entries
    assert entry.outcome is Outcome.HANDLER_ERROR
    assert dispatcher.handler_errors == [error]
    [finding] = dispatcher.findings
    assert finding.kind is Kind.HANDLER_ERROR
    assert "handler blew up" in finding.detail
    assert "in explode" in finding.detail

    dispatcher.check_assertions()  # handler errors are not assertions
    with pytest.raises(ValueError, match="handler blew up") as excinfo:
        dispatcher.check_handler_errors()
    assert excinfo.value is error
    dispatcher.check_handler_errors()  # raised once, not again


def test_handler_returning_something_else_than_a_response_is_a_handler_error(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/wrong").respond_with_handler(lambda request: {"a": 1})
    assert client.get("/wrong").status_code == 500
    with pytest.raises(TypeError, match="handler function returned dict") as info:
        dispatcher.check_handler_errors()
    assert "expected: a werkzeug Response, a str (the body), or None" in str(info.value)


def test_handler_returning_text_or_nothing_answers_200_as_pytest_httpserver_does(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/text").respond_with_handler(lambda request: "just text")
    dispatcher.expect_request("/nothing").respond_with_handler(lambda request: None)
    text = client.get("/text")
    assert (text.status_code, text.get_data()) == (200, b"just text")
    nothing = client.get("/nothing")
    assert (nothing.status_code, nothing.get_data()) == (200, b"")
    dispatcher.check()


def test_check_handler_errors_raises_each_exception_once_in_order(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    def fail(request: Request) -> Response:
        raise RuntimeError(request.path)

    dispatcher.expect_request(URI_DEFAULT).respond_with_handler(fail)
    client.get("/one")
    client.get("/two")
    with pytest.raises(RuntimeError, match=r"^/one$"):
        dispatcher.check_handler_errors()
    with pytest.raises(RuntimeError, match=r"^/two$"):
        dispatcher.check_handler_errors()
    dispatcher.check_handler_errors()


# ------------------------------------------------------------- format_matchers


def test_format_matchers_lists_every_matcher_by_kind(dispatcher: RequestDispatcher) -> None:
    assert dispatcher.format_matchers() == (
        "Ordered matchers (next first):\n    none\n"
        "Oneshot matchers:\n    none\n"
        "Permanent matchers:\n    none"
    )
    dispatcher.expect_request("/p", method="GET")
    dispatcher.expect_oneshot_request("/o", query_string="a=1")
    dispatcher.expect_ordered_request("/first")
    dispatcher.expect_ordered_request("/second", json={"k": 1})
    assert dispatcher.format_matchers().splitlines() == [
        "Ordered matchers (next first):",
        "    <RequestMatcher uri='/first' method='__ALL' query_string=None headers={}"
        " data=None json=<UNDEFINED>>",
        "    <RequestMatcher uri='/second' method='__ALL' query_string=None headers={}"
        " data=None json={'k': 1}>",
        "Oneshot matchers:",
        "    <RequestMatcher uri='/o' method='__ALL' query_string='a=1' headers={}"
        " data=None json=<UNDEFINED>>",
        "Permanent matchers:",
        "    <RequestMatcher uri='/p' method='GET' query_string=None headers={}"
        " data=None json=<UNDEFINED>>",
    ]


def _reachable(root: object) -> int:
    """Count the objects a full collection would visit from ``root`` (types and code aside)."""
    seen = {id(root)}
    todo = [root]
    while todo:
        for ref in gc.get_referents(todo.pop()):
            if isinstance(ref, type | types.ModuleType | types.FunctionType) or id(ref) in seen:
                continue
            seen.add(id(ref))
            todo.append(ref)
    return len(seen)


def test_log_is_invisible_to_the_garbage_collector(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/many", method="POST").respond_with_json({"n": 1})
    for index in range(50):  # the log's own containers exist once this has run
        client.post("/many", data=str(index), headers={"X-I": str(index)})
    before = _reachable(dispatcher)
    for index in range(500):
        client.post("/many", data=str(index), headers={"X-I": str(index)})
    # Not one object per logged request, let alone a Request and a Response each: a long
    # log must not make every full collection of the user's process slower.
    assert _reachable(dispatcher) - before < 20
    assert len(dispatcher.log) == 550
    request, response = dispatcher.log[-1]
    assert (request.get_data(), request.headers["X-I"]) == (b"499", "499")
    assert response.get_json() == {"n": 1}


# ------------------------------------------------------- static responses, kept


def test_a_handler_without_response_stays_a_handler_error_on_every_request(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/none")  # no respond_with_* call
    for _ in range(3):
        assert client.get("/none").status_code == 500
    assert [entry.outcome for entry in dispatcher.log_entries] == [Outcome.HANDLER_ERROR] * 3
    assert len(dispatcher.handler_errors) == 3


def test_a_response_replaced_during_a_request_is_not_kept_as_the_new_one(
    dispatcher: RequestDispatcher, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpdouble._app.dispatch as dispatch_module

    handler = dispatcher.expect_request("/switch")
    handler.respond_with_data("old", status=503)
    original = dispatch_module.pack_response

    def replace_midway(response: Response) -> object:
        # The test switches the response while the first request is still being answered.
        handler.respond_with_data("new")
        monkeypatch.setattr(dispatch_module, "pack_response", original)
        return original(response)

    monkeypatch.setattr(dispatch_module, "pack_response", replace_midway)
    first = client.get("/switch")
    assert (first.status_code, first.get_data()) == (503, b"old")
    for _ in range(2):
        later = client.get("/switch")
        assert (later.status_code, later.get_data()) == (200, b"new")


class _Mode(enum.StrEnum):
    FAST = "fast"


def test_enum_values_in_the_environ_and_headers_are_logged_as_their_text(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    def tags(request: Request) -> Response:
        request.environ["app.mode"] = _Mode.FAST
        request.environ["app.level"] = Kind.NO_HANDLER  # not text at all: left out
        return Response("ok", headers={"X-Mode": _Mode.FAST})

    dispatcher.expect_oneshot_request("/tag").respond_with_handler(tags)
    with dispatcher.wait(timeout=1) as waiting:
        response = client.get("/tag")
    assert response.status_code == 200
    assert waiting.result  # the oneshot request has settled
    [entry] = dispatcher.log_entries
    assert entry.outcome is Outcome.MATCHED
    assert entry.request is not None
    assert entry.request.environ["app.mode"] == "fast"
    assert type(entry.request.environ["app.mode"]) is str
    assert "app.level" not in entry.request.environ
    assert entry.response.headers["X-Mode"] == "fast"
    assert dispatcher.findings == []


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text")


@pytest.mark.parametrize(
    "make",
    [
        lambda: Response(iter([1, 2])),  # a body of ints, not bytes
        lambda: (_ for _ in ()).throw(_Unprintable()),  # an exception whose str() raises
    ],
    ids=["body-of-ints", "unprintable-exception"],
)
def test_odd_handler_failures_are_handler_errors_and_settle_wait(
    dispatcher: RequestDispatcher, client: Client, make: Any
) -> None:
    dispatcher.expect_oneshot_request("/odd").respond_with_handler(lambda request: make())
    with dispatcher.wait(timeout=1, raise_assertions=False) as waiting:
        assert client.get("/odd").status_code == 500
    assert waiting.result
    [entry] = dispatcher.log_entries
    assert entry.outcome is Outcome.HANDLER_ERROR
    assert [finding.kind for finding in dispatcher.findings] == [Kind.HANDLER_ERROR]


def test_a_list_that_holds_itself_in_the_environ_is_logged_without_it(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    def loops(request: Request) -> Response:
        looped: list[object] = [object()]
        looped.append(looped)
        request.environ["app.loop"] = looped
        request.environ["app.user"] = "ada"
        return Response("ok")

    dispatcher.expect_request("/loop").respond_with_handler(loops)
    assert client.get("/loop").status_code == 200
    [(request, _)] = dispatcher.log
    assert request.environ["app.user"] == "ada"
