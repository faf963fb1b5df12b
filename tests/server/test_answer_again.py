"""A head answered again: the I/O loop's memo of the last head on a connection (issue 27).

When a connection sends the same head again (a client polling one URL, a load tool) and
only permanent handlers with head-only matchers are registered, the loop answers it from
what it had, without parsing it or looking it up. These tests hold it to the same answers
and the same log as the full path: each change of what a lookup could find is seen by the
very next request on the same kept-alive connection.
"""

from __future__ import annotations

import http.client
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.wrappers import Request

from httpdouble import HTTPServer, Limits, Outcome, RequestMatcher
from httpdouble._server import loop as loop_module

TIMEOUT = 10


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1") as server:
        yield server


@pytest.fixture
def conn(server: HTTPServer) -> Iterator[http.client.HTTPConnection]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    yield connection
    connection.close()


def _get(conn: http.client.HTTPConnection, path: str = "/poll") -> tuple[int, bytes]:
    conn.request("GET", path, headers={"X-Client": "poller"})
    answer = conn.getresponse()
    return answer.status, answer.read()


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many heads the loop parsed (our own function, counted, not replaced)."""
    calls: list[int] = []
    real: Callable[..., Any] = loop_module.parse_head

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(loop_module, "parse_head", counted)
    return calls


def test_a_repeated_head_is_answered_and_logged_without_a_second_parse(
    server: HTTPServer, conn: http.client.HTTPConnection, parses: list[int]
) -> None:
    server.expect_request("/poll", query_string="a=1").respond_with_json({"n": 1})
    answers = [_get(conn, "/poll?a=1") for _ in range(10)]
    assert answers == [answers[0]] * 10
    assert answers[0][0] == 200
    assert b'"n": 1' in answers[0][1]
    # The first use builds the reply, the second is the first served from it; then the memo.
    assert len(parses) == 2, (
        "ten equal heads on one connection\n"
        f"  expected: two parsed (the first use, then the first cached answer)\n"
        f"  got: {len(parses)} parsed"
    )
    assert len(server.log) == 10
    entries = server.log_entries
    for entry in entries:
        assert entry.outcome is Outcome.MATCHED
        assert entry.request.method == "GET"
        assert entry.request.path == "/poll"
        assert entry.request.args.to_dict() == {"a": "1"}
        assert entry.request.headers["X-Client"] == "poller"
        assert entry.response.get_data() == entries[0].response.get_data()
    times = [entry.stamp.time for entry in entries]
    assert times == sorted(times)
    server.check_assertions()
    assert server.get_matching_requests_count(RequestMatcher("/poll", query_string="a=1")) == 10


def test_pipelined_equal_heads_are_each_answered_and_logged(server: HTTPServer) -> None:
    server.expect_request("/poll").respond_with_data("ok")
    head = b"GET /poll HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    count = 40
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(head * count)
        data = b""
        while data.count(b"HTTP/1.1 200 OK") < count or not data.endswith(b"ok"):
            chunk = sock.recv(65536)
            assert chunk, f"closed after {data.count(b'HTTP/1.1 ')} answers"
            data += chunk
    assert data.count(b"HTTP/1.1 200 OK\r\n") == count
    assert data.count(b"\r\n\r\nok") == count
    assert len(server.log) == count
    assert all(request.path == "/poll" for request, _ in server.log)


def test_a_oneshot_registered_between_two_equal_heads_takes_the_next_one(
    server: HTTPServer, conn: http.client.HTTPConnection
) -> None:
    server.expect_request("/poll").respond_with_data("permanent")
    assert [_get(conn) for _ in range(3)] == [(200, b"permanent")] * 3
    server.expect_oneshot_request("/poll").respond_with_data("oneshot")
    assert [_get(conn) for _ in range(3)] == [
        (200, b"oneshot"),
        (200, b"permanent"),
        (200, b"permanent"),
    ]
    server.check_assertions()


def test_a_cleared_server_answers_the_same_head_with_its_new_handler(
    server: HTTPServer, conn: http.client.HTTPConnection
) -> None:
    server.expect_request("/poll").respond_with_data("before")
    assert [_get(conn) for _ in range(3)] == [(200, b"before")] * 3
    server.clear()
    assert _get(conn)[0] == 500  # nothing registered: no handler
    server.clear()
    server.expect_request("/poll").respond_with_data("after")
    assert [_get(conn) for _ in range(3)] == [(200, b"after")] * 3
    assert [response.get_data() for _, response in server.log] == [b"after"] * 3


def test_a_new_response_of_the_same_handler_is_sent_at_once(
    server: HTTPServer, conn: http.client.HTTPConnection
) -> None:
    handler = server.expect_request("/poll")
    handler.respond_with_data("first")
    assert [_get(conn) for _ in range(3)] == [(200, b"first")] * 3
    handler.respond_with_data("second", status=201)
    assert [_get(conn) for _ in range(3)] == [(201, b"second")] * 3


def test_an_earlier_handler_registered_later_for_the_same_head_is_seen(
    server: HTTPServer, conn: http.client.HTTPConnection
) -> None:
    server.expect_request("/poll").respond_with_data("any method")
    assert [_get(conn) for _ in range(3)] == [(200, b"any method")] * 3
    server.expect_ordered_request("/poll").respond_with_data("ordered")
    assert _get(conn) == (200, b"ordered")
    assert _get(conn) == (200, b"any method")


def test_a_matcher_of_the_users_sees_every_request(
    server: HTTPServer, conn: http.client.HTTPConnection, parses: list[int]
) -> None:
    seen: list[str] = []

    class Counting(RequestMatcher):
        def match(self, request: Request) -> bool:
            seen.append(request.path)
            return super().match(request)

    server.expect(Counting("/poll")).respond_with_data("ok")
    assert [_get(conn) for _ in range(6)] == [(200, b"ok")] * 6
    assert seen == ["/poll"] * 6
    assert len(parses) == 6  # user code runs: every head is parsed and looked up


def test_a_header_matcher_is_asked_for_every_request(
    server: HTTPServer, conn: http.client.HTTPConnection, parses: list[int]
) -> None:
    asked: list[str | None] = []

    def comparator(actual: str | None, expected: str) -> bool:
        asked.append(actual)
        return actual == expected

    from httpdouble import HeaderValueMatcher

    server.expect_request(
        "/poll",
        headers={"X-Client": "poller"},
        header_value_matcher=HeaderValueMatcher({"X-Client": comparator}),
    ).respond_with_data("ok")
    assert [_get(conn) for _ in range(4)] == [(200, b"ok")] * 4
    assert asked == ["poller"] * 4
    assert len(parses) == 4


def test_smaller_limits_apply_to_the_next_equal_head(
    server: HTTPServer, conn: http.client.HTTPConnection
) -> None:
    server.expect_request("/poll").respond_with_data("ok")
    assert [_get(conn) for _ in range(3)] == [(200, b"ok")] * 3
    server.limits = Limits(max_header_count=1)  # the head has Host, X-Client and more
    status, _ = _get(conn)
    assert status == 431
    server.clear_assertions()


def test_each_connection_logs_its_own_peer_when_both_repeat_a_head(server: HTTPServer) -> None:
    server.expect_request("/poll").respond_with_data("ok")
    first = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    second = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        for _ in range(4):  # interleaved: each connection repeats its own head
            assert _get(first) == (200, b"ok")
            assert _get(second) == (200, b"ok")
        ports = {first.sock.getsockname()[1], second.sock.getsockname()[1]}
        logged = [int(request.environ["REMOTE_PORT"]) for request, _ in server.log]
    finally:
        first.close()
        second.close()
    assert len(logged) == 8
    assert set(logged) == ports
    assert logged[0::2] == [logged[0]] * 4
    assert logged[1::2] == [logged[1]] * 4
    assert logged[0] != logged[1]


def test_a_big_reply_answered_again_is_logged_whole_and_matched_by_the_log_readers(
    server: HTTPServer, conn: http.client.HTTPConnection
) -> None:
    body = bytes(range(256)) * 16  # 4 KiB: the log keeps it once, by reference
    server.expect_request("/poll").respond_with_data(body)
    assert [_get(conn) for _ in range(6)] == [(200, body)] * 6
    responses = [response.get_data() for _, response in server.log]
    assert responses == [body] * 6
    headers = [dict(response.headers) for _, response in server.log]
    assert headers == [headers[0]] * 6
    assert headers[0]["Content-Length"] == str(len(body))
    matcher = RequestMatcher("/poll", headers={"X-Client": "poller"})
    assert len(list(server.iter_matching_requests(matcher))) == 6
    server.assert_request_made(matcher, count=6)
    assert server.log[-1][0].headers["X-Client"] == "poller"


def test_a_post_hook_added_to_a_cached_reply_runs_for_the_next_equal_head(
    server: HTTPServer, conn: http.client.HTTPConnection
) -> None:
    handler = server.expect_request("/poll")
    handler.respond_with_data("ok")
    assert [_get(conn) for _ in range(3)] == [(200, b"ok")] * 3

    def hook(request: Request, response: Any) -> Any:
        response.headers["X-Hook"] = "ran"
        return response

    handler.with_post_hook(hook)
    for _ in range(2):
        conn.request("GET", "/poll", headers={"X-Client": "poller"})
        answer = conn.getresponse()
        assert answer.read() == b"ok"
        assert answer.getheader("X-Hook") == "ran"
    assert [response.headers.get("X-Hook") for _, response in server.log] == [None] * 3 + [
        "ran"
    ] * 2
