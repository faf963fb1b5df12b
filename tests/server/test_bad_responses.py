"""A handler's response that HTTP/1.1 cannot carry is the handler's error, not ours.

The wire refuses to send a status or header that would break the response framing
(CR or LF in a header name or the status line, a status that is not three digits),
text that is not latin-1, or a streamed body that raises. Each is answered with a 500,
logged as a 500 ``HANDLER_ERROR``, and kept as a handler-error finding whose cause is
the original exception; the server goes on serving.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from werkzeug.wrappers import Request, Response

from httpdouble import HTTPServer, Kind, Outcome

from ..reliability.rawhttp import exchange

INJECTED = re.compile(rb"[\r\n]X-Injected")  # a header line of its own (not the reason text)


def _streamed(error: BaseException) -> Callable[[Request], Response]:
    def body() -> Iterator[bytes]:
        yield b"first part"
        raise error

    return lambda request: Response(body(), direct_passthrough=True)


def _response(**kwargs: object) -> Callable[[Request], Response]:
    return lambda request: Response("x", **kwargs)  # type: ignore[arg-type]


BAD = {
    "crlf-in-header-name": (_response(headers=[("X-A\r\nX-Injected", "1")]), "header name"),
    "colon-in-header-name": (_response(headers=[("X-A: b", "1")]), "header name"),
    "space-in-header-name": (_response(headers=[("X A", "1")]), "header name"),
    "crlf-in-status-line": (_response(status="200 OK\r\nX-Injected: 1"), "status"),
    "four-digit-status": (_response(status=1000), "status"),
    "two-digit-status": (_response(status="20 OK"), "status"),
    "status-with-leading-zero": (_response(status="099 Odd"), "status"),
    "non-latin1-header-value": (_response(headers=[("X-Snow", "\u2603")]), "latin-1"),
    "non-latin1-header-name": (_response(headers=[("X-\u2603", "1")]), "header name"),
    "control-char-in-header-value": (_response(headers=[("X-A", "a\x01b")]), "control"),
    "streamed-body-raises": (_streamed(ValueError("stream broke")), "ValueError"),
    "streamed-body-keyboard-interrupt": (_streamed(KeyboardInterrupt()), "KeyboardInterrupt"),
}


@pytest.mark.parametrize(("handler", "words"), BAD.values(), ids=BAD)
def test_a_response_the_wire_cannot_carry_is_a_logged_500_handler_error(
    server: HTTPServer, handler: Callable[[Request], Response], words: str
) -> None:
    server.no_handler_status_code = 404
    server.expect_request("/bad").respond_with_handler(handler)
    server.expect_request("/good").respond_with_data("good")
    payload = (
        b"GET /bad HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /good HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    result = exchange(server.port, payload)
    assert result.statuses[0] == 500
    body = result.responses[0][2]
    assert not INJECTED.search(result.data)
    assert words in body.decode("utf-8")
    # The log says what the client got, and the test hears of it as a handler error.
    entry = server.log_entries[0]
    assert entry.outcome is Outcome.HANDLER_ERROR
    assert entry.response.status_code == 500
    assert entry.request is not None
    assert entry.request.path == "/bad"
    (finding,) = server.findings
    assert finding.kind is Kind.HANDLER_ERROR
    assert words in finding.detail
    assert finding.cause is not None
    assert "internal error in httpdouble" not in finding.detail
    # The server goes on, on a new connection.
    assert exchange(server.port, payload.split(b"\r\n\r\n", 1)[1]).statuses == [200]
    server.clear()


def test_a_static_response_with_a_bad_header_is_refused_each_time_it_is_served(
    server: HTTPServer,
) -> None:
    """The dispatcher encodes a static response's head once; the wire checks it there too.

    Registration refuses such a header, so the response function is swapped in afterwards
    (``request_handler`` is the pytest-httpserver attribute that holds it).
    """
    handler = server.expect_request("/static")
    handler.respond_with_data("x")
    handler.request_handler = lambda request: Response("x", headers=[("X-A\nX-Injected", "1")])
    for _ in range(2):
        result = exchange(server.port, b"GET /static HTTP/1.1\r\nHost: x\r\n\r\n")
        assert result.statuses == [500]
        assert not INJECTED.search(result.data)
    assert [e.outcome for e in server.log_entries] == [Outcome.HANDLER_ERROR] * 2
    assert [e.response.status_code for e in server.log_entries] == [500, 500]
    assert [f.kind for f in server.findings] == [Kind.HANDLER_ERROR] * 2
    server.clear()


def test_check_handler_errors_raises_the_streamed_bodys_own_exception(
    server: HTTPServer,
) -> None:
    error = ValueError("stream broke")
    server.expect_request("/bad").respond_with_handler(_streamed(error))
    assert exchange(server.port, b"GET /bad HTTP/1.1\r\nHost: x\r\n\r\n").statuses == [500]
    with pytest.raises(ValueError, match="stream broke") as info:
        server.check_handler_errors()
    assert info.value is error
    server.clear()
