"""stop() with a request in flight, and the listening socket's accept queue."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from werkzeug.wrappers import Request, Response

from httpdouble import HTTPServer, Outcome
from httpdouble._log.request_log import LOG_HANDLE, RequestLog, pack

from ..reliability.rawhttp import eventually, read_until_closed

WAIT = 10.0


@pytest.mark.parametrize("handler_timeout", [None, 30.0], ids=["own-thread", "helper-thread"])
def test_an_answer_stop_kept_from_the_client_is_logged_as_not_delivered(
    handler_timeout: float | None,
) -> None:
    server = HTTPServer(handler_timeout=handler_timeout)
    server.start()
    entered = threading.Event()
    release = threading.Event()
    received: list[bytes] = []

    def slow(request: Request) -> Response:
        entered.set()
        release.wait(WAIT)
        return Response("too late")

    server.expect_request("/slow").respond_with_handler(slow)
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        sock.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        assert entered.wait(WAIT)

        def client() -> None:
            # stop() shuts the connection down: the client sees it end, then the handler returns.
            received.append(read_until_closed(sock)[0])
            release.set()

        reader = threading.Thread(target=client)
        reader.start()
        server.stop()
        reader.join(WAIT)
    assert received == [b""]
    eventually(
        lambda: [e.outcome for e in server.log_entries] == [Outcome.NOT_DELIVERED],
        "the log entry says the answer was not delivered",
    )
    (entry,) = server.log_entries
    assert entry.request is not None
    assert entry.request.path == "/slow"
    assert entry.response.status_code == 200  # what would have been sent


def test_a_delivered_answer_stays_matched(server: HTTPServer) -> None:
    server.expect_request("/fast").respond_with_data("ok")
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        sock.sendall(b"GET /fast HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert read_until_closed(sock)[0].endswith(b"ok")
    assert [e.outcome for e in server.log_entries] == [Outcome.MATCHED]


def test_the_listen_backlog_is_the_systems_largest(monkeypatch: pytest.MonkeyPatch) -> None:
    backlogs: list[tuple[int, ...]] = []
    listen = socket.socket.listen

    def spy(sock: socket.socket, *args: int) -> None:
        backlogs.append(args)
        listen(sock, *args)

    monkeypatch.setattr(socket.socket, "listen", spy)
    with HTTPServer():
        pass
    somaxconn = Path("/proc/sys/net/core/somaxconn")
    system = int(somaxconn.read_text()) if somaxconn.exists() else socket.SOMAXCONN
    assert backlogs
    assert all(args == (max(system, socket.SOMAXCONN),) for args in backlogs)


def test_amending_a_log_record_keeps_its_neighbours_and_ignores_a_cleared_log() -> None:
    log = RequestLog()
    first = log.append_record(pack(None, (200, (), b"a"), Outcome.MATCHED, None))
    middle = log.append_record(pack(None, (200, (), b"b"), Outcome.MATCHED, None))
    log.append_record(pack(None, (404, (), b"c"), Outcome.NO_HANDLER, None))
    longer = (500, (("Content-Type", "text/plain"),), b"a much longer body than before")
    assert log.amend(middle, Outcome.HANDLER_ERROR, longer)
    assert log.amend(first, Outcome.NOT_DELIVERED)
    entries = log.entries()
    assert [e.outcome for e in entries] == [
        Outcome.NOT_DELIVERED,
        Outcome.HANDLER_ERROR,
        Outcome.NO_HANDLER,
    ]
    assert [e.response.get_data() for e in entries] == [b"a", longer[2], b"c"]
    assert entries[1].response.status_code == 500
    log.clear()
    log.append_record(pack(None, (200, (), b"new"), Outcome.MATCHED, None))
    assert not log.amend(first, Outcome.NOT_DELIVERED)  # a handle from before clear()
    assert [e.outcome for e in log.entries()] == [Outcome.MATCHED]


def test_the_log_handle_of_a_request_logged_twice_is_not_kept_in_its_record() -> None:
    request = Request.from_values("/twice")
    try:
        log = RequestLog()
        request.environ[LOG_HANDLE] = log.append_record(
            pack(request, (200, (), b""), Outcome.MATCHED, None)
        )
        log.append_record(pack(request, (200, (), b""), Outcome.MATCHED, None))
        second = log.entries()[1]
        assert second.request is not None
        assert LOG_HANDLE not in second.request.environ
    finally:
        request.close()
