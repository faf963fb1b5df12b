"""Reading the log on other threads while the server appends to it."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

import httpdouble._log.request_log as log_module
from httpdouble import HTTPServer, Outcome, RequestMatcher

from .clients import HTTPClient

REQUESTS = 200


def test_readers_racing_the_server_see_every_request_as_one_object(
    server: HTTPServer, make_client: Callable[[str], HTTPClient]
) -> None:
    server.expect_request("/r").respond_with_data("ok")
    seen: dict[int, Request] = {}
    errors: list[BaseException] = []
    done = threading.Event()
    everything = RequestMatcher("/r")

    def read() -> None:
        rounds = 0
        try:
            while not done.is_set():
                rounds += 1
                log = server.log
                if log:
                    newest, _ = log[-1]
                    if seen.setdefault(int(newest.args["i"]), newest) is not newest:
                        raise AssertionError(f"two objects for request {newest.args['i']}")
                if rounds % 10 == 0:
                    indexes = [int(request.args["i"]) for request, _ in log]
                    assert indexes == list(range(len(log)))
                    assert server.get_matching_requests_count(everything) >= len(log)
                time.sleep(0.0005)
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    readers = [threading.Thread(target=read, name=f"log-reader-{n}") for n in range(2)]
    for reader in readers:
        reader.start()
    try:
        client = make_client("http.client")  # one keep-alive connection
        for index in range(REQUESTS):
            assert client.get(server.url_for(f"/r?i={index}")).status == 200
    finally:
        done.set()
        for reader in readers:
            reader.join(30)
    assert not any(reader.is_alive() for reader in readers)
    assert errors == []
    log = server.log
    assert [int(request.args["i"]) for request, _ in log] == list(range(REQUESTS))
    assert seen  # the readers did read while requests arrived
    assert all(log[index][0] is request for index, request in seen.items())
    assert server.get_matching_requests_count(everything) == REQUESTS


def test_loop_served_entries_are_matched_on_their_request_line_and_built_when_read(
    server: HTTPServer, make_client: Callable[[str], HTTPClient]
) -> None:
    server.expect_request("/r").respond_with_data("ok")
    client = make_client("http.client")
    for index in range(20):
        headers = {"X-Even": "yes"} if index % 2 == 0 else {}
        assert client.get(server.url_for(f"/r?i={index}"), headers=headers).status == 200
    assert server.get_matching_requests_count(RequestMatcher("/r", query_string="i=3")) == 1
    assert not any("environ" in vars(request) for request, _ in server.log)
    server.assert_request_made(RequestMatcher("/r", headers={"X-Even": "yes"}), count=10)
    # the header check read the headers of the requests whose path matched, and no more
    assert all("environ" in vars(request) for request, _ in server.log)
    request, response = server.log[4]
    assert (request.args["i"], request.headers["X-Even"], request.host) == (
        "4",
        "yes",
        f"{server.host}:{server.port}",
    )
    assert (response.status_code, response.get_data(), response.mimetype) == (
        200,
        b"ok",
        "text/plain",
    )
    assert repr(request) == f"<Request 'http://{server.host}:{server.port}/r?i=4' [GET]>"


def _read(request: Request, response: Response) -> dict[str, Any]:
    """What users read from a logged entry."""
    environ = {k: v for k, v in request.environ.items() if k not in ("wsgi.input", "wsgi.errors")}
    return {
        "line": (request.method, request.path, request.query_string, request.url),
        "headers": list(request.headers.items()),
        "data": (request.get_data(), request.json, request.remote_addr, request.scheme),
        "environ": environ,
        "response": (
            response.status_code,
            list(response.headers.items()),
            response.get_data(),
            response.json,
        ),
        "repr": (repr(request), repr(response)),
    }


def test_the_newest_entry_read_after_its_request_reads_as_when_decoded_later(
    server: HTTPServer, make_client: Callable[[str], HTTPClient]
) -> None:
    server.expect_request("/j", method="POST").respond_with_json(
        {"ok": True}, status=201, headers={"X-Reply": "1"}
    )
    client = make_client("http.client")
    log = server._app._log
    newest: list[tuple[Request, Response]] = []
    for index in range(4):
        body = b'{"n": %d}' % index
        reply = client.post(
            server.url_for(f"/j?i={index}"),
            body,
            headers={"Content-Type": "application/json", "X-Mine": "café"[: index + 1]},
        )
        assert reply.status == 201
        if index:  # the first request is served from an environ, the rest by the loop
            assert log._segment.newest[0] == index  # read from the values it was made of
        newest.append(server.log[-1])
    read_now = [_read(*entry) for entry in newest]
    log._segment.decoded.clear()  # decoded again, this time from the marshalled records
    decoded = list(server.log)
    assert all(a[0] is not b[0] for a, b in zip(newest, decoded, strict=True))
    assert [_read(*entry) for entry in decoded] == read_now


def _three_served_by_the_loop(server: HTTPServer) -> tuple[Any, Any]:
    """Serve ``/a?i=0`` to ``/a?i=2`` from a cached reply; return the log and its segment."""
    server.expect_request("/a").respond_with_data("ok")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        for i in range(3):
            connection.request("GET", f"/a?i={i}")
            assert connection.getresponse().read() == b"ok"
    finally:
        connection.close()
    log = server.application._log
    return log, log._segment


@pytest.mark.parametrize("other_reader", ["during", "none"])
@pytest.mark.parametrize("amended", ["the newest", "an older one"])
def test_an_amend_while_the_newest_entry_is_paired_without_the_lock_is_not_lost(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch, amended: str, other_reader: str
) -> None:
    # log[-1] pairs the newest record from the values it was made of, without the lock. An
    # amend lands in the middle of that pairing (made to happen there), and maybe a second
    # reader reads the entry right after it: the first read must return the record as
    # amended, what the second reader got, and every later read the same objects.
    log, segment = _three_served_by_the_loop(server)
    assert segment.newest[0] == 2, "the loop's records are kept as the newest"
    index = 2 if amended == "the newest" else 1
    original = log_module.pair_of
    failed = (500, (("Content-Type", "text/plain"),), b"handler failed")
    second: list[Any] = []
    made: list[Any] = []

    def amended_meanwhile(*args: Any) -> Any:
        monkeypatch.setattr(log_module, "pair_of", original)
        assert log.amend((segment, index), Outcome.HANDLER_ERROR, failed)
        if other_reader == "during":
            second.append(server.log[-1])  # another reader, after the amend
        made.append(original(*args))  # the first reader's pair, from the values it read
        return made[0]

    monkeypatch.setattr(log_module, "pair_of", amended_meanwhile)
    first = server.log[-1]
    if second:
        assert first is second[0], "two readers of one entry got two objects"
    assert first is not made[0], "a pair made from replaced values was returned"
    assert first[0].args["i"] == "2"
    assert first[1].status_code == (500 if amended == "the newest" else 200)
    assert server.log[-1] is first
    statuses = [response.status_code for _, response in server.log]
    assert statuses == [500 if i == index else 200 for i in range(3)]
    outcomes = [entry.outcome for entry in server.log_entries]
    assert outcomes == [Outcome.HANDLER_ERROR if i == index else Outcome.MATCHED for i in range(3)]
    assert server.log_entries[2].request is server.log[-1][0]
    assert server.log_entries[2].response is server.log[-1][1]


def test_a_read_while_an_amend_copies_the_decoded_entries_keeps_its_pair(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An amend of an older record copies the dict of decoded entries, then puts the copy
    # in place. A log[-1] of the newest entry on another thread, between the two, must not
    # return a pair the copy lacks: a later read would then make a second object.
    log, segment = _three_served_by_the_loop(server)
    got: list[Any] = []
    reader = threading.Thread(target=lambda: got.append(server.log[-1]))
    real_dict = dict

    def copy_then_let_a_reader_in(*args: Any) -> Any:
        monkeypatch.delattr(log_module, "dict")
        copied = real_dict(*args)
        reader.start()
        reader.join(timeout=0.2)  # it waits for the log's lock if it needs it: let it
        return copied

    monkeypatch.setattr(log_module, "dict", copy_then_let_a_reader_in, raising=False)
    failed = (500, (("Content-Type", "text/plain"),), b"handler failed")
    assert log.amend((segment, 1), Outcome.HANDLER_ERROR, failed)
    reader.join(timeout=10)
    assert got, "the reader did not finish"
    assert server.log[-1] is got[0], "the newest entry became a second object"
    assert server.log_entries[2].request is got[0][0]
    assert [response.status_code for _, response in server.log] == [200, 500, 200]


def _seen(request: Request, response: Response) -> tuple[Any, ...]:
    return (
        request.url,
        list(request.headers.items()),
        request.get_data(),
        response.status_code,
        list(response.headers.items()),
        response.get_data(),
    )


def _get(connection: http.client.HTTPConnection, index: int) -> None:
    connection.request("GET", f"/a?i={index}")
    assert connection.getresponse().read() == b"ok"


def test_once_a_test_reads_its_newest_entry_each_append_pairs_the_next_one(
    server: HTTPServer,
) -> None:
    # Nobody read the log yet: nothing is paired ahead of a read (an unread log stays
    # records only). After a read of one entry, the appender pairs each newest record,
    # and a read returns that pair: the same objects as any later read, with the values
    # a read of the marshalled record gives.
    log, segment = _three_served_by_the_loop(server)
    assert segment.newest[0] == 2
    assert segment.newest[2] is None
    assert server.log[-1][0].args["i"] == "2"
    assert segment.read
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        newest = []
        for i in range(3, 6):
            _get(connection, i)
            assert segment.newest[0] == i
            made = segment.newest[2]
            assert made is not None, "the appender did not pair the newest record"
            newest.append(server.log[-1])
            assert newest[-1] is made
        assert [request.args["i"] for request, _ in newest] == ["3", "4", "5"]
        assert all(server.log[i + 3] is pair for i, pair in enumerate(newest))
        read_now = [_seen(*pair) for pair in newest]
        log._segment.decoded.clear()  # decoded again, from the marshalled records
        assert [_seen(*pair) for pair in list(server.log)[3:]] == read_now
        server.clear_log()
        assert not log._segment.read, "a new segment (the next test) starts unread"
        _get(connection, 6)
        assert log._segment.newest[0] == 0
        assert log._segment.newest[2] is None
    finally:
        connection.close()


def test_an_amend_while_a_read_takes_the_appenders_pair_is_not_lost(
    server: HTTPServer,
) -> None:
    # The pair the appender made is taken without the lock too: an amend landing while a
    # reader publishes it must win, as for a pair the reader makes (see above).
    log, segment = _three_served_by_the_loop(server)
    assert server.log[-1][0].args["i"] == "2"  # the read that pairs the next record ahead
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        _get(connection, 3)
    finally:
        connection.close()
    made = segment.newest[2]
    assert made is not None
    failed = (500, (("Content-Type", "text/plain"),), b"handler failed")

    class AmendedWhilePublishing(dict):  # type: ignore[type-arg]
        def setdefault(self, key: Any, default: Any = None) -> Any:
            assert log.amend((segment, 3), Outcome.HANDLER_ERROR, failed)
            return super().setdefault(key, default)

    segment.decoded = AmendedWhilePublishing(segment.decoded)
    first = server.log[-1]
    assert first is not made, "a pair of the record before its amend was returned"
    assert first[1].status_code == 500
    assert first[0].args["i"] == "3"
    assert server.log[-1] is first
    assert server.log_entries[3].outcome is Outcome.HANDLER_ERROR
    assert server.log_entries[3].response is first[1]
