"""BlockingHTTPServer: the test takes each request with assert_request() and answers it.

Every client runs on a thread of its own (the test thread is the one that answers), and every
wait is bounded: the clients' own timeouts, ``Future.result(timeout=...)`` and the server's
``timeout``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import http.client
import json
import ssl
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Response

from httpdouble import (
    URI_DEFAULT,
    HTTPDoubleUsageError,
    HTTPServerError,
    Kind,
    Outcome,
    TLSCertificates,
    URIPattern,
)
from httpdouble._server.blocking import BlockingHTTPServer, BlockingRequestHandler

from .clients import HTTPClient, Reply

WAIT = 10  # seconds any one wait of the test may take at most


@pytest.fixture
def pool() -> Iterator[concurrent.futures.ThreadPoolExecutor]:
    """Threads for the clients, so the test thread is free to answer."""
    with concurrent.futures.ThreadPoolExecutor(4) as executor:
        yield executor


@pytest.fixture
def blocking() -> Iterator[BlockingHTTPServer]:
    """A started blocking server; stop() answers whatever a failing test left waiting."""
    server = BlockingHTTPServer(timeout=WAIT)
    server.start()
    try:
        yield server
    finally:
        if server.is_running():
            server.stop()


Send = Callable[..., "concurrent.futures.Future[requests.Response]"]


@pytest.fixture
def send(pool: concurrent.futures.ThreadPoolExecutor) -> Send:
    """Send one request with requests on a pool thread; returns its future."""

    def submit(method: str, url: str, **kwargs: Any) -> concurrent.futures.Future[Any]:
        return pool.submit(requests.request, method, url, timeout=WAIT * 3, **kwargs)

    return submit


# ------------------------------------------------------------------ the usual exchange


def test_every_client_gets_the_answer_the_test_gives(
    blocking: BlockingHTTPServer,
    client: HTTPClient,
    pool: concurrent.futures.ThreadPoolExecutor,
) -> None:
    url = blocking.url_for("/items/7?full=1")
    future = pool.submit(client.request, "PUT", url, headers={"X-Id": "7"}, body=b"new")

    handler = blocking.assert_request(
        "/items/7",
        method="put",
        query_string={"full": "1"},
        headers={"X-Id": "7"},
        data="new",
        timeout=WAIT,
    )
    handler.respond_with_json({"id": 7}, status=201, headers={"X-Served": "yes"})

    reply: Reply = future.result(timeout=WAIT)
    assert reply.status == 201
    assert json.loads(reply.body) == {"id": 7}
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.headers["X-Served"] == "yes"
    [(request, response)] = blocking.log
    assert (request.method, request.path, request.get_data()) == ("PUT", "/items/7", b"new")
    assert response.status_code == 201
    assert blocking.log_entries[0].outcome is Outcome.MATCHED
    assert blocking.findings == []
    blocking.check()


def test_the_handler_shows_the_request_so_the_answer_can_depend_on_it(
    blocking: BlockingHTTPServer, send: Send
) -> None:
    future = send("POST", blocking.url_for("/echo"), json={"n": 41})

    handler = blocking.assert_request("/echo", method="POST", json={"n": 41}, timeout=WAIT)
    assert isinstance(handler, BlockingRequestHandler)
    number = handler.request.get_json()["n"]
    handler.respond_with_data(str(number + 1), content_type="text/x-number")

    response = future.result(timeout=WAIT)
    assert response.text == "42"
    assert response.headers["Content-Type"] == "text/x-number"


def test_respond_with_response_sends_that_response(
    blocking: BlockingHTTPServer, send: Send
) -> None:
    future = send("GET", blocking.url_for("/teapot"))
    blocking.assert_request("/teapot", timeout=WAIT).respond_with_response(
        Response("short and stout", status=418, headers={"X-Kind": "teapot"})
    )
    response = future.result(timeout=WAIT)
    assert (response.status_code, response.text) == (418, "short and stout")
    assert response.headers["X-Kind"] == "teapot"


def test_requests_on_one_keep_alive_connection_are_answered_in_turn(
    blocking: BlockingHTTPServer, pool: concurrent.futures.ThreadPoolExecutor
) -> None:
    def two_requests() -> list[str]:
        connection = http.client.HTTPConnection("127.0.0.1", blocking.port, timeout=WAIT * 3)
        try:
            bodies = []
            for path in ("/first", "/second"):
                connection.request("GET", path)
                bodies.append(connection.getresponse().read().decode())
            return bodies
        finally:
            connection.close()

    future = pool.submit(two_requests)
    blocking.assert_request("/first", timeout=WAIT).respond_with_data("one")
    blocking.assert_request("/second", timeout=WAIT).respond_with_data("two")
    assert future.result(timeout=WAIT) == ["one", "two"]
    assert [request.path for request, _ in blocking.log] == ["/first", "/second"]


def test_concurrent_requests_each_get_their_own_answer(
    blocking: BlockingHTTPServer, send: Send
) -> None:
    futures = {path: send("GET", blocking.url_for(path)) for path in ("/a", "/b", "/c")}

    for _ in futures:
        handler = blocking.assert_request(URI_DEFAULT, timeout=WAIT)
        handler.respond_with_data(f"for {handler.request.path}")

    for path, future in futures.items():
        assert future.result(timeout=WAIT).text == f"for {path}"
    assert blocking.findings == []


def test_over_https(httpsserver_certificates: TLSCertificates, send: Send) -> None:
    with BlockingHTTPServer(
        ssl_context=httpsserver_certificates.server_context, timeout=WAIT
    ) as server:
        url = server.url_for("/secure")
        assert url.startswith("https://")
        future = send("GET", url, verify=str(httpsserver_certificates.ca_bundle))
        server.assert_request("/secure", timeout=WAIT).respond_with_data("private")
        assert future.result(timeout=WAIT).text == "private"


# ------------------------------------------------------------------- what goes wrong


def test_a_mismatch_raises_with_every_difference_and_is_a_finding(
    blocking: BlockingHTTPServer, send: Send
) -> None:
    future = send("POST", blocking.url_for("/users"), headers={"X-Role": "guest"})

    with pytest.raises(AssertionError) as info:
        blocking.assert_request("/admins", method="GET", headers={"X-Role": "admin"}, timeout=WAIT)
    text = str(info.value)
    assert "does not match" in text
    assert "request:  POST /users" in text
    assert "- method: expected 'GET', got 'POST'" in text
    assert "- uri: expected '/admins', got '/users'" in text
    assert "- header X-Role: expected 'admin', got 'guest'" in text

    response = future.result(timeout=WAIT)
    assert response.status_code == 500
    first_line, *rest = response.text.splitlines()
    host = urllib.parse.urlsplit(response.url).netloc
    assert first_line == (
        f"No handler found for request <Request 'http://{host}/users' [POST]> with data b''."
    )
    assert "- uri: expected '/admins', got '/users'" in "\n".join(rest)

    [finding] = blocking.findings
    assert finding.kind is Kind.NO_HANDLER
    assert [m.field for m in finding.differences] == ["method", "uri", "header X-Role"]
    assert blocking.log_entries[0].outcome is Outcome.NO_HANDLER
    with pytest.raises(AssertionError, match="uri: expected '/admins', got '/users'"):
        blocking.check_assertions()


def test_the_no_handler_status_code_is_used(send: Send) -> None:
    with BlockingHTTPServer(timeout=WAIT, no_handler_status_code=404) as server:
        future = send("GET", server.url_for("/x"))
        with pytest.raises(AssertionError):
            server.assert_request("/y", timeout=WAIT)
        assert future.result(timeout=WAIT).status_code == 404


def test_assert_request_times_out_saying_what_it_waited_for(
    blocking: BlockingHTTPServer,
) -> None:
    with pytest.raises(AssertionError) as info:
        blocking.assert_request("/never", method="DELETE", timeout=0.1)
    text = str(info.value)
    assert "timed out: no request arrived within 0.1 s" in text
    assert "waited for: DELETE '/never'" in text
    assert blocking.findings == []  # nothing arrived, so nothing went wrong on the server


def test_a_request_nobody_takes_gets_the_no_handler_answer(send: Send) -> None:
    with BlockingHTTPServer(timeout=0.2) as server:
        response = send("GET", server.url_for("/lonely")).result(timeout=WAIT)

        assert response.status_code == 500
        host = urllib.parse.urlsplit(response.url).netloc
        assert response.text == (
            f"No handler found for request <Request 'http://{host}/lonely' [GET]> with data b''."
        )
        [finding] = server.findings
        assert finding.kind is Kind.NO_HANDLER
        assert "no assert_request() took it within timeout=0.2 s" in finding.detail
        assert server.log_entries[0].outcome is Outcome.NO_HANDLER
        # It was answered already: a later assert_request() must not be handed it.
        with pytest.raises(AssertionError, match="timed out"):
            server.assert_request("/lonely", timeout=0.1)
        with pytest.raises(AssertionError, match="/lonely"):
            server.check_assertions()


def test_a_request_taken_but_not_answered_gets_a_500_and_a_late_answer_raises(
    send: Send,
) -> None:
    with BlockingHTTPServer(timeout=0.2) as server:
        future = send("GET", server.url_for("/slow"))
        handler = server.assert_request("/slow", timeout=WAIT)
        response = future.result(timeout=WAIT)

        assert response.status_code == 500
        assert "no response for request GET /slow" in response.text
        with pytest.raises(AssertionError, match="too late to answer GET /slow"):
            handler.respond_with_data("late")
        [(request, logged)] = server.log
        assert (request.path, logged.status_code) == ("/slow", 500)
        assert server.log_entries[0].outcome is Outcome.HANDLER_ERROR
        with pytest.raises(AssertionError, match="No response for request GET /slow"):
            server.check_assertions()


def test_answering_twice_is_a_usage_error(blocking: BlockingHTTPServer, send: Send) -> None:
    future = send("GET", blocking.url_for("/once"))
    handler = blocking.assert_request("/once", timeout=WAIT)
    handler.respond_with_data("first")
    with pytest.raises(HTTPServerError, match="answered already"):
        handler.respond_with_data("second")
    assert future.result(timeout=WAIT).text == "first"


def test_a_bad_response_raises_in_the_test_and_the_request_can_still_be_answered(
    blocking: BlockingHTTPServer, send: Send
) -> None:
    def broken_stream() -> Iterator[bytes]:
        yield b"part"
        raise RuntimeError("stream broke")

    future = send("GET", blocking.url_for("/stream"))
    handler = blocking.assert_request("/stream", timeout=WAIT)
    with pytest.raises(HTTPDoubleUsageError, match="invalid status"):
        handler.respond_with_data("x", status=1000)
    with pytest.raises(HTTPDoubleUsageError, match="invalid response"):
        handler.respond_with_response("not a response")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="stream broke"):
        handler.respond_with_response(Response(broken_stream()))
    handler.respond_with_data("fine")
    assert future.result(timeout=WAIT).text == "fine"


def test_a_matcher_that_raises_answers_the_client_and_raises_in_the_test(
    send: Send,
) -> None:
    class Broken(URIPattern):
        def match(self, uri: str) -> bool:
            raise ValueError("pattern bug")

    with BlockingHTTPServer(timeout=WAIT * 3) as server:
        future = send("GET", server.url_for("/p"))
        with pytest.raises(ValueError, match="pattern bug"):
            server.assert_request(Broken(), timeout=WAIT)
        assert future.result(timeout=WAIT).status_code == 500
        [finding] = server.findings
        assert "because the matcher of assert_request() raised" in finding.detail


# ----------------------------------------------------------------------- lifecycle


def test_stop_answers_every_waiting_request_and_keeps_each_as_a_finding(send: Send) -> None:
    server = BlockingHTTPServer(timeout=WAIT * 3)
    server.start()
    taken = send("GET", server.url_for("/taken"))
    server.assert_request("/taken", timeout=WAIT)
    queued = send("GET", server.url_for("/queued"))
    with server._app._lock:  # the second request is waiting in the queue before we stop
        assert server._arrived.wait_for(lambda: len(server._waiting) == 2, WAIT)

    server.stop()

    # Each client gets its 500, or sees its connection end if stop() shut it down first.
    for future in (taken, queued):
        with contextlib.suppress(requests.ConnectionError):
            assert future.result(timeout=WAIT).status_code == 500
    findings = server.findings
    assert [(f.kind, f.request and f.request.path) for f in findings] == [
        (Kind.ASSERTION, "/taken"),
        (Kind.NO_HANDLER, "/queued"),
    ]
    assert "before the server was stopped" in findings[0].detail
    with pytest.raises(AssertionError) as info:
        server.check_assertions()
    assert "No response for request GET /taken" in str(info.value)


def test_context_manager_starts_stops_and_can_run_again(send: Send) -> None:
    server = BlockingHTTPServer(timeout=WAIT)
    with server as entered:
        assert entered is server
        assert server.is_running()
        future = send("GET", server.url_for("/1"))
        server.assert_request("/1", timeout=WAIT).respond_with_data("run 1")
        assert future.result(timeout=WAIT).text == "run 1"
    assert not server.is_running()
    with server:
        future = send("GET", server.url_for("/2"))
        server.assert_request("/2", timeout=WAIT).respond_with_data("run 2")
        assert future.result(timeout=WAIT).text == "run 2"
    assert [request.path for request, _ in server.log] == ["/1", "/2"]


def test_clear_forgets_log_and_findings_but_not_a_request_in_flight(
    blocking: BlockingHTTPServer, send: Send
) -> None:
    first = send("GET", blocking.url_for("/wrong"))
    with pytest.raises(AssertionError):
        blocking.assert_request("/right", timeout=WAIT)
    first.result(timeout=WAIT)
    second = send("GET", blocking.url_for("/later"))
    with blocking._app._lock:
        assert blocking._arrived.wait_for(lambda: len(blocking._waiting) == 1, WAIT)

    blocking.clear()

    assert blocking.log == []
    assert blocking.findings == []
    blocking.check_assertions()
    blocking.assert_request("/later", timeout=WAIT).respond_with_data("still here")
    assert second.result(timeout=WAIT).text == "still here"
    assert [request.path for request, _ in blocking.log] == ["/later"]


def test_repr_is_as_upstream(blocking: BlockingHTTPServer) -> None:
    assert repr(blocking) == f"<BlockingHTTPServer host=localhost port={blocking.port}>"


# ------------------------------------------------------------------------- misuse


@pytest.mark.parametrize(
    "name",
    ["expect", "expect_request", "expect_oneshot_request", "expect_ordered_request", "bake"],
)
def test_registration_methods_do_not_exist_and_say_what_to_use(name: str) -> None:
    server = BlockingHTTPServer()
    assert not hasattr(server, name)
    with pytest.raises(AttributeError) as info:
        getattr(server, name)
    text = str(info.value)
    assert f"BlockingHTTPServer has no {name}()" in text
    assert "assert_request(...)" in text


def test_wait_does_not_exist_and_points_to_assert_request() -> None:
    with pytest.raises(
        AttributeError, match=r"assert_request\(\.\.\., timeout=\.\.\.\) is the wait"
    ):
        BlockingHTTPServer().wait()


@pytest.mark.parametrize("bad", [0, -1, "5", True, float("inf"), None])
def test_a_bad_server_timeout_is_a_clear_error(bad: object) -> None:
    with pytest.raises(HTTPDoubleUsageError, match="invalid timeout"):
        BlockingHTTPServer(timeout=bad)  # type: ignore[arg-type]
    server = BlockingHTTPServer()
    with pytest.raises(HTTPDoubleUsageError, match="a positive number of seconds"):
        server.timeout = bad  # type: ignore[assignment]


@pytest.mark.parametrize("bad", [-1, "5", float("nan")])
def test_a_bad_assert_request_timeout_is_a_clear_error(
    blocking: BlockingHTTPServer, bad: object
) -> None:
    with pytest.raises(HTTPDoubleUsageError, match="invalid timeout"):
        blocking.assert_request("/x", timeout=bad)  # type: ignore[arg-type]


def test_a_bad_matcher_argument_is_a_clear_error(blocking: BlockingHTTPServer) -> None:
    with pytest.raises(HTTPDoubleUsageError, match="invalid headers"):
        blocking.assert_request("/x", headers={"X-Count": 3}, timeout=0)  # type: ignore[dict-item]


def test_ssl_module_context_is_accepted_positionally() -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server = BlockingHTTPServer("localhost", 0, context, 5)
    assert server.ssl_context is context
    assert server.timeout == 5
