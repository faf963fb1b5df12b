"""Verification: check_*, the log, counting requests, clearing, and wait()."""

from __future__ import annotations

import threading

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from httpdouble import (
    HTTPDoubleFailure,
    Kind,
    LogEntry,
    Outcome,
    RequestDispatcher,
    RequestMatcher,
    Waiting,
    WaitingSettings,
)


def _fail(request: Request) -> Response:
    raise KeyError("in handler")


# ------------------------------------------------------------ check_assertions


def test_check_assertions_raises_once_for_everything_that_went_wrong(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/known").respond_with_data("")
    client.get("/unknown")
    client.delete("/known/2")
    assert len(dispatcher.assertions) == 2
    with pytest.raises(HTTPDoubleFailure) as excinfo:
        dispatcher.check_assertions()
    assert isinstance(excinfo.value, AssertionError)
    text = str(excinfo.value)
    # pytest-httpserver's words first (suites match on them), then ours.
    assert text.startswith(
        "No handler found for request GET /unknown\nhttpserver: 2 HTTP problems in this test\n"
    )
    assert "1. no handler matched: GET /unknown" in text
    assert "2. no handler matched: DELETE /known/2" in text
    assert "- uri: expected '/known', got '/known/2'" in text
    assert (
        "  - uri: your code sent '/known/2' where the expectation has '/known': fix your"
        " code's request if the expectation is right, else the expectation"
    ) in text.splitlines()
    # What was raised is not raised again, but stays in the findings.
    dispatcher.check_assertions()
    assert dispatcher.assertions == []
    assert len(dispatcher.findings) == 2


def test_check_assertions_without_an_unmatched_request_starts_with_our_heading(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    def handler(request: Request) -> Response:
        raise AssertionError("the handler's own assert")

    dispatcher.expect_request("/a").respond_with_handler(handler)
    client.get("/a")
    with pytest.raises(HTTPDoubleFailure) as excinfo:
        dispatcher.check_assertions()
    assert str(excinfo.value).startswith("httpserver: 1 HTTP problem in this test\n")


def test_check_assertions_passes_when_everything_matched(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/ok").respond_with_data("")
    client.get("/ok")
    dispatcher.check_assertions()
    dispatcher.check()


def test_check_raises_assertions_first_then_handler_errors(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/fail").respond_with_handler(_fail)
    client.get("/fail")
    client.get("/nobody")
    with pytest.raises(HTTPDoubleFailure, match="no handler matched: GET /nobody"):
        dispatcher.check()
    with pytest.raises(KeyError, match="in handler"):
        dispatcher.check()
    dispatcher.check()


def test_take_findings_hands_over_unraised_findings_and_unused_expectations(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_oneshot_request("/never", method="PUT").respond_with_data("")
    client.get("/other")
    findings = dispatcher.take_findings(include_unused=True)
    assert [f.kind for f in findings] == [Kind.NO_HANDLER, Kind.UNUSED]
    assert findings[1].expected == "oneshot PUT '/never'"
    assert dispatcher.take_findings(include_unused=False) == []
    dispatcher.check_assertions()


# ------------------------------------------------------------------------- log


def test_log_pairs_every_request_with_its_response(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/a").respond_with_data("A")
    client.get("/a")
    client.post("/b", data=b"x")
    assert [(req.method, req.path, resp.status_code) for req, resp in dispatcher.log] == [
        ("GET", "/a", 200),
        ("POST", "/b", 500),
    ]
    assert dispatcher.log[1][0].get_data() == b"x"


def test_log_entries_carry_outcome_and_stamp(
    dispatcher: RequestDispatcher, client: Client, request: pytest.FixtureRequest
) -> None:
    dispatcher.expect_request("/ok").respond_with_data("")
    dispatcher.expect_request("/fail").respond_with_handler(_fail)
    for path in ("/ok", "/none", "/fail"):
        client.get(path)
    entries = dispatcher.log_entries
    assert all(isinstance(entry, LogEntry) for entry in entries)
    assert [entry.outcome for entry in entries] == [
        Outcome.MATCHED,
        Outcome.NO_HANDLER,
        Outcome.HANDLER_ERROR,
    ]
    assert [entry.request.path for entry in entries if entry.request] == ["/ok", "/none", "/fail"]
    times = [entry.stamp.time for entry in entries]
    assert times == sorted(times)
    for entry in entries:
        assert entry.stamp.test == request.node.nodeid
        assert entry.stamp.where() == request.node.nodeid
        assert isinstance(entry.stamp.worker, str)
    assert dispatcher.total_requests == 3


# ------------------------------------------------------- counting and asserting


def test_requests_are_counted_and_iterated_by_matcher(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/items").respond_with_data("ok")
    client.get("/items?page=1")
    client.get("/items?page=2")
    client.post("/items")
    get_items = RequestMatcher("/items", method="GET")
    assert dispatcher.get_matching_requests_count(get_items) == 2
    assert dispatcher.get_matching_requests_count(RequestMatcher("/items")) == 3
    assert dispatcher.get_matching_requests_count(RequestMatcher("/nothing")) == 0
    pairs = list(dispatcher.iter_matching_requests(get_items))
    assert [req.args["page"] for req, _ in pairs] == ["1", "2"]
    assert all(resp.status_code == 200 for _, resp in pairs)


def test_assert_request_made_passes_on_the_exact_count(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/x").respond_with_data("")
    client.get("/x")
    client.get("/x")
    dispatcher.assert_request_made(RequestMatcher("/x"), count=2)
    dispatcher.assert_request_made(RequestMatcher("/y"), count=0)


def test_assert_request_made_says_expected_got_closest_and_what_to_do(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/users").respond_with_data("")
    client.get("/users?id=3")
    with pytest.raises(HTTPDoubleFailure) as excinfo:
        dispatcher.assert_request_made(
            RequestMatcher("/users", method="POST", query_string="id=4")
        )
    assert str(excinfo.value).splitlines() == [
        "expected 1 request(s) matching POST '/users' query 'id=4'",
        "got 0, among 1 logged request(s)",
        "closest logged request: GET /users?id=3",
        "  - method: expected 'POST', got 'GET'",
        "  - query_string: expected 'id=4', got 'id=3'",
        "to do: check the request your code sends, or the count you expect",
    ]


def test_assert_request_made_fails_when_too_many_match(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/x").respond_with_data("")
    client.get("/x")
    client.get("/x")
    with pytest.raises(AssertionError, match="got 2, among 2 logged request"):
        dispatcher.assert_request_made(RequestMatcher("/x"))


# ------------------------------------------------------------------- clearing


def _make_mess(dispatcher: RequestDispatcher, client: Client) -> None:
    dispatcher.expect_request("/fail").respond_with_handler(_fail)
    dispatcher.expect_oneshot_request("/once").respond_with_data("")
    client.get("/fail")
    client.get("/missing")


def test_clear_forgets_handlers_log_and_findings(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    _make_mess(dispatcher, client)
    dispatcher.clear()
    assert dispatcher.log == []
    assert dispatcher.findings == []
    assert dispatcher.format_matchers().count("none") == 3
    dispatcher.check()
    assert dispatcher.take_findings() == []
    assert dispatcher.total_requests == 2


def test_taking_with_clear_after_a_clear_still_resets_and_still_takes(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    # Each test's setup takes from a server its last teardown cleared: the shortcut for a
    # server untouched since must still restore the status code and see what came since.
    dispatcher.clear()
    dispatcher.no_handler_status_code = 418
    assert dispatcher.take_findings(include_unused=False, clear=True) == []
    assert dispatcher.no_handler_status_code == 500
    assert client.get("/between-tests").status_code == 500
    taken = dispatcher.take_findings(include_unused=False, clear=True)
    assert [f.kind for f in taken] == [Kind.NO_HANDLER]
    assert dispatcher.log == []


def test_a_test_begins_clean_after_whatever_came_between_tests(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    # begin_test decides "nothing since the last clear" without the lock, from the
    # registry's version: each kind of change between two tests must still be seen.
    assert dispatcher.end_test() == ([], 0, {})
    assert dispatcher.begin_test() == []
    dispatcher.expect_request("/left").respond_with_data("left")  # a handler, no request
    dispatcher.no_handler_status_code = 418
    assert dispatcher.begin_test() == []
    assert dispatcher.no_handler_status_code == 500
    assert dispatcher.format_matchers().count("none") == 3, "the handler was not cleared"
    assert client.get("/left").status_code == 500
    assert [f.kind for f in dispatcher.begin_test()] == [Kind.NO_HANDLER]
    assert dispatcher.log == []
    once = dispatcher.expect_oneshot_request("/once")
    once.respond_with_data("once")
    assert client.get("/once").status_code == 200
    dispatcher.clear_log()  # the registry changed (used up): the version says so
    assert dispatcher.begin_test() == []
    assert dispatcher._registry.used_up == [], "the used-up handler was kept"
    assert dispatcher.end_test() == ([], 0, {})


def test_a_test_ends_with_its_findings_its_count_and_a_clear(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/known").respond_with_data("known")
    dispatcher.expect_oneshot_request("/never").respond_with_data("never")
    client.get("/known")
    client.get("/unknown", headers={"Host": "elsewhere.test"})
    taken, requests, hosts = dispatcher.end_test(include_unused=True)
    assert sorted(f.kind.value for f in taken) == sorted(
        k.value for k in (Kind.NO_HANDLER, Kind.UNUSED)
    )
    assert requests == 2
    assert hosts == {"elsewhere.test": [1, 1]}
    assert dispatcher.log == []
    assert dispatcher.format_matchers().count("none") == 3
    assert dispatcher.end_test(include_unused=True) == ([], 0, {})


def test_clear_retires_every_handler_and_forgets_them(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    ordered = dispatcher.expect_ordered_request("/1")
    ordered.respond_with_data("1")
    oneshot = dispatcher.expect_oneshot_request("/once")
    oneshot.respond_with_data("once")
    permanent = dispatcher.expect_request("/always")
    permanent.respond_with_data("always")
    taken = dispatcher.take_findings(include_unused=True, clear=True)
    assert [f.kind for f in taken] == [Kind.UNUSED, Kind.UNUSED]  # the permanent one: none
    assert [h.retired for h in (ordered, oneshot, permanent)] == [True, True, True]
    assert dispatcher.format_matchers().count("none") == 3
    assert client.get("/always").status_code == 500


def test_clear_log_keeps_handlers_and_findings(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    _make_mess(dispatcher, client)
    dispatcher.clear_log()
    assert dispatcher.log == []
    assert dispatcher.log_entries == []
    assert len(dispatcher.findings) == 2
    assert "'/once'" in dispatcher.format_matchers()


def test_clear_assertions_keeps_handler_errors(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    _make_mess(dispatcher, client)
    dispatcher.clear_assertions()
    dispatcher.check_assertions()
    assert [f.kind for f in dispatcher.findings] == [Kind.HANDLER_ERROR]
    with pytest.raises(KeyError):
        dispatcher.check_handler_errors()


def test_clear_handler_errors_keeps_assertions(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    _make_mess(dispatcher, client)
    dispatcher.clear_handler_errors()
    dispatcher.check_handler_errors()
    assert dispatcher.handler_errors == []
    with pytest.raises(HTTPDoubleFailure, match="GET /missing"):
        dispatcher.check_assertions()


def test_clear_all_handlers_keeps_log_and_findings(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    _make_mess(dispatcher, client)
    dispatcher.clear_all_handlers()
    assert dispatcher.format_matchers().count("none") == 3
    assert len(dispatcher.log) == 2
    assert len(dispatcher.findings) == 2
    assert client.get("/fail").status_code == 500
    assert dispatcher.findings[-1].kind is Kind.NO_HANDLER


# ------------------------------------------------------------------------ wait


def test_wait_returns_at_once_when_the_block_used_every_handler(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_oneshot_request("/1").respond_with_data("")
    dispatcher.expect_ordered_request("/2").respond_with_data("")
    with dispatcher.wait(timeout=60) as waiting:
        assert isinstance(waiting, Waiting)
        client.get(
            "/2"
        )  # the ordered one first: while it waits, any other request is out of order
        client.get("/1")
    assert waiting.result is True


def test_wait_counts_only_handlers_used_after_it_began_as_upstream(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_oneshot_request("/early").respond_with_data("")
    client.get("/early")
    # Nothing left to use, and nothing used during the wait: it times out, result False.
    with dispatcher.wait(raise_assertions=False, timeout=0.05) as waiting:
        pass
    assert waiting.result is False


def test_wait_wakes_when_another_thread_uses_the_last_handler(
    dispatcher: RequestDispatcher,
) -> None:
    dispatcher.expect_oneshot_request("/a").respond_with_data("")
    dispatcher.expect_ordered_request("/b").respond_with_data("")
    release = threading.Event()
    statuses: list[int] = []

    def send() -> None:
        thread_client = Client(dispatcher)
        release.wait(30)
        statuses.extend(thread_client.get(path).status_code for path in ("/b", "/a"))

    worker = threading.Thread(target=send)
    worker.start()
    try:
        # A long timeout: only the event set by the last request can end this wait early.
        with dispatcher.wait(timeout=60) as waiting:
            release.set()
    finally:
        worker.join(30)
    assert waiting.result is True
    assert statuses == [200, 200]


def test_wait_times_out_and_reports_the_unused_handlers(
    dispatcher: RequestDispatcher,
) -> None:
    dispatcher.expect_oneshot_request("/never", method="GET").respond_with_data("")
    with pytest.raises(HTTPDoubleFailure) as excinfo, dispatcher.wait(timeout=0.01):
        pass
    lines = str(excinfo.value).splitlines()
    assert lines[0] == "Wait timeout occurred, but some handlers left:"  # upstream's words
    assert lines[1] == "  wait() ended 0.01s after its block with handlers never used"
    assert (
        "    <RequestMatcher uri='/never' method='GET' query_string=None headers={}"
        " data=None json=<UNDEFINED>>"
    ) in lines
    assert lines[-1] == "to do: make the code under test send them, or raise the timeout"


def test_wait_without_raise_assertions_only_sets_the_result(
    dispatcher: RequestDispatcher,
) -> None:
    dispatcher.expect_oneshot_request("/never").respond_with_data("")
    with dispatcher.wait(raise_assertions=False, timeout=0.01) as waiting:
        pass
    assert waiting.result is False


def test_wait_stops_on_an_unmatched_request_and_raises_it(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_oneshot_request("/expected").respond_with_data("")
    # stop_on_nohandler wakes at the unmatched request, long before this timeout.
    with (
        pytest.raises(HTTPDoubleFailure) as excinfo,
        dispatcher.wait(stop_on_nohandler=True, timeout=60),
    ):
        client.get("/unexpected")
    lines = str(excinfo.value).splitlines()
    assert lines[0] == (
        "No handler found for request GET /unexpected: wait() stopped on it"
        " (stop_on_nohandler=True)"
    )
    assert "1. no handler matched: GET /unexpected" in lines
    dispatcher.check_assertions()  # raised once, by wait()


def test_wait_stop_on_nohandler_without_raising_reports_failure(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_oneshot_request("/expected").respond_with_data("")
    with dispatcher.wait(stop_on_nohandler=True, raise_assertions=False, timeout=60) as waiting:
        client.get("/unexpected")
    assert waiting.result is False
    with pytest.raises(HTTPDoubleFailure, match="GET /unexpected"):
        dispatcher.check_assertions()


def test_wait_ignores_unmatched_requests_when_told_so(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_oneshot_request("/expected").respond_with_data("")
    with dispatcher.wait(stop_on_nohandler=False, raise_assertions=False, timeout=60) as waiting:
        client.get("/unexpected")
        client.get("/expected")
    assert waiting.result is True


def test_wait_uses_the_default_waiting_settings() -> None:
    dispatcher = RequestDispatcher(
        default_waiting_settings=WaitingSettings(raise_assertions=False, timeout=0.01)
    )
    dispatcher.expect_oneshot_request("/never").respond_with_data("")
    with dispatcher.wait() as waiting:
        pass
    assert waiting.result is False


# ------------------------------------------------------------------ with_check


def test_with_check_raises_the_assertions_first_then_keeps_the_handler_error(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/boom").respond_with_handler(_fail)

    def send_both() -> None:
        client.get("/boom")
        client.get("/nowhere")

    with pytest.raises(HTTPDoubleFailure) as raised, dispatcher.with_check() as checked:
        send_both()
    assert checked is dispatcher
    assert str(raised.value).startswith("No handler found for request GET /nowhere\n")
    # check() stops at the assertion, as pytest-httpserver's does: the error waits its turn.
    with pytest.raises(KeyError, match="in handler"):
        dispatcher.check()


def test_with_check_passes_silently_when_all_went_well(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/ok").respond_with_data("")
    with dispatcher.with_check():
        client.get("/ok")
    assert dispatcher.findings == []
