"""Reading the log on other threads while the server appends to it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from httpdouble import HTTPServer, RequestMatcher

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
