"""Reading the log on other threads while the server appends to it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from werkzeug.wrappers import Request

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
