"""The server: its settings, addresses and lifecycle, over an I/O core and an application.

Sockets, the I/O loop and connection threads are :class:`~httpdouble._server.core.IOCore`'s
(:mod:`.loop` runs the loop, :mod:`.connection` speaks HTTP/1.1 on a connection, binding is
in :mod:`.binding`); what to answer is :mod:`httpdouble._app.dispatch`'s, which the core
reaches only through :class:`~httpdouble._app.entry.Application`. This module checks the
settings, starts and stops the core, and says where the server listens.
"""

from __future__ import annotations

import ssl
import threading
import warnings
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Self

from werkzeug.wrappers import Request, Response

from .._app.dispatch import RequestDispatcher
from .._app.expectations import HandlerType, RequestHandler
from .._app.registration import Registration
from .._app.registry import RequestHandlerList
from .._app.settings import DEFAULT_HANDLER_TIMEOUT
from .._app.verification import Verification
from .._app.waiting import Waiting, WaitingSettings
from .._errors import HTTPDoubleUsageError, HTTPServerError
from .._log.request_log import LogEntry
from .._matching.request_matcher import RequestMatcher
from .._report.findings import Finding
from .._wire.request import Limits

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from .core import IOCore
    from .server_app import ServerApp
    from .tunnel import CertificateSource


DEFAULT_LISTEN_HOST = "localhost"
DEFAULT_LISTEN_PORT = 0

_RUNNING: set[HTTPServer] = set()
_RUNNING_LOCK = threading.Lock()


def running_servers() -> list[HTTPServer]:
    """Return every server of this process that is running now."""
    with _RUNNING_LOCK:
        return list(_RUNNING)


class NonLoopbackWarning(UserWarning):
    """The server listens on an address other machines can reach."""


class HTTPServer(Registration):
    """A real HTTP/1.1 server on loopback that answers as its handlers say.

    :param host: the address to listen on; ``"localhost"`` listens on both
        ``127.0.0.1`` and ``::1`` (when the machine has IPv6).
    :param port: the port; ``0`` lets the system (or ``port_source``) choose.
    :param ssl_context: serve HTTPS with this server-side context.
    :param default_waiting_settings: defaults for :meth:`wait`.
    :param threaded: accepted for compatibility; connections are served by one
        I/O loop, and handler functions on connection threads.
    :param no_handler_status_code: status of the answer when no handler matches.
    :param limits: bounds on request line, headers and body.
    :param port_source: called to propose a port when ``port`` is ``0``
        (the pytest plugin passes portpicker); a proposal that cannot be bound
        is retried, then the system chooses.
    :param handler_timeout: seconds a handler function may take before the
        client gets a 500 (``None``: no limit).
    :param allow_non_loopback: must be ``True`` to listen on a non-loopback
        address (it warns even then).
    :param startup_timeout: when given, :meth:`start` ends with
        :meth:`wait_for_server_ready`: one real request over the socket, answered
        by the server itself, must come back within this many seconds.
    :param ordered_fall_through: see :class:`~httpdouble.RequestDispatcher`.
    :param keep_alive: keep HTTP/1.1 connections open between requests, as real servers
        do (the default). ``False`` closes the connection after every response (each says
        ``Connection: close``), as pytest-httpserver does: a switch for a client that
        misuses pooled connections (one reused from another event loop, say). It also
        is the attribute ``keep_alive``, which applies to connections accepted after
        it is set; the pytest fixtures read the ini option ``httpserver_keep_alive``.

    .. versionadded:: 0.2
       *keep_alive*.
    """

    DEFAULT_LISTEN_HOST = DEFAULT_LISTEN_HOST
    DEFAULT_LISTEN_PORT = DEFAULT_LISTEN_PORT

    def __init__(
        self,
        host: str = DEFAULT_LISTEN_HOST,
        port: int = DEFAULT_LISTEN_PORT,
        ssl_context: ssl.SSLContext | None = None,
        default_waiting_settings: WaitingSettings | None = None,
        *,
        threaded: bool = True,
        no_handler_status_code: int = 500,
        limits: Limits | None = None,
        port_source: Callable[[], int] | None = None,
        allow_non_loopback: bool = False,
        handler_timeout: float | None = DEFAULT_HANDLER_TIMEOUT,
        startup_timeout: float | None = None,
        ordered_fall_through: bool = False,
        keep_alive: bool = True,
    ) -> None:
        # The application: registry, dispatch, log and findings (a RequestDispatcher that
        # calls this server's dispatch() and respond_nohandler() when a subclass has its own).
        # Imported here, as the I/O core below: a server made needs them, an import does not
        # (issue 27, round 3).
        from .binding import is_loopback
        from .server_app import ServerApp
        from .settings import check_settings

        kind = type(self)
        self._app: ServerApp = ServerApp(
            self,
            own_dispatch=kind.dispatch is not HTTPServer.dispatch,
            own_nohandler=kind.respond_nohandler is not HTTPServer.respond_nohandler,
            own_call=kind.__call__ is not HTTPServer.__call__,
            no_handler_status_code=no_handler_status_code,
            default_waiting_settings=default_waiting_settings,
            handler_timeout=handler_timeout,
            ordered_fall_through=ordered_fall_through,
        )
        # The verification views: the log and findings as a test reads them (the app's).
        self._views = self._app.views
        self._log_pairs = self._views.log_pairs  # ``log``, one call fewer (issue 27)
        check_settings(host, port, ssl_context, limits, port_source, startup_timeout, keep_alive)
        if not is_loopback(host):
            if not allow_non_loopback:
                raise HTTPDoubleUsageError(
                    "host",
                    expected="a loopback address (localhost, 127.0.0.1, ::1)",
                    got=host,
                    remedy="pass allow_non_loopback=True if other machines must reach it",
                )
            warnings.warn(
                f"httpdouble listens on {host}, which other machines may reach",
                NonLoopbackWarning,
                stacklevel=2,
            )
        self.host = host
        self._port = port
        self.ssl_context = ssl_context
        # The interception on now (httpdouble.intercept(server), from the layer above); CONNECT
        # tunnels get their certificates from it.
        self.interception: CertificateSource | None = None
        self.threaded = threaded
        self.keep_alive = keep_alive
        self.limits = limits or Limits()
        self.port_source = port_source
        self.startup_timeout = startup_timeout
        # True from start() until wait_for_server_ready() has seen the server answer.
        self._readiness_check_pending = False
        self._requested_port = port
        # The I/O core: sockets, the loop, connection threads; it reaches the application
        # through its named interface (the application's entry) only. Imported here, not at
        # the top: importing the server stack need not load the sockets, the loop and the
        # connection code (issue 27, round 3); a server made loads them.
        from .connection_findings import wire_reports
        from .core import IOCore

        self._core: IOCore = IOCore(
            self, self._app.entry, wire_reports(self._app.entry, lambda: self.limits)
        )

    # ---------------------------------------------------------------- lifecycle

    def is_running(self) -> bool:
        """Return whether the server accepts connections."""
        return self._core.running

    def start(self) -> None:
        """Bind, then serve on a background thread; returns once connections are accepted.

        :raises HTTPServerError: when already running.
        :raises ServerStartError: when the address cannot be bound.
        """
        if self._core.running:
            raise HTTPServerError(
                f"server is already running on {self.host}:{self.port}\n"
                "  to fix: call stop() first, or use a second HTTPServer"
            )
        from .._app.failures import load_failure_paths  # and failures itself, misses

        load_failure_paths()  # before a thread of ours may need them: see its docstring
        # Read now, not at the first response: out of descriptors, the loop could not list
        # werkzeug's folder for its version (the value is cached for the process), nor
        # import the words of a refusal (a failed handshake, a limit).
        from .._wire.framing import server_line

        server_line()
        from . import refusals  # noqa: F401

        self.port = self._core.bind(self._requested_port)
        ready = self._core.run()
        with _RUNNING_LOCK:
            _RUNNING.add(self)
        if not ready:
            self.stop()
            raise HTTPServerError(
                "the accept thread did not start within 5 seconds\n"
                "  to fix: the machine may be overloaded; retry, or run fewer xdist workers"
            )
        self._readiness_check_pending = self.startup_timeout is not None
        try:
            self.wait_for_server_ready()
        except BaseException:
            self._readiness_check_pending = False
            self.stop()
            raise

    def wait_for_server_ready(self) -> None:
        """Send one request over the socket and wait, ``startup_timeout`` at most, for its answer.

        :meth:`start` calls it when ``startup_timeout`` was given; it does nothing
        otherwise. The request is answered by the server itself, is not logged and
        uses no handler. (The server accepts connections once :meth:`start` returns
        anyway; this proves it end to end, as pytest-httpserver does.)

        :raises HTTPServerError: when the answer is not the expected one, or does not
            come in time.
        """
        if not self._readiness_check_pending:
            return
        assert self.startup_timeout is not None
        from .readiness_probe import prove_ready

        prove_ready(
            self._app.entry,
            (self.host, self.port),
            self.ssl_context is not None,
            self.startup_timeout,
            self.url_for("/"),
        )
        self._readiness_check_pending = False

    def stop(self) -> None:
        """Stop accepting, close every connection, and join the threads.

        The I/O loop ends at its next turn (it serves at most 16 requests of a connection
        per turn) and closes every connection it holds, idle keep-alive ones included;
        connection threads are then shut down and joined, 1 second at most for all of them
        together. So it returns within milliseconds when nothing is busy, within tens of
        milliseconds under a flood (10 to 100 ms, median 40, measured with two clients
        pipelining and 200 idle connections on two busy cores), and after that 1 second
        when a handler function is still running: it is left to finish on its daemon
        thread, and its answer is not sent.

        :raises HTTPServerError: when not running, or when the accept thread
            failed (its exception is the cause).
        """
        if not self._core.running:
            raise HTTPServerError(
                "server is not running\n  to fix: call start() first, or check is_running()"
            )
        with _RUNNING_LOCK:
            _RUNNING.discard(self)
        error = self._core.stop()
        self._app.entry.stopped()
        self._port = self._requested_port or self._port
        if error is not None:
            raise HTTPServerError(
                f"the server thread failed: {error!r}\n"
                "  this is a bug in httpdouble: please report it with the traceback above"
            ) from error

    def __enter__(self) -> HTTPServer:
        if not self.is_running():
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.is_running():
            self.stop()

    # ----------------------------------------------------------------- addresses

    @staticmethod
    def format_host(host: str) -> str:
        """Return ``host`` ready for a URL (IPv6 addresses in brackets)."""
        return f"[{host}]" if ":" in host and not host.startswith("[") else host

    @property
    def port(self) -> int:
        """The port the server listens on (or listened on, once stopped).

        :raises HTTPServerError: before the first :meth:`start` of a server created with
            port 0: its port is chosen when it starts.
        """
        if self._port == 0:
            __tracebackhide__ = True
            raise _no_port_yet("the port")
        return self._port

    @port.setter
    def port(self, value: int) -> None:
        self._port = value

    def url_for(self, suffix: str) -> str:
        """Return the full URL of ``suffix`` on this server, e.g. ``http://localhost:PORT/x``.

        :raises HTTPServerError: before the first :meth:`start` of a server created with
            port 0 (its URL would name port 0, which no client can reach).
        """
        __tracebackhide__ = True
        if self._port == 0 and isinstance(suffix, str):
            raise _no_port_yet(f"url_for({suffix!r})")
        if not isinstance(suffix, str):
            raise HTTPDoubleUsageError(
                "suffix",
                expected="a str path, e.g. '/users?page=2'",
                got=suffix,
                remedy="pass the path as a string: url_for(f'/items/{number}')",
            )
        if not suffix.startswith("/"):
            suffix = "/" + suffix
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.format_host(self.host)}:{self.port}{suffix}"

    # ------------------------------------------------------ the application's settings
    # Each member below is the application's; the server hands it on in a line. Their
    # docstrings are borrowed from RequestDispatcher (_borrow_docs), so the reference
    # shows one text. These three were plain attributes, and stay out of the reference.

    @property
    def no_handler_status_code(self) -> int:
        return self._app.no_handler_status_code

    @no_handler_status_code.setter
    def no_handler_status_code(self, value: int) -> None:
        self._app.no_handler_status_code = value

    @property
    def handler_timeout(self) -> float | None:
        return self._app.handler_timeout

    @handler_timeout.setter
    def handler_timeout(self, value: float | None) -> None:
        self._app.handler_timeout = value

    @property
    def default_waiting_settings(self) -> WaitingSettings:
        return self._app.default_waiting_settings

    @default_waiting_settings.setter
    def default_waiting_settings(self, value: WaitingSettings) -> None:
        self._app.default_waiting_settings = value

    @property
    def ordered_fall_through(self) -> bool:
        return self._app.ordered_fall_through

    @ordered_fall_through.setter
    def ordered_fall_through(self, value: bool) -> None:
        self._app.ordered_fall_through = value

    # ----------------------------------------------------------------- registration
    # expect_request, expect_oneshot_request, expect_ordered_request, create_matcher and
    # bake are Registration's shortcuts: they build a matcher and call expect() below, so
    # a subclass's create_matcher() or expect() (pytest-httpserver's hooks) is honoured.

    def expect(
        self,
        matcher: RequestMatcher,
        handler_type: HandlerType = HandlerType.PERMANENT,
        *,
        times: int | None = None,
    ) -> RequestHandler:
        return self._app.expect(matcher, handler_type, times=times)

    @property
    def handlers(self) -> RequestHandlerList:
        return self._app.handlers

    @property
    def oneshot_handlers(self) -> RequestHandlerList:
        return self._app.oneshot_handlers

    @property
    def ordered_handlers(self) -> RequestHandlerList:
        return self._app.ordered_handlers

    # --------------------------------------------------------------------- dispatch
    # A subclass may override __call__, dispatch() and respond_nohandler(): the
    # application then calls the override (see ServerApp); these are the defaults.

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return RequestDispatcher.__call__(self._app, environ, start_response)

    def dispatch(self, request: Request) -> Response:
        return RequestDispatcher.dispatch(self._app, request)

    def respond_nohandler(self, request: Request, extra_message: str = "") -> Response:
        return RequestDispatcher.respond_nohandler(self._app, request, extra_message)

    def respond_permanent_failure(self) -> Response:
        return self._app.respond_permanent_failure()

    @property
    def application(self) -> RequestDispatcher:
        """The WSGI application: the dispatcher this server composes."""
        return self._app

    def record_malformed(self, response: Response, detail: str, request_line: str) -> None:
        self._app.record_malformed(response, detail, request_line)

    # ------------------------------------------------------------------ the log views

    @property
    def log(self) -> Sequence[tuple[Request, Response]]:
        return self._log_pairs()

    @property
    def logged_requests(self) -> int:
        return self._views.logged_requests

    @property
    def total_requests(self) -> int:
        return self._views.total_requests

    @property
    def log_entries(self) -> Sequence[LogEntry]:
        return self._views.log_entries

    def iter_matching_requests(
        self, matcher: RequestMatcher
    ) -> Iterator[tuple[Request, Response]]:
        return self._views.iter_matching_requests(matcher)

    def get_matching_requests_count(self, matcher: RequestMatcher) -> int:
        return self._views.get_matching_requests_count(matcher)

    def assert_request_made(self, matcher: RequestMatcher, count: int = 1) -> None:
        __tracebackhide__ = True
        self._views.assert_request_made(matcher, count)

    def format_matchers(self) -> str:
        return self._views.format_matchers()

    # ------------------------------------------------------------- the finding views

    @property
    def findings(self) -> list[Finding]:
        return self._views.findings

    @property
    def assertions(self) -> list[str]:
        return self._views.assertions

    @property
    def handler_errors(self) -> list[BaseException]:
        return self._views.handler_errors

    @property
    def permanently_failed(self) -> bool:
        return self._views.permanently_failed

    def add_assertion(self, obj: object) -> None:
        self._app.add_assertion(obj)

    def _test_settings(self) -> tuple[float | None, Limits, bool, bool]:
        """``handler_timeout``, ``limits``, ``ordered_fall_through`` and ``keep_alive``, in one
        call: the fixtures read them at each test's setup and teardown to set back what the
        test changed."""
        app = self._app
        return (app.handler_timeout, self.limits, app.ordered_fall_through, self.keep_alive)

    def take_findings(self, include_unused: bool = True, clear: bool = False) -> list[Finding]:
        """Return every finding not raised yet and mark them raised.

        With ``include_unused``, also the oneshot and ordered handlers never
        used, and the counted ones (``times=N``) used fewer times (the teardown
        check uses this). With ``clear``, also :meth:`clear`
        in the same locked step, so no request answered in between is lost.
        """
        return self._app.take_findings(include_unused, clear)

    def check_assertions(self) -> None:
        __tracebackhide__ = True
        self._views.check_assertions()

    def check_handler_errors(self) -> None:
        __tracebackhide__ = True
        self._views.check_handler_errors()

    def check(self) -> None:
        """Run :meth:`check_assertions` then :meth:`check_handler_errors`."""
        __tracebackhide__ = True
        self.check_assertions()
        self.check_handler_errors()

    @contextmanager
    def with_check(self) -> Iterator[Self]:
        """Run :meth:`check` when the ``with`` block completes; yield the server.

        A request no handler matched, an ordered one out of order or a handler's
        ``assert`` raise an ``AssertionError``, and then an exception a handler function
        raised is raised as it is, as :meth:`check` does. A request sent after the ordered
        ones were all used is one no handler matched, so it fails the block too. An
        exception raised in the block propagates unchanged, and no check runs then. The
        block neither waits for requests nor stops the server (use :meth:`wait` for that).

        .. versionadded:: 0.3
           As in pytest-httpserver 1.2.1.
        """
        __tracebackhide__ = True
        yield self
        self.check()

    @contextmanager
    def wait(
        self,
        raise_assertions: bool | None = None,
        stop_on_nohandler: bool | None = None,
        timeout: float | None = None,
    ) -> Iterator[Waiting]:
        __tracebackhide__ = True
        with self._app.wait(raise_assertions, stop_on_nohandler, timeout) as waiting:
            yield waiting

    @asynccontextmanager
    async def wait_async(
        self,
        raise_assertions: bool | None = None,
        stop_on_nohandler: bool | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[Waiting]:
        __tracebackhide__ = True
        async with self._app.wait_async(raise_assertions, stop_on_nohandler, timeout) as waiting:
            yield waiting

    # --------------------------------------------------------------------- clearing

    def clear(self) -> None:
        self._app.clear()

    def clear_log(self) -> None:
        self._app.clear_log()

    def clear_assertions(self) -> None:
        self._app.clear_assertions()

    def clear_handler_errors(self) -> None:
        self._app.clear_handler_errors()

    def clear_all_handlers(self) -> None:
        self._app.clear_all_handlers()

    def __repr__(self) -> str:
        # pytest-httpserver's form: suites compare it. Port 0 before the first start.
        return f"<{type(self).__name__} host={self.host} port={self._port}>"


def _no_port_yet(what: str) -> HTTPServerError:
    return HTTPServerError(
        f"{what} was asked for before start(): this server was created with port 0, so its"
        " port is chosen when it starts\n"
        "  to fix: call start() first (or use the server as a context manager:"
        " with HTTPServer() as server: ...), or create it with a fixed port=..."
    )


def _borrow_docs(server: type[HTTPServer]) -> None:
    """Give each member the server hands on the docstring of the dispatcher's own, or else
    of the verification views' (the dispatcher's view members hand on undocumented)."""
    for name, member in vars(server).items():
        if getattr(member, "__doc__", None):
            continue
        for owner in (RequestDispatcher, Verification):
            doc = getattr(getattr(owner, name, None), "__doc__", None)
            if doc:
                member.__doc__ = doc
                break


_borrow_docs(HTTPServer)
