"""Counted handlers (``times=N``) and response sequences, on the dispatcher without a socket."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from httpdouble import HandlerType, HTTPDoubleUsageError, Kind, RequestDispatcher, RequestMatcher
from httpdouble._report.findings import failure_message

# ------------------------------------------------------------------- times=N


def test_counted_handler_serves_exactly_times_requests_then_falls_through(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/retry", times=3).respond_with_data("counted")
    dispatcher.expect_request("/retry").respond_with_data("permanent")

    bodies = [client.get("/retry").get_data() for _ in range(5)]

    assert bodies == [b"counted"] * 3 + [b"permanent"] * 2
    assert dispatcher.take_findings() == []


def test_counted_handler_is_gone_after_its_last_use(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/twice", times=2).respond_with_data("ok")

    statuses = [client.get("/twice").status_code for _ in range(3)]

    assert statuses == [200, 200, 500]
    assert [f.kind for f in dispatcher.take_findings(include_unused=False)] == [Kind.NO_HANDLER]
    assert len(dispatcher.oneshot_handlers) == 0


def test_counted_handler_is_looked_up_before_an_earlier_permanent_one(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/a").respond_with_data("permanent")
    dispatcher.expect_request("/a", times=2).respond_with_data("counted")

    bodies = [client.get("/a").get_data() for _ in range(3)]

    assert bodies == [b"counted", b"counted", b"permanent"]


def test_counted_and_oneshot_handlers_are_used_oldest_first(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/a", times=2).respond_with_data("counted")
    dispatcher.expect_oneshot_request("/a").respond_with_data("oneshot")

    bodies = [client.get("/a").get_data() for _ in range(3)]

    assert bodies == [b"counted", b"counted", b"oneshot"]


def test_times_one_serves_like_a_oneshot_handler(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/once", times=1).respond_with_data("ok")

    assert [client.get("/once").status_code for _ in range(2)] == [200, 500]


def test_ordered_handler_with_times_stays_next_for_that_many_requests(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect(RequestMatcher("/poll"), HandlerType.ORDERED, times=2).respond_with_data(
        "pending"
    )
    dispatcher.expect_ordered_request("/done").respond_with_data("done")

    bodies = [client.get(path).get_data() for path in ("/poll", "/poll", "/done")]

    assert bodies == [b"pending", b"pending", b"done"]
    assert not dispatcher.permanently_failed
    assert dispatcher.take_findings() == []


def test_shortfall_is_a_finding_that_says_how_many_of_how_many(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/retry", method="GET", times=3).respond_with_data("ok")
    client.get("/retry")
    client.get("/retry")

    findings = dispatcher.take_findings(include_unused=True)

    assert [f.kind for f in findings] == [Kind.SHORTFALL]
    assert findings[0].headline() == "expectation used 2 of 3 times: GET '/retry'"
    message = failure_message(findings, at_teardown=False)
    assert "1. expectation used 2 of 3 times: GET '/retry'" in message
    assert "lower times=" in message


def test_counted_handler_never_used_says_0_of_n(dispatcher: RequestDispatcher) -> None:
    dispatcher.expect_request("/x", times=1)

    [finding] = dispatcher.take_findings(include_unused=True)

    assert finding.render() == "expectation used 0 of 1 time: any method '/x'"


def test_shortfall_finding_survives_the_round_trip_to_builtins(
    dispatcher: RequestDispatcher,
) -> None:
    dispatcher.expect_request("/x", times=4)
    [finding] = dispatcher.take_findings(include_unused=True)

    again = type(finding).from_builtins(finding.to_builtins())

    assert again == finding
    assert again.render() == "expectation used 0 of 4 times: any method '/x'"


def test_counted_handler_used_up_leaves_no_finding(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/x", times=2).respond_with_data("ok")
    client.get("/x")
    client.get("/x")

    assert dispatcher.take_findings(include_unused=True) == []


def test_format_matchers_shows_the_uses_of_a_counted_handler(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/x", times=3).respond_with_data("ok")
    client.get("/x")

    assert "(used 1 of 3 times)" in dispatcher.format_matchers()


def test_without_times_the_handler_types_behave_as_before(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    permanent = dispatcher.expect_request("/p")
    assert permanent.times is None
    assert permanent.handler_type is HandlerType.PERMANENT
    assert dispatcher.handlers == [permanent]
    assert not permanent.settles


@pytest.mark.parametrize("times", [0, -1, True, 2.0, "3"])
def test_times_must_be_an_int_of_one_or_more(dispatcher: RequestDispatcher, times: Any) -> None:
    with pytest.raises(HTTPDoubleUsageError, match="times"):
        dispatcher.expect_request("/x", times=times)


def test_times_with_a_oneshot_handler_type_must_be_one(dispatcher: RequestDispatcher) -> None:
    with pytest.raises(HTTPDoubleUsageError, match="ONESHOT"):
        dispatcher.expect_request("/x", handler_type=HandlerType.ONESHOT, times=3)
    dispatcher.expect_request("/x", handler_type=HandlerType.ONESHOT, times=1)


def test_baked_defaults_pass_times_through(dispatcher: RequestDispatcher, client: Client) -> None:
    dispatcher.bake(method="GET", times=2).expect_request("/b").respond_with_data("ok")

    assert [client.get("/b").status_code for _ in range(3)] == [200, 200, 500]


# ------------------------------------------------------------------ sequences


def test_sequence_answers_each_request_with_the_next_item(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    def handler(request: Request) -> Response:
        return Response(f"fn {request.args['n']}", status=201)

    dispatcher.expect_request("/s").respond_with_sequence(
        [
            Response("first", status=503, headers={"Retry-After": "0"}),
            "text",
            b"bytes",
            None,
            handler,
        ]
    )

    replies = [client.get("/s", query_string={"n": str(n)}) for n in range(5)]

    assert [(r.status_code, r.get_data()) for r in replies] == [
        (503, b"first"),
        (200, b"text"),
        (200, b"bytes"),
        (200, b""),
        (201, b"fn 4"),
    ]
    assert replies[0].headers["Retry-After"] == "0"


def test_sequence_repeats_its_last_item_by_default(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/s").respond_with_sequence([Response(status=503), "ok"])

    assert [client.get("/s").status_code for _ in range(4)] == [503, 200, 200, 200]
    assert dispatcher.take_findings() == []


def test_sequence_then_fail_answers_500_and_says_it_was_used_up(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/s").respond_with_sequence(["a", "b"], then="fail")

    replies = [client.get("/s") for _ in range(3)]

    assert [r.status_code for r in replies] == [200, 200, 500]
    assert b"the sequence of 2 responses was used up" in replies[2].get_data()
    [finding] = dispatcher.take_findings()
    assert finding.kind is Kind.SEQUENCE_USED_UP
    assert "the sequence of 2 responses was used up" in finding.render()
    assert "add responses, pass then='repeat'" in failure_message([finding], at_teardown=False)


def test_sequence_is_never_served_from_the_static_reply_cache(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    handler = dispatcher.expect_request("/s")
    handler.respond_with_sequence(["one", "two", "three"])

    assert [client.get("/s").get_data() for _ in range(3)] == [b"one", b"two", b"three"]
    assert handler.reply is None


def test_sequence_with_times_serves_each_item_once(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/s", times=2).respond_with_sequence(["one", "two"], then="fail")
    dispatcher.expect_request("/s").respond_with_data("after")

    assert [client.get("/s").get_data() for _ in range(3)] == [b"one", b"two", b"after"]
    assert dispatcher.take_findings() == []


def test_sequence_item_function_that_raises_is_a_handler_error(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    def broken(request: Request) -> Response:
        raise RuntimeError("boom")

    dispatcher.expect_request("/s").respond_with_sequence(["ok", broken])

    assert [client.get("/s").status_code for _ in range(2)] == [200, 500]
    assert isinstance(dispatcher.handler_errors[0], RuntimeError)
    dispatcher.clear_handler_errors()


@pytest.mark.parametrize(
    ("responses", "then", "field"),
    [
        ([], "repeat", "responses"),
        ("ok", "repeat", "responses"),
        (Response("x"), "repeat", "responses"),
        ([{"a": 1}], "repeat", r"responses\[0\]"),
        (["ok", 42], "repeat", r"responses\[1\]"),
        (["ok"], "again", "then"),
    ],
)
def test_sequence_arguments_are_checked_at_registration(
    dispatcher: RequestDispatcher, responses: Any, then: Any, field: str
) -> None:
    with pytest.raises(HTTPDoubleUsageError, match=field):
        dispatcher.expect_request("/s").respond_with_sequence(responses, then=then)
