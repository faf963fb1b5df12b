"""A slow body, the user's own code and racing threads never stall or confuse the server."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

import httpdouble._log.request_log as log_module
from httpdouble import (
    BlockingHTTPServer,
    HTTPDoubleUsageError,
    HTTPServer,
    Kind,
    Outcome,
    URIPattern,
)

WAIT = 5.0


def _get(server: HTTPServer, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=WAIT)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _stalled_upload(port: int, path: bytes) -> socket.socket:
    """A client that asks to continue, then sends 3 bytes of a 10-byte body and stalls."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    sock.sendall(
        b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        b"Content-Length: 10\r\n\r\n"
    )
    assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
    sock.sendall(b"abc")
    return sock


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer() as srv:
        yield srv


def test_a_stalled_body_holds_up_neither_other_connections_nor_the_test(
    server: HTTPServer,
) -> None:
    server.expect_request("/up", method="POST", data="0123456789").respond_with_data("up")
    server.expect_request("/other").respond_with_data("other")
    with _stalled_upload(server.port, b"/up"):
        assert _get(server, "/other") == (200, b"other")
        registered = threading.Event()
        thread = threading.Thread(
            target=lambda: (server.expect_request("/late"), registered.set()), daemon=True
        )
        thread.start()
        assert registered.wait(WAIT), "expect_request() waited for another client's body"
    server.clear()


def test_a_body_cut_short_under_a_oneshot_without_response_still_settles(
    server: HTTPServer,
) -> None:
    server.expect_oneshot_request("/x", method="POST")  # no respond_with_*: a handler error
    with _stalled_upload(server.port, b"/x") as sock:
        sock.shutdown(socket.SHUT_WR)  # the rest of the body never comes
        for _ in range(100):
            if not sock.recv(65536):
                break
    server.clear()
    server.expect_oneshot_request("/y").respond_with_data("y")
    with server.wait(raise_assertions=False, timeout=WAIT) as waiting:
        assert _get(server, "/y") == (200, b"y")
    assert waiting.result is True  # nothing of the first request is still counted in flight


def test_clear_during_an_out_of_order_lookup_is_not_an_internal_error(
    server: HTTPServer,
) -> None:
    class ClearsOnMatch(URIPattern):
        def match(self, uri: str) -> bool:
            server.clear_all_handlers()  # as the next test's setup would, from another thread
            return uri == "/second"

    server.expect_ordered_request("/first").respond_with_data("1")
    server.expect_ordered_request(ClearsOnMatch()).respond_with_data("2")
    status, body = _get(server, "/second")
    assert status == 500
    assert b"internal error" not in body
    assert [f.kind for f in server.findings] == [Kind.OUT_OF_ORDER]
    server.clear()


def test_a_matcher_that_raises_is_the_users_error_and_is_logged(server: HTTPServer) -> None:
    class Broken(URIPattern):
        def match(self, uri: str) -> bool:
            raise KeyError("oops in my pattern")

    server.expect_request(Broken()).respond_with_data("never")
    status, body = _get(server, "/a")
    assert status == 500
    assert b"a matcher of a registered handler raised" in body
    assert [e.outcome for e in server.log_entries] == [Outcome.HANDLER_ERROR]
    with pytest.raises(KeyError, match="oops in my pattern"):
        server.check_handler_errors()
    server.clear()


def test_a_subclass_dispatch_answers_every_request_and_is_logged() -> None:
    class Mine(HTTPServer):
        def dispatch(self, request: Request) -> Response:
            if request.path == "/mine":
                return Response("from my dispatch")
            return super().dispatch(request)

    with Mine() as server:
        server.expect_request("/theirs").respond_with_data("from a handler")
        assert _get(server, "/mine") == (200, b"from my dispatch")
        assert _get(server, "/theirs") == (200, b"from a handler")
        assert [request.path for request, _ in server.log] == ["/mine", "/theirs"]
        server.check()


def test_a_subclass_respond_nohandler_answers_the_unmatched_requests() -> None:
    class Mine(HTTPServer):
        def respond_nohandler(self, request: Request, extra_message: str = "") -> Response:
            return Response("nobody here", status=404)

    with Mine() as server:
        assert _get(server, "/nothing") == (404, b"nobody here")
        assert [e.outcome for e in server.log_entries] == [Outcome.NO_HANDLER]
        server.check()  # an override that does not call ours adds no finding, as upstream


def test_a_log_read_racing_an_amend_never_keeps_the_old_outcome(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.expect_request("/a").respond_with_data("a")
    assert _get(server, "/a")[0] == 200
    log = server._app._log
    handle = (log._segment, 0)
    unpack = log_module.pair_of
    amended: list[bool] = []

    def unpack_while_the_connection_amends(
        record: tuple[object, ...], segment: log_module._Segment, request: object = None
    ) -> log_module.Pair:
        pair = unpack(record, segment, request)  # type: ignore[arg-type]
        if not amended:  # decoded from the copied span, then the record changes
            amended.append(log.amend(handle, Outcome.NOT_DELIVERED))
        return pair

    monkeypatch.setattr(log_module, "pair_of", unpack_while_the_connection_amends)
    assert server.log_entries[0].outcome is Outcome.NOT_DELIVERED
    monkeypatch.undo()
    assert amended == [True]
    assert server.log_entries[0].outcome is Outcome.NOT_DELIVERED


def test_a_blocking_server_stops_at_once_with_a_body_stalled() -> None:
    server = BlockingHTTPServer(timeout=30)
    server.start()
    with _stalled_upload(server.port, b"/x"):
        stopped = threading.Event()
        threading.Thread(target=lambda: (server.stop(), stopped.set()), daemon=True).start()
        assert stopped.wait(WAIT), "stop() waited for a client's body"


def test_baked_server_takes_its_defaults_as_keywords_and_keeps_its_class(
    server: HTTPServer,
) -> None:
    from httpdouble import BakedHTTPServer

    class MyBaked(BakedHTTPServer):
        pass

    baked = MyBaked(server, method="POST")
    assert type(baked.bake(headers={"X": "1"})) is MyBaked
    baked.expect_request("/p").respond_with_data("p")
    assert _get(server, "/p")[0] == 500  # a GET: the baked method is POST
    server.clear()


@pytest.mark.parametrize("argument", ["content_type", "mimetype"])
def test_a_content_type_that_would_inject_a_header_is_refused_at_registration(
    server: HTTPServer, argument: str
) -> None:
    with pytest.raises(HTTPDoubleUsageError, match="Content-Type"):
        server.expect_request("/a").respond_with_data(
            "a", **{argument: "text/plain\r\nX-Injected: 1"}
        )


@pytest.mark.parametrize(("returned", "body"), [(None, b""), ("text", b"text")])
def test_a_subclass_dispatch_may_return_a_str_or_none_as_upstream(
    returned: str | None, body: bytes
) -> None:
    class Mine(HTTPServer):
        def dispatch(self, request: Request) -> Response:
            return returned  # type: ignore[return-value]

    with Mine() as server:
        assert _get(server, "/any") == (200, body)
        server.check()


@pytest.mark.parametrize("returned", [{"not": "a response"}, KeyError("broken dispatch")])
def test_a_subclass_dispatch_that_fails_is_the_users_error(returned: object) -> None:
    class Mine(HTTPServer):
        def dispatch(self, request: Request) -> Response:
            if isinstance(returned, Exception):
                raise returned
            return returned  # type: ignore[return-value]

    with Mine() as server:
        status, body = _get(server, "/any")
        assert status == 500
        assert b"the server's own dispatch() raised" in body
        assert [e.outcome for e in server.log_entries] == [Outcome.HANDLER_ERROR]
        server.clear()


def test_an_out_of_order_request_explained_by_a_matcher_that_raises(server: HTTPServer) -> None:
    from httpdouble import HandlerType, RequestMatcher

    class CannotExplain(RequestMatcher):
        def difference(self, request: Request) -> list[Any]:
            raise KeyError("cannot explain")

    server.expect(CannotExplain("/first"), HandlerType.ORDERED).respond_with_data("1")
    server.expect_ordered_request("/second").respond_with_data("2")
    # A request no ordered handler matches: the one due is asked how it differs, and raises.
    status, body = _get(server, "/third")
    assert status == 500
    assert b"it raised KeyError" in body
    assert [f.kind for f in server.findings] == [Kind.OUT_OF_ORDER]
    server.clear()


def test_hooks_repr_says_what_they_do() -> None:
    from httpdouble.hooks import Chain, Delay, Garbage

    assert repr(Chain(Delay(0.5), Garbage(1, 2))) == (
        "Chain(Delay(0.5), Garbage(prefix_size=1, suffix_size=2))"
    )
    with pytest.raises(HTTPDoubleUsageError, match="invalid seconds"):
        Delay(-1)
    with pytest.raises(HTTPDoubleUsageError, match="invalid hook"):
        Chain("not callable")  # type: ignore[arg-type]
