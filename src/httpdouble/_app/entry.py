"""The request entry: how the server's I/O loop hands a request to the application.

The loop reads a request head, calls :meth:`RequestEntry.begin_request` (look it up; a cached
static reply is served and logged there and then), and runs what is left (a handler
function, a first use, no handler) through :meth:`RequestEntry.finish_request` on a
connection thread. The WSGI entry point of :class:`~httpdouble.RequestDispatcher` is the
same two calls in a row. :class:`Application` is the whole of what the I/O loop may call.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

from werkzeug.wrappers import Request, Response

from .._log.lazy import LazyRequest
from .._log.request_log import Outcome, pack_response
from .._wire.framing import PreparedHeaders
from .expectations import RequestHandler, StaticReply
from .readiness import READINESS_ENVIRON_KEY
from .registry import Lookup

if TYPE_CHECKING:
    import threading

    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from .._log.request_log import LogHandle, PackedResponse, RawRequest, RequestLog
    from .._report.findings import Finding
    from .registry import Registry
    from .streaming import Delay, FaultSpec

_MATCHER_RAISED = "a matcher of a registered handler raised while the request was matched"
_STREAMING = __name__.rpartition(".")[0] + ".streaming"


def streaming_loaded() -> ModuleType | None:
    """:mod:`.streaming` if it was imported, else ``None``.

    A streamed or faulty response, or a handler's latency, exist only once it was (each is
    made by a function that imports it), so ``None`` means a response needs no plan: a plain
    test never imports the module (issue 27).
    """
    return sys.modules.get(_STREAMING)


class WirePlan:
    """The WSGI body the dispatcher hands the connection when more than one write is asked.

    :ivar body: the body's iterable (streamed when ``stream``), or the whole body.
    :ivar stream: whether to send the body chunk by chunk.
    :ivar latency: the wait before the head.
    :ivar chunk_delay: the wait between two chunks of a streamed body.
    :ivar fault: the fault to commit instead of answering.
    """

    __slots__ = ("body", "chunk_delay", "fault", "latency", "stream")

    def __init__(
        self,
        body: Iterable[bytes] | Iterable[str],
        stream: bool = False,
        latency: Delay | None = None,
        chunk_delay: Delay | None = None,
        fault: FaultSpec | None = None,
    ) -> None:
        self.body = body
        self.stream = stream
        self.latency = latency
        self.chunk_delay = chunk_delay
        self.fault = fault

    def __repr__(self) -> str:
        return (
            f"WirePlan(body={self.body!r}, stream={self.stream!r}, latency={self.latency!r},"
            f" chunk_delay={self.chunk_delay!r}, fault={self.fault!r})"
        )

    def __iter__(self) -> Iterator[bytes]:  # a plain WSGI server still gets the body
        for item in self.body:
            yield item.encode("utf-8") if isinstance(item, str) else item

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is not None:
            close()


def body_error(request: Request) -> object:
    """The error of a body that never arrived (``Expect: 100-continue``), else ``None``."""
    return getattr(request.environ.get("wsgi.input"), "error", None)


class Begun:
    """A request that ``begin_request`` looked up, for ``finish_request`` to answer."""

    __slots__ = ("error", "handler", "lookup", "reply", "request", "settles", "source")

    def __init__(
        self,
        request: Request,
        lookup: Lookup,
        handler: RequestHandler | None,
        settles: bool,
        error: BaseException | None = None,
    ) -> None:
        self.request = request
        self.lookup = lookup
        self.handler = handler
        self.settles = settles
        self.error = error  # a matcher raised it
        self.source: object = None  # the static response to cache, if it may be
        self.reply: StaticReply | None = None  # served from the cache, and logged


if TYPE_CHECKING:  # for annotations only: a Protocol class costs every import

    class _Dispatcher(Protocol):
        """The parts of :class:`~httpdouble.RequestDispatcher` a request entry uses (no cycle)."""

        _custom_dispatch: bool
        _readiness_token: str | None
        _lock: threading.RLock
        _log: RequestLog
        _registry: Registry

        def __call__(
            self, environ: WSGIEnvironment, start_response: StartResponse
        ) -> Iterable[bytes]: ...

        def _lookup(self, request: Request) -> tuple[Lookup, RequestHandler | None, bool]: ...

        def _answer(
            self, request: Request, lookup: Lookup, handler: RequestHandler | None, settles: bool
        ) -> tuple[Response, Outcome]: ...

        def _user_code_failed(
            self, request: Request, exc: BaseException, what: str
        ) -> Response: ...

        def _settle(self, finding: Finding | None, settles: bool) -> None: ...

        def _forget_framed(self) -> None: ...

        def record_malformed(self, response: Response, detail: str, request_line: str) -> None: ...

        def _close_handler_threads(self) -> None: ...

        def _record(
            self,
            request: Request | None,
            response: PackedResponse,
            outcome: Outcome,
            finding: Finding | None,
            settles: bool = False,
            raw: RawRequest | None = None,
            shared: bool = False,
        ) -> None: ...


if TYPE_CHECKING:  # for annotations only: a Protocol class costs every import

    class Application(Protocol):
        """What the server's I/O loop and connections call on the application, and nothing else."""

        @property
        def answers_on_threads(self) -> bool:
            """``True``: a subclass's own WSGI entry point answers every request, on a thread."""

        def begin_request(
            self, environ: WSGIEnvironment, raw: RawRequest | None = None
        ) -> Begun | None:
            """Look a request up (and answer it at once if it can be)."""

        def finish_request(
            self, environ: WSGIEnvironment, start_response: StartResponse, begun: Begun
        ) -> Iterable[bytes]:
            """Answer a request :meth:`begin_request` looked up."""

        def keep_framed(
            self,
            handler: RequestHandler | None,
            reply: StaticReply | None,
            kind: int,
            framed: tuple[bytes, bytes, bool, bytes],
        ) -> None:
            """Cache the framed bytes of ``handler``'s static ``reply``, unless it is gone."""

        def answer_again(self, begun: Begun) -> int | None:
            """The registry's version if the loop may answer ``begun``'s head again."""

        def log_again(
            self,
            version: int,
            handler: RequestHandler,
            raw: RawRequest,
            origin: str,
        ) -> tuple[StaticReply, LogHandle] | None:
            """Log a head answered again; ``None``: look it up as usual."""

        def record_malformed(self, response: Response, detail: str, request_line: str) -> None:
            """Log a request the server could not parse, and keep it as a finding."""

        def keep_finding(self, finding: Finding) -> None:
            """Keep a finding of the server's own (an exception of ours, no file descriptors)."""

        def stopped(self) -> None:
            """The server stopped: free the framed replies, end the handler threads."""

        def expect_probe(self, token: str | None) -> None:
            """Answer a request carrying ``token`` as the readiness probe (``None``: none)."""

        @property
        def request_log(self) -> RequestLog:
            """The log, which a connection amends when the wire learns more about a request."""

        def __call__(
            self, environ: WSGIEnvironment, start_response: StartResponse
        ) -> Iterable[bytes]:
            """The whole WSGI application, for a request the loop does not look up itself."""


class RequestEntry:
    """The :class:`Application` of one :class:`~httpdouble.RequestDispatcher`."""

    __slots__ = ("_app", "answers_on_threads")

    def __init__(self, app: _Dispatcher, answers_on_threads: bool) -> None:
        self._app = app
        # A subclass with its own WSGI entry point (BlockingHTTPServer): threads answer.
        self.answers_on_threads = answers_on_threads

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self._app(environ, start_response)

    def record_malformed(self, response: Response, detail: str, request_line: str) -> None:
        """Log a request the server could not parse, and keep it as a finding."""
        self._app.record_malformed(response, detail, request_line)

    def keep_finding(self, finding: Finding) -> None:
        """Keep a finding of the server's own (an exception of ours, no file descriptors)."""
        self._app._settle(finding, False)

    def stopped(self) -> None:
        """The server stopped: free the framed replies, end the handler threads."""
        self._app._forget_framed()
        self._app._close_handler_threads()

    def expect_probe(self, token: str | None) -> None:
        """Answer a request carrying ``token`` as the readiness probe (``None``: none)."""
        self._app._readiness_token = token

    @property
    def request_log(self) -> RequestLog:
        """The log, which a connection amends when the wire learns more about a request."""
        return self._app._log

    def keep_framed(
        self,
        handler: RequestHandler | None,
        reply: StaticReply | None,
        kind: int,
        framed: tuple[bytes, bytes, bool, bytes],
    ) -> None:
        """Cache the framed bytes of ``handler``'s static ``reply``, unless the handler is gone."""
        with self._app._lock:  # clear() may retire the handler meanwhile
            if handler is not None and reply is not None and not handler.retired:
                reply.framed[kind] = framed

    def answer_again(self, begun: Begun) -> int | None:
        """The registry's version if the loop may answer ``begun``'s head again from what it
        has (see :meth:`log_again`), without parsing or looking it up; else ``None``.

        Only for a head the loop has just answered from a cached reply, with no body: its
        lookup gives the same answer until the registry's version changes (only permanent
        handlers whose matchers read the head alone, see ``Registry.answers_again``).
        """
        app = self._app
        if begun.settles or app._readiness_token is not None or app._custom_dispatch:
            return None
        registry = app._registry
        return registry.version if registry.answers_again() else None

    def log_again(
        self,
        version: int,
        handler: RequestHandler,
        raw: RawRequest,
        origin: str,
    ) -> tuple[StaticReply, LogHandle] | None:
        """Log a request whose head the loop answered before with ``handler``'s cached
        reply, and return that reply, if that still holds (``None``: it does not, the loop
        parses and looks it up).

        What ``begin_request`` would do for it, less the parse and the lookup: the same
        record, outcome and stamp, with no request object.
        """
        reply = handler.reply
        if (
            reply is None
            or self._app._registry.version != version
            or handler.retired
            or reply.source is not handler.request_handler
            or handler.latency is not None
            or handler.is_function  # a post hook added since: it runs on each request
        ):
            return None
        return reply, self._app._log.append_again(raw, reply.logged, origin)

    def begin_request(
        self, environ: WSGIEnvironment, raw: RawRequest | None = None
    ) -> Begun | None:
        """Look the request up; serve and log it at once if its answer is a cached reply.

        The server's I/O loop calls this for each request it read; only what is left
        (a handler function, a first use, no handler) goes on in :meth:`finish_request`, on a
        thread. ``None``: the request is not looked up here (a readiness check, or a
        subclass's own ``dispatch``); the whole app must run. ``raw``: the request as it
        arrived, which the log keeps instead of the environ when the reply is cached.
        """
        if self._app._custom_dispatch or (
            self._app._readiness_token is not None
            and environ.get(READINESS_ENVIRON_KEY) == self._app._readiness_token
        ):
            return None
        # Built on first use: a lookup by method, path and query reads the environ's request
        # line only (werkzeug's objects took a fifth of a static reply's CPU). No environ ->
        # request back-reference either, so no cycle to collect.
        request: Request = LazyRequest(environ)
        try:
            lookup, handler, settles = self._app._lookup(request)
        except BaseException as exc:  # a matcher of the user's raised (pytest.fail() too)
            if body_error(request) is exc:
                raise  # the body never arrived: the connection answers it as malformed
            return Begun(request, Lookup.NO_HANDLER, None, False, exc)
        begun = Begun(request, lookup, handler, settles)
        if (
            handler is not None
            and lookup is Lookup.FOUND
            and not handler.is_function
            and handler.latency is None
            and environ["REQUEST_METHOD"] != "HEAD"
        ):
            # Read once: a respond_with_* call during this request must not be cached as old.
            source = begun.source = handler.request_handler
            reply = handler.reply
            if reply is not None and reply.source is source:
                # A static response served before: no Response to build, nothing to encode.
                self._app._record(request, reply.logged, Outcome.MATCHED, None, settles, raw, True)
                begun.reply = reply
        return begun

    def finish_request(
        self, environ: WSGIEnvironment, start_response: StartResponse, begun: Begun
    ) -> Iterable[bytes]:
        """Answer a request :meth:`begin_request` looked up (and log it, if it did not)."""
        reply = begun.reply
        if reply is not None:
            start_response(reply.status, reply.headers)
            return reply.body
        request, lookup, handler, settles = (
            begun.request,
            begun.lookup,
            begun.handler,
            begun.settles,
        )
        if begun.error is not None:
            return self._app._user_code_failed(request, begun.error, _MATCHER_RAISED)(
                environ, start_response
            )
        source = begun.source
        response, outcome = self._app._answer(request, lookup, handler, settles)
        streaming = streaming_loaded()
        if streaming is not None and (
            isinstance(response, streaming.StreamedResponse | streaming.FaultResponse)
            or (handler is not None and handler.latency is not None and lookup is Lookup.FOUND)
        ):
            return self._planned(environ, start_response, response, handler)
        # What Response.__call__ does, without its closing-iterator wrapper per request.
        wsgi_headers = response.get_wsgi_headers(environ).to_wsgi_list()
        app_iter = response.get_app_iter(environ)
        if (
            source is not None
            and outcome is Outcome.MATCHED  # never a handler error: it must stay one
            and response.is_sequence
            and not response.autocorrect_location_header
        ):
            assert handler is not None
            body = (b"".join(app_iter),)
            prepared = PreparedHeaders(response.status, wsgi_headers)
            code, logged_headers, _ = pack_response(response)
            handler.reply = StaticReply(
                source, response.status, prepared, body, (code, logged_headers, body[0]), {}
            )
            start_response(response.status, prepared)  # encoded once, for this request too
            return body
        start_response(response.status, wsgi_headers)
        return app_iter

    def _planned(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        response: Response,
        handler: RequestHandler | None,
    ) -> WirePlan:
        """The body for the connection to carry out: a latency, a stream or a fault."""
        from .streaming import FaultResponse, StreamedResponse

        wait = None if handler is None else handler.latency
        latency = None if wait is None else wait.before
        chunk_latency = None if wait is None else wait.between
        if isinstance(response, FaultResponse):
            start_response(response.status, response.headers.to_wsgi_list())
            return WirePlan((), latency=latency, fault=response.spec)
        if isinstance(response, StreamedResponse):
            # Its own headers: werkzeug would add the Content-Length of a list body, and a
            # streamed body is sent chunked.
            start_response(response.status, response.headers.to_wsgi_list())
            body = response.response
            return WirePlan(
                body,
                stream=True,
                latency=latency,
                chunk_delay=response.chunk_delay or chunk_latency,
            )
        start_response(response.status, response.get_wsgi_headers(environ).to_wsgi_list())
        return WirePlan(response.get_app_iter(environ), latency=latency)
