"""A handler function that hangs past ``handler_timeout``: a 500, and the server goes on."""

from __future__ import annotations

import contextvars
import decimal
import threading
from collections.abc import Iterator

import pytest
import requests
from werkzeug.wrappers import Request, Response

from httpdouble import HandlerTimeout, HTTPDoubleUsageError, HTTPServer

from ..reliability.rawhttp import eventually


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()  # let the hung handler thread finish


def test_hanging_handler_gets_a_500_and_the_timeout_as_cause(release: threading.Event) -> None:
    def hangs(request: Request) -> Response:
        release.wait(30)
        return Response("late")

    with HTTPServer(handler_timeout=0.2) as server, requests.Session() as session:
        server.expect_request("/hang").respond_with_handler(hangs)
        server.expect_request("/fine").respond_with_data("fine")
        response = session.get(server.url_for("/hang"), timeout=10)
        assert response.status_code == 500
        assert "HandlerTimeout" in response.text
        assert "did not return within handler_timeout=0.2 s" in response.text
        # The server keeps serving, on the same connection too.
        assert session.get(server.url_for("/fine"), timeout=10).text == "fine"
        with pytest.raises(HandlerTimeout, match="'/hang'"):
            server.check_handler_errors()


def test_handler_timeout_none_runs_handlers_inline() -> None:
    seen: list[str] = []

    def records_thread(request: Request) -> Response:
        seen.append(threading.current_thread().name)
        return Response("ok")

    with HTTPServer(handler_timeout=None) as server:
        server.expect_request("/t").respond_with_handler(records_thread)
        assert requests.get(server.url_for("/t"), timeout=10).text == "ok"
    assert seen
    assert seen[0] != "httpdouble-handler"


@pytest.mark.parametrize("bad", [0, -1, "5", True, float("nan")])
def test_bad_handler_timeout_is_a_clear_error(bad: object) -> None:
    with pytest.raises(HTTPDoubleUsageError) as info:
        HTTPServer(handler_timeout=bad)  # type: ignore[arg-type]
    text = str(info.value)
    assert "invalid handler_timeout" in text
    assert "expected: a positive number of seconds, or None for no limit" in text


def test_handler_calling_pytest_fail_is_a_handler_error_not_a_dead_connection() -> None:
    def fails(request: Request) -> Response:
        pytest.fail("the handler gave up")

    with HTTPServer() as server, requests.Session() as session:
        server.expect_request("/fail").respond_with_handler(fails)
        response = session.get(server.url_for("/fail"), timeout=10)
        assert response.status_code == 500
        assert "Failed: the handler gave up" in response.text
        assert len(server.log) == 1
        with pytest.raises(pytest.fail.Exception, match="the handler gave up"):
            server.check_handler_errors()


def test_streamed_body_that_raises_is_the_handlers_error() -> None:
    def chunks() -> Iterator[bytes]:
        yield b"first"
        raise ValueError("stream broke")

    with HTTPServer() as server:
        server.expect_request("/stream").respond_with_handler(lambda request: Response(chunks()))
        # Streamed as werkzeug's server sends it: the head and the first chunk are out before
        # the body raises, so the client sees a body cut short, not a 500.
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            requests.get(server.url_for("/stream"), timeout=10)
        eventually(lambda: len(server.log_entries) == 1, "the broken stream is logged")
        assert [entry.outcome.value for entry in server.log_entries] == ["handler raised"]
        with pytest.raises(ValueError, match="stream broke"):
            server.check_handler_errors()
        assert server.assertions == []


def test_wait_ends_only_after_the_last_oneshot_request_is_answered_and_logged() -> None:
    started = threading.Event()
    release = threading.Event()

    def slow(request: Request) -> Response:
        started.set()
        release.wait(10)
        return Response("done")

    with HTTPServer() as server:
        server.expect_oneshot_request("/slow").respond_with_handler(slow)
        results: list[int] = []
        client = threading.Thread(
            target=lambda: results.append(
                requests.get(server.url_for("/slow"), timeout=10).status_code
            )
        )
        with server.wait(timeout=10) as waiting:
            client.start()
            assert started.wait(10)
            # The oneshot handler is used up, its response not sent yet: wait() must not end.
            threading.Timer(0.2, release.set).start()
        assert waiting.result
        assert len(server.log) == 1
        client.join(10)
        assert results == [200]


def _until_a_helper_is_parked(server: HTTPServer) -> None:
    """Wait (5 s at most) until a helper thread waits for its next handler call."""
    parked = threading.Event()
    for _ in range(500):
        if len(server._app._handler_threads._threads):
            return
        parked.wait(0.01)
    raise AssertionError("no helper thread parked within 5 s of its call's end")


def test_handler_threads_are_reused_and_a_hung_one_is_not_handed_calls(
    release: threading.Event,
) -> None:
    seen = threading.local()
    fresh_threads: list[str] = []
    helpers: list[threading.Thread] = []

    def counts_threads(request: Request) -> Response:
        if not getattr(seen, "before", False):  # a thread-local starts empty on a new thread
            seen.before = True
            fresh_threads.append(threading.current_thread().name)
            helpers.append(threading.current_thread())
        if request.args.get("hang"):
            release.wait(30)
        return Response("ok")

    with HTTPServer(handler_timeout=1.0) as server, requests.Session() as session:
        server.expect_request("/t").respond_with_handler(counts_threads)
        for _ in range(20):
            assert session.get(server.url_for("/t"), timeout=10).text == "ok"
            _until_a_helper_is_parked(server)
        assert fresh_threads == ["httpdouble-handler"]  # one helper served all 20 calls
        assert session.get(server.url_for("/t?hang=1"), timeout=10).status_code == 500
        # The hung helper keeps its call; the next calls get another thread.
        for _ in range(5):
            assert session.get(server.url_for("/t"), timeout=10).text == "ok"
            _until_a_helper_is_parked(server)
        assert len(fresh_threads) == 2
        release.set()
        with pytest.raises(HandlerTimeout):
            server.check_handler_errors()
    for thread in helpers:  # stop() ended the idle helper, and the hung one once released
        thread.join(5)
        assert not thread.is_alive()


_USER: contextvars.ContextVar[str] = contextvars.ContextVar("user", default="anonymous")


@pytest.mark.parametrize("timeout", [0.5, None])
def test_context_variables_set_by_a_call_do_not_reach_the_next_call(
    timeout: float | None,
) -> None:
    seen: list[str] = []

    def logs_in(request: Request) -> Response:
        seen.append(f"{_USER.get()} prec={decimal.getcontext().prec}")
        _USER.set("alice")
        decimal.getcontext().prec = 3
        return Response("ok")

    with HTTPServer(handler_timeout=timeout) as server, requests.Session() as session:
        server.expect_request("/login").respond_with_handler(logs_in)
        for _ in range(3):  # one connection, and the same helper thread each time
            assert session.get(server.url_for("/login"), timeout=10).text == "ok"
    assert seen == ["anonymous prec=28"] * 3
