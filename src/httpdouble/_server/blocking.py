"""The blocking server: the test itself answers each request, one at a time, in its own thread.

A connection thread that has parsed a request puts it in a queue and waits. The test calls
:meth:`BlockingHTTPServer.assert_request`, which takes the oldest queued request, checks it
against a matcher and returns a :class:`BlockingRequestHandler`; a ``respond_with_*`` call on
that handler hands the response to the waiting connection thread, which sends it.

Every step is bounded: a request no test takes within ``timeout`` seconds, or that is taken but
not answered within ``timeout`` seconds, gets a 500 from the server and becomes a finding, and
``assert_request`` gives up after its own ``timeout``.

Whoever decides the answer to a request (the test thread for a response or a mismatch, the
connection thread for a timeout, ``stop()`` for a request still waiting) records it in the log,
with its finding if any, under the dispatcher's lock and before the client can read it: the log
and the findings are up to date as soon as the call that decided returns.
"""

from __future__ import annotations

import collections
import enum
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, Self

from werkzeug.wrappers import Request, Response

from .._app.expectations import HeadersType, RequestHandler
from .._errors import HTTPDoubleFailure, HTTPDoubleUsageError, HTTPServerError
from .._log.request_log import Outcome, Stamp, pack_response
from .._matching import masking as _masking
from .._matching.mismatch import Mismatch
from .._matching.query import QueryStringType
from .._matching.request_matcher import (
    HVMATCHER_T,
    METHOD_ALL,
    UNDEFINED,
    URI_DEFAULT,
    RequestMatcher,
    URIType,
)
from .._report.findings import Finding, Kind
from .._report.request_summary import RequestSummary
from .._wire.request import Limits
from .server import DEFAULT_LISTEN_HOST, DEFAULT_LISTEN_PORT, HTTPServer

if TYPE_CHECKING:
    import ssl

    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from .._matching.host import HostType

DEFAULT_TIMEOUT = 30.0


def _seconds(name: str, value: object, *, zero_ok: bool, remedy: str) -> float:
    """Return ``value`` as float seconds, or raise a usage error naming ``name``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not zero_ok)
    ):
        raise HTTPDoubleUsageError(
            name,
            expected="a number of seconds, 0 or more"
            if zero_ok
            else "a positive number of seconds",
            got=value,
            remedy=remedy,
        )
    return float(value)


class _State(enum.Enum):
    QUEUED = "queued"  # waiting for assert_request()
    TAKEN = "taken"  # assert_request() returned a handler for it; waiting for respond_with_*()
    DONE = "done"  # its response is decided and recorded


class _Exchange:
    """One request between the connection thread that read it and the test that answers it."""

    __slots__ = ("by_test", "changed", "request", "response", "state", "timeout")

    def __init__(self, request: Request, changed: threading.Condition, timeout: float) -> None:
        self.request = request
        self.changed = changed  # shares the server's lock
        self.state = _State.QUEUED
        self.response: Response | None = None
        self.by_test = False  # answered by a respond_with_*() call (not by a timeout)
        self.timeout = timeout  # the server's timeout when the request arrived


def _upstream_no_handler_text(request: Request) -> str:
    # pytest-httpserver's exact wording: suites compare the client's body with it.
    return f"No handler found for request {request!r} with data {request.get_data()!r}."


class BlockingRequestHandler:
    """Answers the one request :meth:`BlockingHTTPServer.assert_request` returned it for.

    Call one ``respond_with_*`` method, once: the response goes to the connection thread that
    waits for it, and the client receives it. Built only by ``assert_request``.
    """

    def __init__(self, server: BlockingHTTPServer, exchange: _Exchange) -> None:
        self._server = server
        self._exchange = exchange

    @property
    def request(self) -> Request:
        """The request being answered (read its body, headers or arguments to decide)."""
        return self._exchange.request

    def respond_with_data(
        self,
        response_data: str | bytes = "",
        status: int = 200,
        headers: HeadersType = None,
        mimetype: str | None = None,
        content_type: str | None = None,
    ) -> None:
        """Answer with a fixed body; arguments as :meth:`RequestHandler.respond_with_data`."""
        builder = RequestHandler(RequestMatcher(URI_DEFAULT))
        builder.respond_with_data(response_data, status, headers, mimetype, content_type)
        self._send(builder.respond(self._exchange.request))

    def respond_with_json(
        self,
        response_json: Any,
        status: int = 200,
        headers: HeadersType = None,
        content_type: str = "application/json",
    ) -> None:
        """Answer with ``response_json`` encoded as JSON."""
        builder = RequestHandler(RequestMatcher(URI_DEFAULT))
        builder.respond_with_json(response_json, status, headers, content_type)
        self._send(builder.respond(self._exchange.request))

    def respond_with_response(self, response: Response) -> None:
        """Answer with ``response``, a werkzeug ``Response``."""
        if not isinstance(response, Response):
            raise HTTPDoubleUsageError(
                "response",
                expected="a werkzeug.wrappers.Response",
                got=response,
                remedy="build one with werkzeug.Response(body, status, headers)",
            )
        if not response.is_sequence and not response.direct_passthrough:
            response.make_sequence()  # a streamed body that raises does so here, in the test
        self._send(response)

    def _send(self, response: Response) -> None:
        __tracebackhide__ = True
        self._server._answer_from_test(self._exchange, response)

    def __repr__(self) -> str:
        request, state = self._exchange.request, self._exchange.state.value
        return f"<BlockingRequestHandler {request.method} {request.path} {state}>"


class _NotOnBlockingServer:
    """Hides a method of :class:`HTTPServer` that a blocking server has no use for.

    Reading the attribute raises :class:`AttributeError`, as on pytest-httpserver's blocking
    server, which has no such method; the message says what to use instead.
    """

    def __init__(self, instead: str) -> None:
        self.instead = instead
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type | None = None) -> NoReturn:
        raise AttributeError(
            f"BlockingHTTPServer has no {self.name}(): a blocking server has no registered"
            f" handlers; {self.instead}"
        )


_ANSWER_INSTEAD = (
    "take each request with assert_request(...) and answer it with respond_with_*(),"
    " or use HTTPServer to register handlers in advance"
)


class BlockingHTTPServer(HTTPServer):
    """A server whose requests the test answers one by one, with :meth:`assert_request`.

    :param host: the address to listen on, as for :class:`HTTPServer`.
    :param port: the port; ``0`` lets the system choose.
    :param ssl_context: serve HTTPS with this server-side context.
    :param timeout: seconds a request waits for ``assert_request`` to take it, then again for
        a ``respond_with_*`` call; past either, the client gets a 500 and the test a finding.
    :param no_handler_status_code: status of the answer to a request no ``assert_request``
        took in time, or that did not match.
    :param limits: bounds on request line, headers and body.
    :param port_source: proposes a port when ``port`` is ``0``.
    :param allow_non_loopback: must be ``True`` to listen on a non-loopback address.

    It has no registered handlers: ``expect_request`` and its relatives, ``bake`` and ``wait``
    raise :class:`AttributeError`. The log, the findings, ``check_*``, ``clear*`` and the
    context manager work as on :class:`HTTPServer`.
    """

    def __init__(
        self,
        host: str = DEFAULT_LISTEN_HOST,
        port: int = DEFAULT_LISTEN_PORT,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        no_handler_status_code: int = 500,
        limits: Limits | None = None,
        port_source: Callable[[], int] | None = None,
        allow_non_loopback: bool = False,
    ) -> None:
        timeout = _seconds("timeout", timeout, zero_ok=False, remedy="pass e.g. timeout=5")
        super().__init__(
            host,
            port,
            ssl_context,
            no_handler_status_code=no_handler_status_code,
            limits=limits,
            port_source=port_source,
            allow_non_loopback=allow_non_loopback,
        )
        self._timeout = timeout
        self._queued: collections.deque[_Exchange] = collections.deque()
        # Queued or taken, not answered yet, oldest first (a dict keeps the order).
        self._waiting: dict[_Exchange, None] = {}
        self._arrived = threading.Condition(self._app._lock)
        self._closing = False

    @property
    def timeout(self) -> float:
        """Seconds a request waits to be taken, then to be answered (read on its arrival)."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: float) -> None:
        self._timeout = _seconds("timeout", value, zero_ok=False, remedy="set e.g. 5")

    # ------------------------------------------------------- no registered handlers

    expect = _NotOnBlockingServer(_ANSWER_INSTEAD)
    expect_request = _NotOnBlockingServer(_ANSWER_INSTEAD)
    expect_oneshot_request = _NotOnBlockingServer(_ANSWER_INSTEAD)
    expect_ordered_request = _NotOnBlockingServer(_ANSWER_INSTEAD)
    bake = _NotOnBlockingServer(_ANSWER_INSTEAD)
    wait = _NotOnBlockingServer(
        "assert_request(..., timeout=...) is the wait: it returns when the next request arrives"
    )

    # ---------------------------------------------------------------- the test side

    def assert_request(
        self,
        uri: URIType,
        method: str = METHOD_ALL,
        data: str | bytes | None = None,
        data_encoding: str = "utf-8",
        headers: Mapping[str, str] | None = None,
        query_string: QueryStringType = None,
        header_value_matcher: HVMATCHER_T | None = None,
        json: Any = UNDEFINED,
        timeout: float = DEFAULT_TIMEOUT,
        data_form: Mapping[str, str] | None = None,
        host: HostType | None = None,
    ) -> BlockingRequestHandler:
        """Wait for the next request, check it, and return the handler that answers it.

        Requests are taken in the order they arrived. Arguments as :class:`RequestMatcher`.

        :param timeout: seconds to wait for a request to arrive.
        :param data_form: the form fields the request must have (see :class:`RequestMatcher`).
        :param host: the host the request must have (see :class:`RequestMatcher`).
        :return: the :class:`BlockingRequestHandler` to answer the request with.
        :raises AssertionError: when no request arrived within ``timeout``, or when the request
            does not match (the client then gets the no-handler answer, and the mismatch is
            also kept as a finding, so ``check_assertions()`` raises it again).
        """
        __tracebackhide__ = True
        matcher = self.create_matcher(
            uri,
            method=method,
            data=data,
            data_encoding=data_encoding,
            headers=headers,
            query_string=query_string,
            header_value_matcher=header_value_matcher,
            json=json,
            **({"data_form": data_form} if data_form is not None else {}),
            **({"host": host} if host is not None else {}),
        )
        limit = _seconds(
            "timeout", timeout, zero_ok=True, remedy="pass e.g. timeout=5 to wait five seconds"
        )
        exchange = self._take_next(limit)
        if exchange is None:
            raise HTTPDoubleFailure(
                f"assert_request() timed out: no request arrived within {limit:g} s\n"
                f"  waited for: {matcher.describe()}\n"
                "  to do: check that the code under test sends it to"
                f" {self.url_for('/').rstrip('/')}, or raise the timeout"
            )
        try:
            differences = matcher.difference(exchange.request)
        except BaseException:  # a URIPattern or header comparator of the user's raised
            with self._app._lock:
                if exchange.state is _State.TAKEN:
                    self._unanswered(exchange, "because the matcher of assert_request() raised")
            raise
        if not differences:
            return BlockingRequestHandler(self, exchange)
        answered = self._answer_mismatch(exchange, matcher.describe(), differences)
        summary = RequestSummary.of(exchange.request).lines()
        lines = [
            "the request does not match what assert_request() expected",
            f"  request:  {summary[0]}",
            *(f"            {line}" for line in summary[1:]),
            f"  expected: {_masking.text(matcher.describe())}",
            *(f"    - {_masking.mismatch(m)}" for m in differences),
            f"  the client was answered {self.no_handler_status_code} (no handler)"
            if answered
            else "  the server had answered it already (its timeout passed, or it was stopped)",
        ]
        raise HTTPDoubleFailure("\n".join(lines))

    def _take_next(self, limit: float) -> _Exchange | None:
        """Return the oldest request waiting to be taken, marked taken; ``None`` past ``limit``."""
        deadline = time.monotonic() + limit
        with self._app._lock:
            while True:
                while self._queued:
                    exchange = self._queued.popleft()
                    if exchange.state is _State.QUEUED:
                        exchange.state = _State.TAKEN
                        exchange.changed.notify_all()
                        return exchange
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._arrived.wait(remaining)

    def _answer_mismatch(
        self, exchange: _Exchange, expected: str, differences: list[Mismatch]
    ) -> bool:
        """Answer a request that does not match; ``False`` if it was answered already."""
        with self._app._lock:
            if exchange.state is not _State.TAKEN:
                return False  # answered after its timeout: that is a finding of its own
            finding = Finding(
                Kind.NO_HANDLER,
                Stamp.now(),
                RequestSummary.of(exchange.request),
                expected="the request assert_request() waited for",
                closest=expected,
                differences=tuple(differences),
                detail=f"the client was answered {self.no_handler_status_code} (no handler)",
            )
            lines = [_upstream_no_handler_text(exchange.request), *finding.lines()[1:]]
            response = Response(
                "\n".join(lines) + "\n", self.no_handler_status_code, mimetype="text/plain"
            )
            self._finish(exchange, response, Outcome.NO_HANDLER, finding)
            return True

    def _answer_from_test(self, exchange: _Exchange, response: Response) -> None:
        __tracebackhide__ = True
        with self._app._lock:
            if exchange.state is _State.DONE:
                request = RequestSummary.of(exchange.request).line()
                if exchange.by_test:
                    raise HTTPServerError(
                        f"the request {request} was answered already\n"
                        "  to fix: call one respond_with_*() per handler; take the next"
                        " request with a new assert_request()"
                    )
                raise HTTPDoubleFailure(
                    f"too late to answer {request}: the server answered it with a 500 after"
                    f" waiting timeout={exchange.timeout:g} s for this response\n"
                    "  to do: answer sooner, or raise the server's timeout"
                )
            packed = pack_response(response)
            exchange.by_test = True
            self._finish(exchange, response, Outcome.MATCHED, None, packed)

    def _finish(
        self,
        exchange: _Exchange,
        response: Response,
        outcome: Outcome,
        finding: Finding | None,
        packed: tuple[int, tuple[tuple[str, str], ...], bytes] | None = None,
    ) -> None:
        """Decide ``exchange``'s answer, log it and wake its connection thread (lock held)."""
        exchange.state = _State.DONE
        exchange.response = response
        self._waiting.pop(exchange, None)
        try:
            self._app._record(
                exchange.request,
                pack_response(response) if packed is None else packed,
                outcome,
                finding,
            )
        finally:
            exchange.changed.notify_all()

    # ------------------------------------------------------- the connection side

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI entry point: wait for the test to answer the request."""
        request = Request(environ, populate_request=False)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        """Queue ``request`` for :meth:`assert_request` and wait for the test's answer.

        Waits ``timeout`` seconds to be taken, then ``timeout`` seconds to be answered; past
        either, answers a 500 itself and keeps a finding. Returns the response to send.
        """
        # The body is read first, as pytest-httpserver does, and outside the lock: a client
        # slow to send it holds up its own connection only, and no two threads load it.
        request.get_data()
        with self._app._lock:
            exchange = _Exchange(request, threading.Condition(self._app._lock), self._timeout)
            if self._closing:
                self._expire(exchange, "the server was stopping when it arrived")
            else:
                self._queued.append(exchange)
                self._waiting[exchange] = None
                self._arrived.notify_all()
            limit = exchange.timeout
            exchange.changed.wait_for(lambda: exchange.state is not _State.QUEUED, limit)
            if exchange.state is _State.QUEUED:
                self._expire(exchange, f"no assert_request() took it within timeout={limit:g} s")
            exchange.changed.wait_for(lambda: exchange.state is _State.DONE, limit)
            if exchange.state is _State.TAKEN:
                self._unanswered(exchange, f"within timeout={limit:g} s")
            assert exchange.response is not None
            return exchange.response

    def _expire(self, exchange: _Exchange, why: str) -> None:
        """Answer a request no test took (lock held)."""
        finding = Finding(
            Kind.NO_HANDLER,
            Stamp.now(),
            RequestSummary.of(exchange.request),
            expected="assert_request() to take this request",
            detail=f"{why}; the client was answered {self.no_handler_status_code}",
        )
        response = Response(
            _upstream_no_handler_text(exchange.request),
            self.no_handler_status_code,
            mimetype="text/plain",
        )
        self._finish(exchange, response, Outcome.NO_HANDLER, finding)

    def _unanswered(self, exchange: _Exchange, why: str) -> None:
        """Answer a request the test took but did not answer (lock held)."""
        line = RequestSummary.of(exchange.request).line()
        finding = Finding(
            Kind.ASSERTION,
            Stamp.now(),
            RequestSummary.of(exchange.request),
            expected="a respond_with_*() call on the handler assert_request() returned",
            detail=f"No response for request {line}: none came {why}; the client was answered 500",
        )
        response = Response(
            f"Internal Server Error: no response for request {line}: the test did not answer"
            f" {why}\n",
            500,
            mimetype="text/plain",
        )
        self._finish(exchange, response, Outcome.HANDLER_ERROR, finding)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Bind and serve, as :meth:`HTTPServer.start`."""
        with self._app._lock:
            self._closing = False
        super().start()

    def stop(self) -> None:
        """Answer every request still waiting (each becomes a finding), then stop.

        A request not taken yet gets the no-handler answer; one taken but not answered gets a
        500 ("no response"). Then as :meth:`HTTPServer.stop`.
        """
        with self._app._lock:
            if self.is_running():
                self._closing = True
            for exchange in list(self._waiting):
                if exchange.state is _State.QUEUED:
                    self._expire(exchange, "the server was stopped before any assert_request()")
                else:
                    self._unanswered(exchange, "before the server was stopped")
            self._queued.clear()
        super().stop()

    def __enter__(self) -> Self:
        if not self.is_running():
            self.start()
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__} host={self.host} port={self._port}>"
