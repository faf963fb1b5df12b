"""Faults in user code: a handler that raises, returns the wrong thing, or hangs.

The client gets a 500 with a short reason, the server keeps serving, and the
test hears of it with the original exception as the cause.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from httpdouble import HandlerTimeout, HTTPServer, Kind, Outcome

from ..support import Runner
from .conftest import SOCKET_TIMEOUT
from .rawhttp import good_request_is_served


class ForecastError(Exception):
    pass


def _raises(request: Request) -> Response:
    raise ForecastError("no forecast for " + request.path)


def _returns(value: object) -> Callable[[Request], Any]:
    return lambda request: value


FAULTY = {
    "raises": (_raises, ForecastError, "no forecast for /fault"),
    "returns-dict": (_returns({"a": 1}), TypeError, "returned dict"),
    "returns-bytes": (_returns(b"ok"), TypeError, "returned bytes"),
    "returns-tuple": (_returns(("ok", 200)), TypeError, "returned tuple"),
}


def _get(server: HTTPServer, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=SOCKET_TIMEOUT)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(("handler", "error", "words"), FAULTY.values(), ids=FAULTY)
def test_faulty_handler_gives_a_short_500_and_check_handler_errors_raises_the_original(
    server: HTTPServer, handler: Callable[[Request], Any], error: type[Exception], words: str
) -> None:
    server.expect_request("/fault").respond_with_handler(handler)
    server.expect_request("/good").respond_with_data("good")

    status, body = _get(server, "/fault")

    assert status == 500
    text = body.decode()
    assert text.count("\n") == 1, text  # one line: short, no traceback
    assert len(text) < 300
    assert error.__name__ in text
    assert words in text
    good_request_is_served(server)
    assert [e.outcome for e in server.log_entries] == [Outcome.HANDLER_ERROR, Outcome.MATCHED]
    (finding,) = server.findings
    assert finding.kind is Kind.HANDLER_ERROR
    with pytest.raises(error, match=words) as raised:
        server.check_handler_errors()
    assert raised.value is finding.cause
    server.check_handler_errors()  # raised once only


def test_many_faulty_requests_in_a_row_leave_the_server_serving(server: HTTPServer) -> None:
    server.expect_request("/fault").respond_with_handler(_raises)
    server.expect_request("/good").respond_with_data("good")
    for _ in range(50):
        assert _get(server, "/fault")[0] == 500
    good_request_is_served(server)
    assert len(server.handler_errors) == 50


def test_faulty_handlers_fail_their_test_at_teardown_with_the_original_exception_as_cause(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(
        """
        from client import get

        class ForecastError(Exception):
            pass

        def raising(request):
            raise ForecastError("no forecast today")

        def test_raises(httpserver):
            httpserver.expect_request("/f").respond_with_handler(raising)
            httpserver.expect_request("/good").respond_with_data("good")
            assert get(httpserver.url_for("/f"))[0] == 500
            assert get(httpserver.url_for("/good")) == (200, "good")

        def test_returns_a_dict(httpserver):
            httpserver.expect_request("/d").respond_with_handler(lambda request: {"a": 1})
            httpserver.expect_request("/good").respond_with_data("good")
            assert get(httpserver.url_for("/d"))[0] == 500
            assert get(httpserver.url_for("/good")) == (200, "good")

        def test_after_them_the_server_still_serves(httpserver):
            httpserver.expect_request("/good").respond_with_data("good")
            assert get(httpserver.url_for("/good")) == (200, "good")
        """
    )
    result = run()
    result.assert_outcomes(passed=3, errors=2)
    output = result.stdout.str()
    assert output.count("The above exception was the direct cause of the following exception") == 2
    result.stdout.fnmatch_lines(
        [
            "*ForecastError: no forecast today",
            "*direct cause*",
            "*1. handler raised: GET /f",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*TypeError: handler function returned dict*", "*direct cause*", "*GET /d*"]
    )
    assert "INTERNALERROR" not in output


# ------------------------------------------------------------------ hanging handler


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at the end of the test, so a hanging handler's thread always ends."""
    event = threading.Event()
    try:
        yield event
    finally:
        event.set()


def test_handler_hanging_past_the_handler_timeout_gets_500_and_the_server_goes_on(
    release: threading.Event,
) -> None:
    def hangs(request: Request) -> Response:
        release.wait(30)
        return Response("too late")

    server = HTTPServer(handler_timeout=0.5, no_handler_status_code=404)
    server.start()
    try:
        server.expect_request("/hang").respond_with_handler(hangs)
        server.expect_request("/good").respond_with_data("good")
        status, body = _get(server, "/hang")
        assert status == 500
        text = body.decode()
        assert text.count("\n") == 1, text
        assert "HandlerTimeout" in text
        assert "handler_timeout=0.5" in text
        good_request_is_served(server)
        (finding,) = server.findings
        assert finding.kind is Kind.HANDLER_ERROR
        with pytest.raises(HandlerTimeout, match="did not return") as raised:
            server.check_handler_errors()
        assert isinstance(raised.value, TimeoutError)
    finally:
        release.set()
        server.stop()


def test_hanging_handler_fails_its_test_with_the_timeout_as_cause(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(
        """
        import threading
        from client import get
        from werkzeug.wrappers import Response

        RELEASE = threading.Event()

        def hangs(request):
            RELEASE.wait(20)
            return Response("too late")

        def test_hangs(httpserver):
            httpserver.handler_timeout = 0.5
            httpserver.expect_request("/hang").respond_with_handler(hangs)
            httpserver.expect_request("/good").respond_with_data("good")
            try:
                assert get(httpserver.url_for("/hang"))[0] == 500
                assert get(httpserver.url_for("/good")) == (200, "good")
            finally:
                RELEASE.set()

        def test_next_test_has_the_default_timeout_again(httpserver):
            assert httpserver.handler_timeout == 30.0
        """
    )
    result = run()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*HandlerTimeout: the handler function*handler_timeout=0.5*",
            "*direct cause*",
            "*handler raised: GET /hang*",
        ]
    )
