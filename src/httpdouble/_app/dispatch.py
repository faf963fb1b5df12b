"""Dispatch: the WSGI application behind the server, usable without any socket.

It owns the registered handlers, the request log and the findings, and every
method of the public API that does not touch a socket; the methods that read the log
and the findings, and wait, hand on to the verification views it composes
(:class:`~httpdouble._app.verification.Verification`). :class:`HTTPServer` composes
one, beside its I/O core (the socket, the threads and the lifecycle).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Self

from werkzeug.wrappers import Request, Response

from .._log.request_log import (
    LOG_HANDLE,
    LogEntry,
    Outcome,
    PackedResponse,
    RequestLog,
    Stamp,
    pack,
    pack_response,
)
from .._matching.request_matcher import RequestMatcher
from .._report.findings import HANDLER_KINDS, Finding, Kind
from .._wire.origin import origin_of
from .._wire.request import skip_unread_body
from .expectations import HandlerType, RequestHandler
from .readiness import READINESS_BODY, READINESS_ENVIRON_KEY
from .registration import Registration, new_handler
from .registry import Lookup, Registry, RequestHandlerList
from .settings import DEFAULT_HANDLER_TIMEOUT, check_app_settings, check_timeout
from .verification import Verification
from .waiting import Waiting, WaitingSettings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from .._log.request_log import RawRequest
    from .entry import Application
    from .handler_threads import HandlerThreads

_OUTCOME_KIND = {
    Lookup.NO_HANDLER: (Outcome.NO_HANDLER, Kind.NO_HANDLER),
    Lookup.OUT_OF_ORDER: (Outcome.OUT_OF_ORDER, Kind.OUT_OF_ORDER),
    Lookup.REFUSED: (Outcome.REFUSED, Kind.REFUSED),
}


class RequestDispatcher(Registration):
    """Handlers, log and findings of one server, and the WSGI app that uses them.

    :param no_handler_status_code: the status sent when no handler matches.
    :param default_waiting_settings: defaults for :meth:`~httpdouble.HTTPServer.wait`.
    :param handler_timeout: seconds a handler function (``respond_with_handler``)
        may take; past it the client gets a 500 and the test a :class:`~httpdouble.HandlerTimeout`.
        ``None`` runs handler functions without a limit, on the connection's thread.
        The delays of a handler's :class:`~httpdouble.hooks.Delay` hooks are added to it.
    :param ordered_fall_through: when ``True``, a request that matches no ordered
        handler at all is looked up among the oneshot and permanent handlers instead
        of failing the order (the default, as in pytest-httpserver, fails it).
    """

    # Always set by __init__ (None given means the defaults).
    default_waiting_settings: WaitingSettings

    def __init__(
        self,
        *,
        no_handler_status_code: int = 500,
        default_waiting_settings: WaitingSettings | None = None,
        handler_timeout: float | None = DEFAULT_HANDLER_TIMEOUT,
        ordered_fall_through: bool = False,
    ) -> None:
        check_app_settings(no_handler_status_code, default_waiting_settings)
        self.no_handler_status_code = no_handler_status_code
        self._default_no_handler_status_code = no_handler_status_code
        self.handler_timeout = check_timeout(handler_timeout)
        self.default_waiting_settings = default_waiting_settings or WaitingSettings()
        self._lock = threading.RLock()
        self._registry = Registry()
        self._registry.ordered_fall_through = bool(ordered_fall_through)
        self._log = RequestLog()
        # The registry's version at the last clear: with an empty log and no findings, equal
        # means nothing happened since (each test's setup checks it without the lock).
        self._clean_version = self._registry.version
        # Kept here, read and taken by the views; cleared in place, so the views' stay these.
        self._findings: list[Finding] = []
        self._unraised: list[Finding] = []
        self._in_flight = 0
        # The verification views: the log and findings as a test reads them, and wait().
        self.views = Verification(
            self._lock, self._registry, self._log, self._findings, self._unraised
        )
        self._threads: HandlerThreads | None = None  # made for the first handler function
        # pytest-httpserver's extension points: a subclass's own dispatch() answers every
        # request; its own respond_nohandler() answers those no handler matched.
        self._custom_dispatch = type(self).dispatch is not RequestDispatcher.dispatch
        self._custom_nohandler = (
            type(self).respond_nohandler is not RequestDispatcher.respond_nohandler
        )
        # Answers what no handler matched instead of the failure (set_fallback); None: no change.
        self._fallback: Callable[[Request], Response] | None = None
        # Set while the readiness check of start() waits for its answer (see _readiness).
        self._readiness_token: str | None = None
        # What the server's I/O loop calls (begin_request / finish_request), and nothing else.
        # Loaded with the first dispatcher, not at import: with it, the log's lazy objects
        # and the framing of replies (issue 27: what importing the server stack costs).
        from .entry import RequestEntry

        self.entry: Application = RequestEntry(
            self, type(self).__call__ is not RequestDispatcher.__call__
        )

    @property
    def ordered_fall_through(self) -> bool:
        """Whether a request matching no ordered handler may use other handlers; see above."""
        return self._registry.ordered_fall_through

    @ordered_fall_through.setter
    def ordered_fall_through(self, value: bool) -> None:
        with self._lock:
            self._registry.ordered_fall_through = bool(value)

    # ------------------------------------------------------------ registration

    def expect(
        self,
        matcher: RequestMatcher,
        handler_type: HandlerType = HandlerType.PERMANENT,
        *,
        times: int | None = None,
    ) -> RequestHandler:
        """Register ``matcher`` with the given lifetime and return its handler.

        :param times: serve exactly this many matching requests, then be gone; see
            :meth:`~httpdouble.HTTPServer.expect_request`.
        """
        handler = new_handler(matcher, handler_type, times)
        with self._lock:
            self._registry.add(handler)
        return handler

    # ---------------------------------------------------------------- dispatch

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI entry point."""
        if self._readiness_token is not None and (
            environ.get(READINESS_ENVIRON_KEY) == self._readiness_token
        ):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [READINESS_BODY]
        begun = self.entry.begin_request(environ)
        if begun is None:
            return self._custom(Request(environ, populate_request=False))(environ, start_response)
        return self.entry.finish_request(environ, start_response, begun)

    def _lookup(self, request: Request) -> tuple[Lookup, RequestHandler | None, bool]:
        if self._registry.needs_body:
            # Outside the lock: a client slow to send its body (100-continue) must hold up
            # its own connection only, never the other connections or the test thread.
            request.get_data()
        with self._lock:
            lookup, handler = self._registry.lookup(request)
            # A oneshot, ordered or counted handler is used up at lookup, but wait() must
            # not wake before its request has been answered and logged: count it in flight.
            settles = handler is not None and handler.settles
            if lookup is Lookup.FOUND and settles:
                self._in_flight += 1
        return lookup, handler, settles

    def dispatch(self, request: Request) -> Response:
        """Find the handler for ``request``, build the response, and record both.

        A subclass may override it, as pytest-httpserver's ``dispatch``: the server then
        answers every request with what the override returns (a ``Response``, a ``str`` or
        ``None``), and logs it unless the override called this method.
        """
        return self._answer(request, *self._lookup(request))[0]

    def _custom(self, request: Request) -> Response:
        """Serve ``request`` through a subclass's own ``dispatch``."""
        try:
            response: Any = self.dispatch(request)
            if response is None:
                response = Response("")
            elif isinstance(response, str):
                response = Response(response)
            if not isinstance(response, Response):
                raise TypeError(
                    f"dispatch() returned {type(response).__name__} {response!r:.80}\n"
                    "  expected: a werkzeug Response, a str (the body), or None (an empty 200)"
                )
        except BaseException as exc:  # pytest.fail() in it too: the user's error
            from .entry import body_error

            if body_error(request) is exc:
                raise
            return self._user_code_failed(request, exc, "the server's own dispatch() raised")
        if LOG_HANDLE not in request.environ:  # the override answered without dispatch()
            self._record(request, pack_response(response), Outcome.MATCHED, None)
        return response

    @property
    def _handler_threads(self) -> HandlerThreads:
        """The helper threads of handler functions run with a timeout, made on first use."""
        if self._threads is None:
            from .handler_threads import HandlerThreads

            with self._lock:
                if self._threads is None:
                    self._threads = HandlerThreads()
        return self._threads

    def _close_handler_threads(self) -> None:
        if self._threads is not None:
            self._threads.close()

    def _user_code_failed(self, request: Request, exc: BaseException, what: str) -> Response:
        """Answer 500 for an exception of the user's code outside a handler, and keep it."""
        from .failures import user_code_failure  # loaded when the server started

        finding, response = user_code_failure(request, exc, what)
        self._record(request, pack_response(response), Outcome.HANDLER_ERROR, finding)
        return response

    def _answer(
        self, request: Request, lookup: Lookup, handler: RequestHandler | None, settles: bool
    ) -> tuple[Response, Outcome]:
        if lookup is Lookup.FOUND:
            assert handler is not None
            try:
                if handler.is_function:
                    # Read now: werkzeug's form parsing (request.form) would consume the
                    # stream and leave request.data empty for the handler.
                    request.get_data()
                if handler.is_function and self.handler_timeout is not None:
                    response = self._handler_threads.respond(
                        handler, request, self.handler_timeout + handler.hook_delay
                    )
                elif handler.is_function:
                    from .handler_threads import call_handler

                    response = call_handler(handler, request)
                else:
                    response = handler.respond(request)
                outcome = Outcome.MATCHED
                from .entry import streaming_loaded

                streaming = streaming_loaded()  # None: neither kind below exists yet
                if streaming is not None and isinstance(response, streaming.FaultResponse):
                    outcome = response.spec.outcome  # logged as what the wire will do
                    packed = response.logged()
                elif streaming is not None and isinstance(response, streaming.StreamedResponse):
                    # The body is logged once sent.
                    packed = (response.status_code, tuple(response.headers.to_wsgi_list()), b"")
                else:
                    if not response.is_sequence and not response.direct_passthrough:
                        response.make_sequence()  # a body that raises is the handler's error
                    packed = pack_response(response)  # so is a body of something else than bytes
            except BaseException as exc:  # pytest.fail() in a handler is a BaseException
                from .entry import body_error

                if body_error(request) is exc:
                    # The body never arrived (Expect: 100-continue, then cut short): not the
                    # handler's fault. The connection logs the request as malformed.
                    self._settle(None, settles)
                    raise
                return self._handler_failed(request, handler, exc, settles), Outcome.HANDLER_ERROR
            self._record(request, packed, outcome, None, settles)
            return response, outcome
        if lookup is Lookup.NO_HANDLER and self._fallback is not None:
            return self._fall_back(request, self._fallback), Outcome.MATCHED
        if lookup is Lookup.NO_HANDLER and self._custom_nohandler:
            try:
                response = self.respond_nohandler(request)
                if not isinstance(response, Response):
                    raise TypeError(
                        f"respond_nohandler() returned {type(response).__name__}"
                        f" {response!r:.80}\n  expected: a werkzeug Response"
                    )
            except BaseException as exc:  # the user's override: its error, not ours
                from .entry import body_error

                if body_error(request) is exc:
                    raise
                failed = self._user_code_failed(
                    request, exc, "the server's own respond_nohandler() raised"
                )
                return failed, Outcome.HANDLER_ERROR
            if LOG_HANDLE not in request.environ:  # the override did not call ours
                self._record(request, pack_response(response), Outcome.NO_HANDLER, None)
            return response, Outcome.NO_HANDLER
        return self._no_handler(request, lookup, handler), _OUTCOME_KIND[lookup][0]

    def set_fallback(self, responder: Callable[[Request], Response] | None) -> None:
        """Answer requests no handler matches with ``responder`` (``None``: the failure again).

        Recording installs one that forwards upstream; its answer is logged as matched, and
        an exception it raises answers 500 and becomes a finding (out-of-turn still fails).
        """
        with self._lock:
            self._fallback = responder

    def discard_unused(self, handlers: Iterable[RequestHandler]) -> None:
        """Remove those of ``handlers`` (oneshot) not used yet: never reported as unused."""
        with self._lock:
            for handler in handlers:
                self._registry.discard(handler)

    def _fall_back(self, request: Request, responder: Callable[[Request], Response]) -> Response:
        try:
            response = responder(request)
        except Exception as exc:
            return self._user_code_failed(request, exc, "forwarding to the upstream failed")
        self._record(request, pack_response(response), Outcome.MATCHED, None)
        return response

    def _no_handler(
        self, request: Request, lookup: Lookup, handler: RequestHandler | None
    ) -> Response:
        # Loaded when the server started (failures.load_failure_paths), not with the package.
        from .failures import no_handler_failure
        from .misses import explain_miss

        outcome, kind = _OUTCOME_KIND[lookup]
        with self._lock:
            miss = explain_miss(self._registry, request, lookup, handler)
        skip_unread_body(request.environ)  # a client awaiting 100 Continue gets this answer
        finding, response = no_handler_failure(request, kind, miss, self.no_handler_status_code)
        self._record(request, pack_response(response), outcome, finding)
        return response

    def _handler_failed(
        self, request: Request, handler: RequestHandler, exc: BaseException, settles: bool
    ) -> Response:
        from .failures import handler_failure  # loaded when the server started

        finding, response = handler_failure(request, handler, exc)
        self._record(request, pack_response(response), Outcome.HANDLER_ERROR, finding, settles)
        return response

    def record_malformed(self, response: Response, detail: str, request_line: str) -> None:
        """Log a request the server could not parse, and keep it as a finding."""
        finding = Finding(Kind.MALFORMED, Stamp.now(), expected=request_line, detail=detail)
        self._record(None, pack_response(response), Outcome.MALFORMED, finding)

    def _record(
        self,
        request: Request | None,
        response: PackedResponse,
        outcome: Outcome,
        finding: Finding | None,
        settles: bool = False,
        raw: RawRequest | None = None,
        shared: bool = False,
    ) -> None:
        """Log a request; ``shared``: ``response`` is a static reply's (see ``append_record``)."""
        try:
            handle = self._log.append_record(
                pack(request, response, outcome, None if finding is None else finding.stamp, raw),
                shared,
                "" if request is None else origin_of(request.environ),
            )
            if request is not None:  # the connection may amend it: an answer it cannot send
                request.environ[LOG_HANDLE] = handle
        finally:  # settle and wake even if the record could not be kept
            self._settle(finding, settles)

    def _settle(self, finding: Finding | None, settles: bool) -> None:
        if finding is None and not settles:  # nothing to keep, nobody to wake: no lock
            return
        with self._lock:
            if finding is not None:
                self._findings.append(finding)
                self._unraised.append(finding)
            if settles:
                self._in_flight -= 1
            self.views.settled(finding, settles and self._in_flight == 0)

    # ------------------------------------------------- pytest-httpserver names

    @property
    def handlers(self) -> RequestHandlerList:
        """The permanent handlers, oldest first (a copy)."""
        with self._lock:
            return RequestHandlerList(self._registry.permanent)

    @property
    def oneshot_handlers(self) -> RequestHandlerList:
        """The oneshot handlers not used yet, oldest first (a copy)."""
        with self._lock:
            return RequestHandlerList(self._registry.oneshot)

    @property
    def ordered_handlers(self) -> RequestHandlerList:
        """The ordered handlers not used yet, next first (a copy)."""
        with self._lock:
            return RequestHandlerList(self._registry.ordered)

    @property
    def application(self) -> RequestDispatcher:
        """The WSGI application: the dispatcher itself."""
        return self

    def add_assertion(self, obj: object) -> None:
        """Record a problem of the test's own; it fails the test like a server finding."""
        finding = Finding(Kind.ASSERTION, Stamp.now(), expected=str(obj))
        with self._lock:
            self._findings.append(finding)
            self._unraised.append(finding)

    def respond_nohandler(self, request: Request, extra_message: str = "") -> Response:
        """Return the no-handler response for ``request`` and record it as a finding."""
        response = self._no_handler(request, Lookup.NO_HANDLER, None)
        if extra_message:
            response.set_data(response.get_data() + extra_message.encode() + b"\n")
        return response

    def respond_permanent_failure(self) -> Response:
        """Return the response sent once an ordered request came out of order."""
        return Response(
            "No handler found for this request: an ordered request came out of order earlier;"
            " call clear() to reset the server\n",
            self.no_handler_status_code,
            mimetype="text/plain",
        )

    # -------------------------------------------------------- the verification views
    # Each hands on to the views in a line. Their docstrings are the views' (the server's
    # reference shows them); check() and with_check() call this object's own check_*, so a
    # subclass's check_assertions() is honoured, as wait()'s failure honours it.

    @property
    def log(self) -> Sequence[tuple[Request, Response]]:
        return self.views.log

    @property
    def logged_requests(self) -> int:
        return self.views.logged_requests

    @property
    def total_requests(self) -> int:
        return self.views.total_requests

    @property
    def log_entries(self) -> Sequence[LogEntry]:
        return self.views.log_entries

    def iter_matching_requests(
        self, matcher: RequestMatcher
    ) -> Iterator[tuple[Request, Response]]:
        return self.views.iter_matching_requests(matcher)

    def get_matching_requests_count(self, matcher: RequestMatcher) -> int:
        return self.views.get_matching_requests_count(matcher)

    def assert_request_made(self, matcher: RequestMatcher, count: int = 1) -> None:
        __tracebackhide__ = True
        self.views.assert_request_made(matcher, count)

    def format_matchers(self) -> str:
        return self.views.format_matchers()

    @property
    def findings(self) -> list[Finding]:
        return self.views.findings

    @property
    def assertions(self) -> list[str]:
        return self.views.assertions

    @property
    def handler_errors(self) -> list[BaseException]:
        return self.views.handler_errors

    @property
    def permanently_failed(self) -> bool:
        return self.views.permanently_failed

    def take_findings(self, include_unused: bool = True, clear: bool = False) -> list[Finding]:
        with self._lock:  # one locked step: no request answered in between is lost
            if clear and self._pristine():
                # Nothing since the last clear: nothing to take, nothing to forget; the
                # clear's one other effect still happens.
                self.no_handler_status_code = self._default_no_handler_status_code
                return []
            taken = self._take(include_unused)
            if clear:
                self._clear_locked()
            return taken

    def begin_test(self) -> list[Finding]:
        """Clear for a test that starts now; return what was found since the last clear.

        What the fixtures call at each test's setup. The common case, nothing since the
        last test's :meth:`end_test`, is decided without the lock: a request arriving
        during the check is the test's either way, as if it came just after it.
        """
        if self._pristine():
            self.no_handler_status_code = self._default_no_handler_status_code
            return []
        return self.take_findings(include_unused=False, clear=True)

    def end_test(
        self, include_unused: bool = True
    ) -> tuple[list[Finding], int, dict[str, list[int]]]:
        """End a test in one locked step: take its findings, then clear.

        What the fixtures call at each test's teardown. Return the findings (as
        :meth:`~httpdouble.HTTPServer.take_findings` with ``clear=True``), how many
        requests the log held, and ``{host: [requests, unmatched]}`` of those meant for
        other hosts.
        """
        with self._lock:
            if self._pristine():
                self.no_handler_status_code = self._default_no_handler_status_code
                return [], 0, {}
            taken = self._take(include_unused)
            requests, hosts = self._clear_locked()
            return taken, requests, hosts

    def _take(self, include_unused: bool) -> list[Finding]:
        registry = self._registry
        if self._unraised or (include_unused and (registry.ordered or registry.oneshot)):
            return self.views.take_findings(include_unused)
        return []  # the common case at teardown: nothing found, nothing left unused

    def _pristine(self) -> bool:
        """Return whether nothing was registered, logged or found since the last clear.

        Every change of the registry changes its version (registration, a used-up or
        discarded handler, an out-of-order request), so one comparison covers it.
        """
        return (
            self._registry.version == self._clean_version
            and not len(self._log)
            and not self._unraised
            and not self._findings
        )

    def check_assertions(self) -> None:
        __tracebackhide__ = True
        self.views.check_assertions()

    def check_handler_errors(self) -> None:
        __tracebackhide__ = True
        self.views.check_handler_errors()

    def check(self) -> None:
        __tracebackhide__ = True
        self.check_assertions()
        self.check_handler_errors()

    @contextmanager
    def with_check(self) -> Iterator[Self]:
        __tracebackhide__ = True
        yield self
        self.check()

    def wait(
        self,
        raise_assertions: bool | None = None,
        stop_on_nohandler: bool | None = None,
        timeout: float | None = None,
    ) -> AbstractContextManager[Waiting]:
        defaults, check = self.default_waiting_settings, self.check_assertions
        return self.views.wait(defaults, check, raise_assertions, stop_on_nohandler, timeout)

    def wait_async(
        self,
        raise_assertions: bool | None = None,
        stop_on_nohandler: bool | None = None,
        timeout: float | None = None,
    ) -> AbstractAsyncContextManager[Waiting]:
        defaults, check = self.default_waiting_settings, self.check_assertions
        return self.views.wait_async(defaults, check, raise_assertions, stop_on_nohandler, timeout)

    # ----------------------------------------------------------------- clearing

    def clear(self) -> None:
        """Forget handlers, log, findings and the ordered-failure state.

        ``no_handler_status_code`` goes back to the value the server was made with
        (500 unless given), as pytest-httpserver's ``clear()`` does.
        """
        self._clear_all()

    def _clear_all(self) -> None:
        with self._lock:
            self._clear_locked()

    def _clear_locked(self) -> tuple[int, dict[str, list[int]]]:
        """Clear (the caller holds the lock); return how many requests the log held and
        their hosts (see ``RequestLog.end``: an empty log stays as it is)."""
        registry = self._registry
        registry.clear()
        self._clean_version = registry.version
        if self._findings:
            self._findings.clear()
        if self._unraised:
            self._unraised.clear()
        ended = self._log.end()
        self.no_handler_status_code = self._default_no_handler_status_code
        return ended

    def clear_log(self) -> None:
        """Forget the request log."""
        self._log.clear()

    def clear_assertions(self) -> None:
        """Forget findings other than handler errors."""
        with self._lock:
            self._unraised[:] = [f for f in self._unraised if f.kind in HANDLER_KINDS]
            self._findings[:] = [f for f in self._findings if f.kind in HANDLER_KINDS]

    def clear_handler_errors(self) -> None:
        """Forget exceptions raised by handler functions."""
        with self._lock:
            self._unraised[:] = [f for f in self._unraised if f.kind not in HANDLER_KINDS]
            self._findings[:] = [f for f in self._findings if f.kind not in HANDLER_KINDS]

    def _forget_framed(self) -> None:
        """Free every framed reply the I/O loop cached (the server stopped)."""
        with self._lock:
            for handler in self._registry.pending():
                handler.forget_framed()
            for handler in self._registry.permanent:
                handler.forget_framed()

    def clear_all_handlers(self) -> None:
        """Remove every handler and reset the ordered-failure state."""
        with self._lock:
            self._registry.clear()
