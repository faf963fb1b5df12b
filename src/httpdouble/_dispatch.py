"""Dispatch: the WSGI application behind the server, usable without any socket.

It owns the registered handlers, the request log and the findings, and every
method of the public API that does not touch a socket. :class:`HTTPServer`
adds the socket, the thread and the lifecycle on top of it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from ._errors import HandlerTimeout, HTTPDoubleFailure, HTTPDoubleUsageError
from ._expectations import HandlerType, Lookup, Registry, RequestHandler
from ._findings import Finding, Kind, RequestSummary, failure_message, format_exception
from ._log import LogEntry, Outcome, RequestLog, Stamp
from ._matching import (
    METHOD_ALL,
    UNDEFINED,
    HeaderValueMatcher,
    QueryStringType,
    RequestMatcher,
    URIType,
    closest,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

_OUTCOME_KIND = {
    Lookup.NO_HANDLER: (Outcome.NO_HANDLER, Kind.NO_HANDLER),
    Lookup.OUT_OF_ORDER: (Outcome.OUT_OF_ORDER, Kind.OUT_OF_ORDER),
    Lookup.REFUSED: (Outcome.REFUSED, Kind.REFUSED),
}


def _check_matcher(matcher: object) -> None:
    if not isinstance(matcher, RequestMatcher):
        raise HTTPDoubleUsageError(
            "matcher",
            expected="a RequestMatcher",
            got=matcher,
            remedy="build one with RequestMatcher('/path', method='GET')",
        )


@dataclass(frozen=True)
class WaitingSettings:
    """Defaults for :meth:`RequestDispatcher.wait`."""

    raise_assertions: bool = True
    stop_on_nohandler: bool = True
    timeout: float = 5.0


class Waiting:
    """What :meth:`RequestDispatcher.wait` yields; filled in when the block ends.

    :ivar result: ``True`` when every oneshot and ordered handler was used in time.
    :ivar elapsed_time: seconds spent waiting after the block.
    """

    def __init__(self) -> None:
        self.result = False
        self.elapsed_time = 0.0


DEFAULT_HANDLER_TIMEOUT = 30.0


def _first_line(exc: BaseException) -> str:
    """The client gets one short line; the whole exception goes to the test."""
    text = str(exc)
    return text.splitlines()[0] if text else ""


def _check_timeout(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e9:
        raise HTTPDoubleUsageError(
            "handler_timeout",
            expected="a positive number of seconds, or None for no limit",
            got=value,
            remedy=f"pass handler_timeout=5.0, or leave the default {DEFAULT_HANDLER_TIMEOUT}",
        )
    return float(value)


def _respond_in_time(handler: RequestHandler, request: Request, timeout: float) -> Response:
    """Run the user's handler function on a thread of its own and wait ``timeout`` at most.

    A handler that hangs keeps its (daemon) thread; the client is answered anyway.
    """
    outcome: list[Response | BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append(handler.respond(request))
        except BaseException as exc:  # handed over to the connection thread
            outcome.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="httpdouble-handler", daemon=True).start()
    if not done.wait(timeout):
        raise HandlerTimeout(
            f"the handler function for {handler.matcher.describe()} did not return"
            f" within handler_timeout={timeout:g} s\n"
            "  to fix: make the function return sooner, or raise the limit for this test"
            " with server.handler_timeout = <seconds> (None: no limit)"
        )
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


class RequestDispatcher:
    """Handlers, log and findings of one server, and the WSGI app that uses them.

    :param no_handler_status_code: the status sent when no handler matches.
    :param default_waiting_settings: defaults for :meth:`wait`.
    :param handler_timeout: seconds a handler function (``respond_with_handler``)
        may take; past it the client gets a 500 and the test a :class:`~httpdouble.HandlerTimeout`.
        ``None`` runs handler functions without a limit, on the connection's thread.
    """

    def __init__(
        self,
        *,
        no_handler_status_code: int = 500,
        default_waiting_settings: WaitingSettings | None = None,
        handler_timeout: float | None = DEFAULT_HANDLER_TIMEOUT,
    ) -> None:
        if (
            not isinstance(no_handler_status_code, int)
            or isinstance(no_handler_status_code, bool)
            or not 100 <= no_handler_status_code <= 999
        ):
            raise HTTPDoubleUsageError(
                "no_handler_status_code",
                expected="an int HTTP status from 100 to 999",
                got=no_handler_status_code,
                remedy="pass e.g. no_handler_status_code=404, or leave the default 500",
            )
        if default_waiting_settings is not None and not isinstance(
            default_waiting_settings, WaitingSettings
        ):
            raise HTTPDoubleUsageError(
                "default_waiting_settings",
                expected="a WaitingSettings or None",
                got=default_waiting_settings,
                remedy="pass WaitingSettings(timeout=2.0) or None",
            )
        self.no_handler_status_code = no_handler_status_code
        self.handler_timeout = _check_timeout(handler_timeout)
        self.default_waiting_settings = default_waiting_settings or WaitingSettings()
        self._lock = threading.RLock()
        self._registry = Registry()
        self._log = RequestLog()
        self._findings: list[Finding] = []
        self._unraised: list[Finding] = []
        self._wake: threading.Event | None = None
        self._wake_on_nohandler = False
        self._in_flight = 0

    # ------------------------------------------------------------ registration

    def expect(
        self, matcher: RequestMatcher, handler_type: HandlerType = HandlerType.PERMANENT
    ) -> RequestHandler:
        """Register ``matcher`` with the given lifetime and return its handler."""
        if not isinstance(matcher, RequestMatcher):
            raise HTTPDoubleUsageError(
                "matcher",
                expected="a RequestMatcher",
                got=matcher,
                remedy="build one with RequestMatcher('/path', method='GET')",
            )
        if not isinstance(handler_type, HandlerType):
            raise HTTPDoubleUsageError(
                "handler_type",
                expected="a HandlerType (PERMANENT, ONESHOT or ORDERED)",
                got=handler_type,
                remedy="pass e.g. HandlerType.ONESHOT",
            )
        handler = RequestHandler(matcher, handler_type)
        with self._lock:
            self._registry.add(handler)
        return handler

    def expect_request(
        self,
        uri: URIType,
        method: str = METHOD_ALL,
        data: str | bytes | None = None,
        data_encoding: str = "utf-8",
        headers: Mapping[str, str] | None = None,
        query_string: QueryStringType = None,
        header_value_matcher: HeaderValueMatcher | None = None,
        handler_type: HandlerType = HandlerType.PERMANENT,
        json: Any = UNDEFINED,
    ) -> RequestHandler:
        """Register a handler (permanent by default); arguments as :class:`RequestMatcher`."""
        matcher = RequestMatcher(
            uri, method, data, data_encoding, headers, query_string, header_value_matcher, json
        )
        return self.expect(matcher, handler_type)

    def expect_oneshot_request(
        self,
        uri: URIType,
        method: str = METHOD_ALL,
        data: str | bytes | None = None,
        data_encoding: str = "utf-8",
        headers: Mapping[str, str] | None = None,
        query_string: QueryStringType = None,
        header_value_matcher: HeaderValueMatcher | None = None,
        json: Any = UNDEFINED,
    ) -> RequestHandler:
        """Register a handler that serves one request and is then removed."""
        matcher = RequestMatcher(
            uri, method, data, data_encoding, headers, query_string, header_value_matcher, json
        )
        return self.expect(matcher, HandlerType.ONESHOT)

    def expect_ordered_request(
        self,
        uri: URIType,
        method: str = METHOD_ALL,
        data: str | bytes | None = None,
        data_encoding: str = "utf-8",
        headers: Mapping[str, str] | None = None,
        query_string: QueryStringType = None,
        header_value_matcher: HeaderValueMatcher | None = None,
        json: Any = UNDEFINED,
    ) -> RequestHandler:
        """Register a oneshot handler that must be used in registration order."""
        matcher = RequestMatcher(
            uri, method, data, data_encoding, headers, query_string, header_value_matcher, json
        )
        return self.expect(matcher, HandlerType.ORDERED)

    # ---------------------------------------------------------------- dispatch

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI entry point."""
        response = self.dispatch(Request(environ))
        # What Response.__call__ does, without its closing-iterator wrapper per request.
        headers = response.get_wsgi_headers(environ)
        app_iter = response.get_app_iter(environ)
        start_response(response.status, headers.to_wsgi_list())
        return app_iter

    def dispatch(self, request: Request) -> Response:
        """Find the handler for ``request``, build the response, and record both."""
        with self._lock:
            lookup, handler = self._registry.lookup(request)
            # A oneshot or ordered handler is used up at lookup, but wait() must not wake
            # before its request has been answered and logged: count it as in flight.
            settles = handler is not None and handler.handler_type is not HandlerType.PERMANENT
            if lookup is Lookup.FOUND and settles:
                self._in_flight += 1
        if lookup is Lookup.FOUND:
            assert handler is not None
            try:
                if handler.is_function and self.handler_timeout is not None:
                    response = _respond_in_time(handler, request, self.handler_timeout)
                else:
                    response = handler.respond(request)
                if not response.direct_passthrough:
                    response.get_data()  # a streamed body that raises is the handler's error
            except BaseException as exc:  # pytest.fail() in a handler is a BaseException
                return self._handler_failed(request, handler, exc, settles)
            self._record(request, response, Outcome.MATCHED, None, settles)
            return response
        return self._no_handler(request, lookup, handler)

    def _no_handler(
        self, request: Request, lookup: Lookup, handler: RequestHandler | None
    ) -> Response:
        outcome, kind = _OUTCOME_KIND[lookup]
        with self._lock:
            if lookup is Lookup.OUT_OF_ORDER:
                assert handler is not None
                head = self._registry.ordered[0]
                best: tuple[RequestMatcher, list[Any]] | None = (
                    head.matcher,
                    head.matcher.difference(request),
                )
                expected = f"the next ordered request first: {head.matcher.describe()}"
            else:
                best = closest(self._registry.all_matchers(), request)
                expected = (
                    "nothing: the server refuses requests since an ordered request"
                    " came out of order; call clear() to reset it"
                    if lookup is Lookup.REFUSED
                    else "a request matching a registered handler"
                )
        finding = Finding(
            kind,
            Stamp.now(),
            RequestSummary.of(request),
            expected=expected,
            closest="" if best is None else best[0].describe(),
            differences=() if best is None else tuple(best[1]),
        )
        text = "\n".join([f"No handler found for this request ({kind.value})", *finding.lines()])
        response = Response(text + "\n", self.no_handler_status_code, mimetype="text/plain")
        self._record(request, response, outcome, finding)
        return response

    def _handler_failed(
        self, request: Request, handler: RequestHandler, exc: BaseException, settles: bool
    ) -> Response:
        finding = Finding(
            Kind.HANDLER_ERROR,
            Stamp.now(),
            RequestSummary.of(request),
            expected=handler.matcher.describe(),
            detail=format_exception(exc),
            cause=exc,
        )
        text = (
            f"Internal Server Error: the handler for {request.method} {request.path}"
            f" raised {type(exc).__name__}: {_first_line(exc)}\n"
        )
        response = Response(text, 500, mimetype="text/plain")
        self._record(request, response, Outcome.HANDLER_ERROR, finding, settles)
        return response

    def record_malformed(self, response: Response, detail: str, request_line: str) -> None:
        """Log a request the server could not parse, and keep it as a finding."""
        finding = Finding(Kind.MALFORMED, Stamp.now(), expected=request_line, detail=detail)
        self._record(None, response, Outcome.MALFORMED, finding)

    def _record(
        self,
        request: Request | None,
        response: Response,
        outcome: Outcome,
        finding: Finding | None,
        settles: bool = False,
    ) -> None:
        stamp = finding.stamp if finding is not None else Stamp.now()
        self._log.append(LogEntry(request, response, outcome, stamp))
        with self._lock:
            if finding is not None:
                self._findings.append(finding)
                self._unraised.append(finding)
            if settles:
                self._in_flight -= 1
            wake = self._wake
            if wake is not None and (
                self._all_used() or (finding is not None and self._wake_on_nohandler)
            ):
                wake.set()

    def _all_used(self) -> bool:
        """Whether every oneshot and ordered handler has been used and answered (lock held)."""
        return not self._registry.pending() and self._in_flight == 0

    # ------------------------------------------------------------ verification

    @property
    def log(self) -> list[tuple[Request, Response]]:
        """``(request, response)`` for every parsed request since the last clear, oldest first."""
        return self._log.pairs()

    @property
    def logged_requests(self) -> int:
        """How many requests the log holds now (since the last clear)."""
        return len(self._log)

    @property
    def total_requests(self) -> int:
        """How many requests this server answered since it was created (clearing keeps it)."""
        return self._log.total

    @property
    def log_entries(self) -> list[LogEntry]:
        """Every log entry, with its outcome and stamp (test, worker, time)."""
        return self._log.entries()

    @property
    def findings(self) -> list[Finding]:
        """Every finding since the last clear, raised or not."""
        with self._lock:
            return list(self._findings)

    @property
    def assertions(self) -> list[str]:
        """Text of the findings :meth:`check_assertions` would raise."""
        with self._lock:
            return [f.render() for f in self._unraised if f.kind is not Kind.HANDLER_ERROR]

    @property
    def handler_errors(self) -> list[BaseException]:
        """Exceptions from handler functions that :meth:`check_handler_errors` would raise."""
        with self._lock:
            return [f.cause for f in self._unraised if f.cause is not None]

    @property
    def permanently_failed(self) -> bool:
        """Whether an ordered request came out of order (every request is refused)."""
        return self._registry.permanently_failed

    def format_matchers(self) -> str:
        """Return every registered matcher, by kind, in lookup order."""
        with self._lock:
            return self._registry.format()

    def _take(self, handler_errors: bool) -> list[Finding]:
        with self._lock:
            taken = [f for f in self._unraised if (f.kind is Kind.HANDLER_ERROR) == handler_errors]
            self._unraised = [f for f in self._unraised if f not in taken]
            return taken

    def check_assertions(self) -> None:
        """Raise one ``AssertionError`` listing every request that went wrong.

        What it raised is not raised again (neither here nor at teardown).
        """
        __tracebackhide__ = True
        taken = self._take(handler_errors=False)
        if taken:
            raise HTTPDoubleFailure(failure_message(taken, at_teardown=False))

    def check_handler_errors(self) -> None:
        """Raise the first exception a handler function raised (each one once)."""
        __tracebackhide__ = True
        with self._lock:
            for finding in self._unraised:
                if finding.cause is not None:
                    self._unraised.remove(finding)
                    raise finding.cause

    def check(self) -> None:
        """Run :meth:`check_assertions` then :meth:`check_handler_errors`."""
        __tracebackhide__ = True
        self.check_assertions()
        self.check_handler_errors()

    def take_findings(self, include_unused: bool = True) -> list[Finding]:
        """Return every finding not raised yet and mark them raised.

        With ``include_unused``, also the oneshot and ordered handlers never
        used (the teardown check uses this).
        """
        with self._lock:
            taken, self._unraised = self._unraised, []
            if include_unused and not self._registry.permanently_failed:
                stamp = Stamp.now()
                taken.extend(
                    Finding(
                        Kind.UNUSED,
                        stamp,
                        expected=f"{h.handler_type.value} {h.matcher.describe()}",
                    )
                    for h in self._registry.pending()
                )
            return taken

    def iter_matching_requests(
        self, matcher: RequestMatcher
    ) -> Iterator[tuple[Request, Response]]:
        """Yield ``(request, response)`` from the log for requests that ``matcher`` matches."""
        _check_matcher(matcher)
        for request, response in self._log.pairs():
            if matcher.match(request):
                yield request, response

    def get_matching_requests_count(self, matcher: RequestMatcher) -> int:
        """Return how many logged requests ``matcher`` matches."""
        return sum(1 for _ in self.iter_matching_requests(matcher))

    def assert_request_made(self, matcher: RequestMatcher, count: int = 1) -> None:
        """Raise ``AssertionError`` unless exactly ``count`` logged requests match ``matcher``."""
        __tracebackhide__ = True
        _check_matcher(matcher)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise HTTPDoubleUsageError(
                "count",
                expected="an int of 0 or more",
                got=count,
                remedy="pass how many matching requests the log must hold, e.g. count=2",
            )
        found = self.get_matching_requests_count(matcher)
        if found == count:
            return
        requests = [req for req, _ in self._log.pairs()]
        lines = [
            f"expected {count} request(s) matching {matcher.describe()}",
            f"got {found}, among {len(requests)} logged request(s)",
        ]
        nearest = min(
            ((req, matcher.difference(req)) for req in requests),
            key=lambda pair: len(pair[1]),
            default=None,
        )
        if nearest is not None and nearest[1]:
            lines.append(f"closest logged request: {RequestSummary.of(nearest[0]).line()}")
            lines.extend(f"  - {m}" for m in nearest[1])
        lines.append("to do: check the request your code sends, or the count you expect")
        raise HTTPDoubleFailure("\n".join(lines))

    # ----------------------------------------------------------------- clearing

    def clear(self) -> None:
        """Forget handlers, log, findings and the ordered-failure state."""
        with self._lock:
            self._registry.clear()
            self._findings = []
            self._unraised = []
            self._log.clear()

    def clear_log(self) -> None:
        """Forget the request log."""
        self._log.clear()

    def clear_assertions(self) -> None:
        """Forget findings other than handler errors."""
        with self._lock:
            self._unraised = [f for f in self._unraised if f.kind is Kind.HANDLER_ERROR]
            self._findings = [f for f in self._findings if f.kind is Kind.HANDLER_ERROR]

    def clear_handler_errors(self) -> None:
        """Forget exceptions raised by handler functions."""
        with self._lock:
            self._unraised = [f for f in self._unraised if f.kind is not Kind.HANDLER_ERROR]
            self._findings = [f for f in self._findings if f.kind is not Kind.HANDLER_ERROR]

    def clear_all_handlers(self) -> None:
        """Remove every handler and reset the ordered-failure state."""
        with self._lock:
            self._registry.clear()

    # ------------------------------------------------------------------ waiting

    @contextmanager
    def wait(
        self,
        raise_assertions: bool | None = None,
        stop_on_nohandler: bool | None = None,
        timeout: float | None = None,
    ) -> Iterator[Waiting]:
        """Wait, after the ``with`` block, until every oneshot and ordered handler is used.

        Wakes the moment the last one is used (no polling), or on a request no
        handler matched when ``stop_on_nohandler``, or after ``timeout`` seconds.

        :param raise_assertions: raise ``AssertionError`` when the wait failed.
        :param stop_on_nohandler: stop waiting at the first unmatched request.
        :param timeout: seconds to wait at most.
        """
        __tracebackhide__ = True
        defaults = self.default_waiting_settings
        raise_assertions = (
            defaults.raise_assertions if raise_assertions is None else raise_assertions
        )
        stop_on_nohandler = (
            defaults.stop_on_nohandler if stop_on_nohandler is None else stop_on_nohandler
        )
        timeout = defaults.timeout if timeout is None else timeout
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout >= 0:
            raise HTTPDoubleUsageError(
                "timeout",
                expected="a number of seconds, 0 or more",
                got=timeout,
                remedy="pass e.g. timeout=2.0",
            )
        waiting = Waiting()
        event = threading.Event()
        with self._lock:
            self._wake = event
            self._wake_on_nohandler = stop_on_nohandler
        try:
            yield waiting
            started = time.monotonic()
            with self._lock:
                if self._all_used():
                    event.set()
            event.wait(timeout)
            waiting.elapsed_time = time.monotonic() - started
        finally:
            with self._lock:
                self._wake = None
                waiting.result = self._all_used()
                remaining = self._registry.format()
        if raise_assertions and not waiting.result:
            self.check_assertions()
            raise HTTPDoubleFailure(
                f"wait() ended after {waiting.elapsed_time:.3f}s (timeout {timeout}s)"
                " with handlers never used\n"
                f"{remaining}\n"
                "to do: make the code under test send them, or raise the timeout"
            )
