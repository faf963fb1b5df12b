"""Behaviour pytest-httpserver's users rely on, over real sockets with real clients."""

from __future__ import annotations

import enum
import http.client
import json
import threading
from pathlib import Path

import pytest
import requests
from werkzeug.wrappers import Request, Response

from httpdouble import (
    BakedHTTPServer,
    HTTPDoubleFailure,
    HTTPDoubleUsageError,
    HTTPServer,
    HTTPServerError,
    Kind,
    Outcome,
    TLSCertificates,
)
from httpdouble.hooks import Chain, Delay, Garbage
from httpdouble.pytest_plugin import get_httpserver_listen_address

from .clients import HTTPClient

TIMEOUT = 30

# ------------------------------------------------------------------ post hooks


def _suffix(text: bytes):  # type: ignore[no-untyped-def]
    def hook(request: Request, response: Response) -> Response:
        response.set_data(response.get_data() + text)
        return response

    return hook


def test_post_hooks_run_in_order_on_every_response(server: HTTPServer, client: HTTPClient) -> None:
    handler = server.expect_request("/h").with_post_hook(_suffix(b"-1"))
    assert handler.with_post_hook(_suffix(b"-2")) is handler
    handler.respond_with_data("ok")
    for _ in range(2):  # a hooked static response is rebuilt, never kept with old hook output
        assert client.get(server.url_for("/h")).body == b"ok-1-2"


def test_chain_passes_each_hook_the_response_of_the_one_before(
    server: HTTPServer, client: HTTPClient
) -> None:
    server.expect_request("/c").with_post_hook(
        Chain(_suffix(b"a"), _suffix(b"b"))
    ).respond_with_json("x")
    assert client.get(server.url_for("/c")).body == b'"x"ab'


def test_garbage_puts_fresh_random_bytes_around_the_body(
    server: HTTPServer, client: HTTPClient
) -> None:
    server.expect_request("/g").with_post_hook(Garbage(16, 8)).respond_with_data("OK")
    first = client.get(server.url_for("/g")).body
    second = client.get(server.url_for("/g")).body
    assert len(first) == len(second) == 26
    assert first[16:18] == second[16:18] == b"OK"
    assert first != second  # 24 random bytes alike twice: a 2**-192 chance


@pytest.mark.parametrize(("args", "name"), [((-1,), "prefix_size"), ((0, -5), "suffix_size")])
def test_garbage_refuses_a_negative_size_as_upstream_and_as_usage(
    args: tuple[int, ...], name: str
) -> None:
    with pytest.raises(AssertionError, match=f"{name} should be positive integer") as excinfo:
        Garbage(*args)
    assert isinstance(excinfo.value, HTTPDoubleUsageError)


def test_a_delayed_response_never_holds_up_another_connection(server: HTTPServer) -> None:
    release = threading.Event()

    class Held(Delay):
        def _sleep(self) -> None:
            assert release.wait(TIMEOUT), "the test never released the delayed response"

    server.expect_request("/slow").with_post_hook(Held(0)).respond_with_data("slow")
    server.expect_request("/fast").respond_with_data("fast")
    got: list[bytes] = []
    slow = threading.Thread(
        target=lambda: got.append(requests.get(server.url_for("/slow"), timeout=TIMEOUT).content)
    )
    slow.start()
    try:
        # Answered while the delayed one is still held on its own connection's thread.
        assert requests.get(server.url_for("/fast"), timeout=TIMEOUT).text == "fast"
        assert got == []
    finally:
        release.set()
        slow.join(TIMEOUT)
    assert got == [b"slow"]


def test_a_delay_longer_than_the_handler_timeout_still_answers(server: HTTPServer) -> None:
    server.handler_timeout = 0.05
    server.expect_request("/d").with_post_hook(Delay(0.3)).respond_with_data("late")
    assert requests.get(server.url_for("/d"), timeout=TIMEOUT).text == "late"
    server.check()


def test_a_hook_that_raises_is_a_handler_error(server: HTTPServer) -> None:
    def broken(request: Request, response: Response) -> Response:
        raise KeyError("hook bug")

    server.expect_request("/b").with_post_hook(broken).respond_with_data("never")
    assert requests.get(server.url_for("/b"), timeout=TIMEOUT).status_code == 500
    with pytest.raises(KeyError, match="hook bug"):
        server.check_handler_errors()


def test_with_post_hook_refuses_what_cannot_be_called(server: HTTPServer) -> None:
    with pytest.raises(HTTPDoubleUsageError, match="invalid hook"):
        server.expect_request("/x").with_post_hook("not a hook")  # type: ignore[arg-type]


# ------------------------------------------------------------------ readiness


def test_startup_timeout_checks_readiness_with_a_request_that_is_not_logged() -> None:
    server = HTTPServer(startup_timeout=10)
    server.start()
    try:
        assert server.startup_timeout == 10
        assert server._readiness_check_pending is False
        assert server.total_requests == 0  # the check's own request is not in the log
        server.expect_request("/").respond_with_data("mine")
        assert requests.get(server.url_for("/"), timeout=TIMEOUT).text == "mine"
    finally:
        server.stop()


def test_a_failing_readiness_check_stops_the_server_and_raises() -> None:
    class NeverReady(HTTPServer):
        def wait_for_server_ready(self) -> None:
            raise HTTPServerError("not ready")

    server = NeverReady(startup_timeout=1)
    with pytest.raises(HTTPServerError, match="not ready"):
        server.start()
    assert not server.is_running()


def test_readiness_check_works_over_https(tmp_path: Path) -> None:
    certificates = TLSCertificates(tmp_path)
    server = HTTPServer(ssl_context=certificates.server_context, startup_timeout=10)
    with server:
        assert server.is_running()
        assert server.total_requests == 0


@pytest.mark.parametrize("value", [0, -1, "10", True])
def test_a_bad_startup_timeout_is_refused(value: object) -> None:
    with pytest.raises(HTTPDoubleUsageError, match="invalid startup_timeout"):
        HTTPServer(startup_timeout=value)  # type: ignore[arg-type]


# ------------------------------------------------------------ what suites rely on


def test_clear_restores_the_no_handler_status_code(server: HTTPServer) -> None:
    server.no_handler_status_code = 404
    assert requests.get(server.url_for("/none"), timeout=TIMEOUT).status_code == 404
    server.clear()
    assert server.no_handler_status_code == 500
    assert requests.get(server.url_for("/none"), timeout=TIMEOUT).status_code == 500
    server.clear()


def test_a_handler_function_reads_the_raw_body_of_a_form_post(server: HTTPServer) -> None:
    def echo(request: Request) -> Response:
        return Response(request.data + b"|" + request.form["a"].encode())

    server.expect_request("/form", method="POST").respond_with_handler(echo)
    answer = requests.post(server.url_for("/form"), data={"a": "1", "b": "2"}, timeout=TIMEOUT)
    assert answer.content == b"a=1&b=2|1"


class Color(enum.StrEnum):
    RED = "red"


class Size(enum.IntEnum):
    ONE = 1


def test_json_expectations_compare_enum_members_by_their_value(server: HTTPServer) -> None:
    server.expect_request("/e", json={"color": Color.RED, "size": Size.ONE}).respond_with_data("y")
    answer = requests.post(server.url_for("/e"), json={"color": "red", "size": 1}, timeout=TIMEOUT)
    assert answer.text == "y"
    # An IntEnum of 1 is still not JSON true: bool and int stay apart.
    assert (
        requests.post(server.url_for("/e"), json={"color": "red", "size": True}).status_code == 500
    )
    server.clear()


def test_json_response_body_is_written_with_indent_4_as_upstream(
    server: HTTPServer, client: HTTPClient
) -> None:
    server.expect_request("/j").respond_with_json({"a": [1, 2]})
    assert client.get(server.url_for("/j")).body == json.dumps({"a": [1, 2]}, indent=4).encode()


def test_an_assert_in_a_handler_function_is_raised_by_check_assertions(
    server: HTTPServer,
) -> None:
    def handler(request: Request) -> Response:
        assert request.args.get("id") == "7", "wrong id"
        return Response("ok")

    server.expect_request("/a").respond_with_handler(handler)
    assert requests.get(server.url_for("/a?id=8"), timeout=TIMEOUT).status_code == 500
    server.check_handler_errors()  # not a handler error: an assertion, as upstream
    with pytest.raises(HTTPDoubleFailure, match="handler assertion failed") as excinfo:
        server.check_assertions()
    assert isinstance(excinfo.value.__cause__, AssertionError)
    assert "wrong id" in str(excinfo.value.__cause__)
    assert [e.outcome for e in server.log_entries] == [Outcome.HANDLER_ERROR]
    assert [f.kind for f in server.findings] == [Kind.HANDLER_ASSERTION]


@pytest.mark.parametrize(("given", "body"), [("text", b"text"), (None, b"")])
def test_respond_with_response_takes_a_str_or_none_as_upstream(
    server: HTTPServer, client: HTTPClient, given: str | None, body: bytes
) -> None:
    server.expect_request("/r").respond_with_response(given)  # type: ignore[arg-type]
    reply = client.get(server.url_for("/r"))
    assert (reply.status, reply.body) == (200, body)


def test_ordered_handlers_refuse_any_other_request_while_they_wait(server: HTTPServer) -> None:
    server.expect_ordered_request("/1").respond_with_data("1")
    server.expect_request("/health").respond_with_data("up")
    connection = http.client.HTTPConnection("localhost", server.port, timeout=TIMEOUT)
    try:
        statuses = []
        for path in ("/health", "/1"):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
        assert statuses == [500, 500]
    finally:
        connection.close()
    assert server.permanently_failed
    assert [f.kind for f in server.findings] == [Kind.OUT_OF_ORDER, Kind.REFUSED]
    server.clear()


def test_regex_uri_is_anchored_at_the_start_only(server: HTTPServer) -> None:
    import re

    server.expect_request(re.compile("/foo")).respond_with_data("foo")
    assert requests.get(server.url_for("/foo/bar/"), timeout=TIMEOUT).text == "foo"
    assert requests.get(server.url_for("/x/foo"), timeout=TIMEOUT).status_code == 500
    server.clear()


def test_repr_is_upstreams(server: HTTPServer) -> None:
    handler = server.expect_request("/p", method="POST")
    assert repr(server) == f"<HTTPServer host=localhost port={server.port}>"
    assert repr(handler) == (
        "<RequestHandler uri='/p' method='POST' query_string=None headers={} data=None"
        " json=<UNDEFINED>>"
    )


def test_baked_server_is_a_context_manager_that_stops_only_what_it_started() -> None:
    server = HTTPServer()
    baked = server.bake(method="GET")
    assert isinstance(baked.bake(headers={"X": "1"}), BakedHTTPServer)
    assert repr(baked) == f"<BakedHTTPServer defaults={{'method': 'GET'}} server={server!r}>"
    with baked:
        with baked:
            baked.expect_request("/b").respond_with_data("b")
        assert server.is_running()
        assert requests.get(server.url_for("/b"), timeout=TIMEOUT).text == "b"
    assert not server.is_running()


def test_get_httpserver_listen_address_reads_upstreams_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PYTEST_HTTPSERVER_HOST", raising=False)
    monkeypatch.delenv("PYTEST_HTTPSERVER_PORT", raising=False)
    assert get_httpserver_listen_address() == (None, None)
    monkeypatch.setenv("PYTEST_HTTPSERVER_HOST", "127.0.0.2")
    monkeypatch.setenv("PYTEST_HTTPSERVER_PORT", "8123")
    assert get_httpserver_listen_address() == ("127.0.0.2", 8123)
    monkeypatch.setenv("PYTEST_HTTPSERVER_PORT", "abc")
    with pytest.raises(HTTPDoubleUsageError, match="PYTEST_HTTPSERVER_PORT"):
        get_httpserver_listen_address()


def test_responses_carry_a_werkzeug_server_header_as_upstream(
    server: HTTPServer, client: HTTPClient
) -> None:
    server.expect_request("/s").respond_with_data("s")
    server.expect_request("/own").respond_with_data("o", headers={"Server": "mine/1"})
    server.expect_request("/f").respond_with_handler(lambda request: Response("f"))
    for path in ("/s", "/s", "/f"):  # the first and the kept static reply, and a function's
        assert client.get(server.url_for(path)).headers["Server"].startswith("Werkzeug/")
    assert client.get(server.url_for("/own")).headers.getlist("Server") == ["mine/1"]
    assert (
        requests.get(server.url_for("/none"), timeout=TIMEOUT)
        .headers["Server"]
        .startswith("Werkzeug/")
    )
    server.clear()
