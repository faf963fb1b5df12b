"""The server: listening sockets, the I/O loop thread, connection threads, the lifecycle.

Everything about requests and responses lives in :mod:`httpdouble._app.dispatch` (what to
answer), :mod:`.loop` (the I/O loop) and :mod:`.connection` (HTTP/1.1 on a
connection), and binding in :mod:`.binding`; this module only owns sockets
and threads, and ``stop()`` wakes the loop through a socket pair instead of
polling.
"""

from __future__ import annotations

import contextlib
import enum
import queue
import secrets
import select
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Callable
from types import TracebackType
from typing import Any

from werkzeug.wrappers import Response

from .._app.dispatch import DEFAULT_HANDLER_TIMEOUT, RequestDispatcher
from .._app.idle import IdleThreads
from .._app.waiting import WaitingSettings
from .._errors import HTTPDoubleUsageError, HTTPServerError
from .._log.request_log import Stamp
from .._report.findings import Finding, Kind, format_exception
from .._wire.framing import error_response
from .._wire.head import parse_head
from .._wire.request import ConnectionInfo, Limits
from .binding import bind_listeners, is_loopback
from .connection import Pending, serve_connection, serve_one
from .connection_findings import wire_reports
from .loop import IOLoop
from .loop_connection import Conn, ConnReader
from .readiness_probe import probe_readiness
from .refusals import tls_failure_detail

DEFAULT_LISTEN_HOST = "localhost"
DEFAULT_LISTEN_PORT = 0
# A connection thread waits this long for its next piece of work before it ends: a new
# connection then costs a hand-over instead of a thread start (about 50 us here).
_IDLE_THREAD_SECONDS = 10.0
# A connection for a thread: (socket, peer, the loop's connection and request, or None, None
# for an HTTPS connection served whole).
# How long a thread that served a handed-over request waits for the next one before it
# gives the connection back to the loop.
_STAY_SECONDS = 0.2
_Handover = tuple[socket.socket, Any, "Conn | None", "Pending | None"]


_RUNNING: set[HTTPServer] = set()
_RUNNING_LOCK = threading.Lock()


def running_servers() -> list[HTTPServer]:
    """Return every server of this process that is running now."""
    with _RUNNING_LOCK:
        return list(_RUNNING)


class NonLoopbackWarning(UserWarning):
    """The server listens on an address other machines can reach."""


class State(enum.Enum):
    """Lifecycle of a server."""

    STOPPED = "stopped"
    RUNNING = "running"


class HTTPServer(RequestDispatcher):
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
        super().__init__(
            no_handler_status_code=no_handler_status_code,
            default_waiting_settings=default_waiting_settings,
            handler_timeout=handler_timeout,
            ordered_fall_through=ordered_fall_through,
        )
        if startup_timeout is not None and (
            isinstance(startup_timeout, bool)
            or not isinstance(startup_timeout, int | float)
            or not 0 < startup_timeout < 1e9
        ):
            raise HTTPDoubleUsageError(
                "startup_timeout",
                expected="a positive number of seconds, or None (no readiness check)",
                got=startup_timeout,
                remedy="pass e.g. startup_timeout=10, or leave it out",
            )
        if not isinstance(keep_alive, bool):
            raise HTTPDoubleUsageError(
                "keep_alive",
                expected="True (keep connections open) or False (close after every response)",
                got=keep_alive,
                remedy="pass keep_alive=False to close every connection after its response",
            )
        if not isinstance(host, str) or not host:
            raise HTTPDoubleUsageError(
                "host", expected="a host name or IP address", got=host, remedy="pass 'localhost'"
            )
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise HTTPDoubleUsageError(
                "port",
                expected="an int from 0 to 65535 (0: chosen for you)",
                got=port,
                remedy="pass port=0 unless the code under test needs a fixed port",
            )
        if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
            raise HTTPDoubleUsageError(
                "ssl_context",
                expected="an ssl.SSLContext for the server side, or None",
                got=ssl_context,
                remedy="build one with ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)",
            )
        if limits is not None and not isinstance(limits, Limits):
            raise HTTPDoubleUsageError(
                "limits", expected="a Limits or None", got=limits, remedy="pass Limits(...)"
            )
        if port_source is not None and not callable(port_source):
            raise HTTPDoubleUsageError(
                "port_source",
                expected="a callable returning a port number, or None",
                got=port_source,
                remedy="pass portpicker.pick_unused_port, or None for a system-chosen port",
            )
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
        self.threaded = threaded
        self.keep_alive = keep_alive
        self.limits = limits or Limits()
        self.port_source = port_source
        self.startup_timeout = startup_timeout
        # True from start() until wait_for_server_ready() has seen the server answer.
        self._readiness_check_pending = False
        self._requested_port = port
        self._state = State.STOPPED
        self._listeners: list[socket.socket] = []
        self._connections: dict[socket.socket, threading.Thread] = {}
        # Every live connection thread (serving, parked, or on its way out): stop() joins them.
        self._conn_threads: set[threading.Thread] = set()
        # Connection threads waiting for their next connection.
        self._idle: IdleThreads[_Handover] = IdleThreads(_IDLE_THREAD_SECONDS)
        self._run_number = 0  # a connection thread serves only the run it was started in
        self._conn_lock = threading.Lock()
        self._accept_thread: threading.Thread | None = None
        self._loop: IOLoop | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread_error: BaseException | None = None
        self._reports = wire_reports(self, lambda: self.limits)

    # ---------------------------------------------------------------- lifecycle

    def is_running(self) -> bool:
        """Return whether the server accepts connections."""
        return self._state is State.RUNNING

    def start(self) -> None:
        """Bind, then serve on a background thread; returns once connections are accepted.

        :raises HTTPServerError: when already running.
        :raises ServerStartError: when the address cannot be bound.
        """
        if self._state is State.RUNNING:
            raise HTTPServerError(
                f"server is already running on {self.host}:{self.port}\n"
                "  to fix: call stop() first, or use a second HTTPServer"
            )
        self._listeners = bind_listeners(self.host, self._requested_port, self.port_source)
        self.port = self._listeners[0].getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        ready = threading.Event()
        self._thread_error = None
        self._loop = IOLoop(
            listeners=self._listeners,
            wake=self._wake_r,
            wake_writer=self._wake_w,
            app=self.entry,
            limits=lambda: self.limits,
            reports=self._reports,
            info=self._connection_info,
            hand_over=self._hand_over,
            accept_tls=None if self.ssl_context is None else self._accept,
            internal_error=self._record_internal,
            exhausted=self._record_exhausted,
        )
        self._accept_thread = threading.Thread(
            target=self._loop_thread,
            args=(self._loop, ready),
            name=f"httpdouble:{self.port}",
            daemon=True,
        )
        self._state = State.RUNNING
        self._run_number += 1
        with _RUNNING_LOCK:
            _RUNNING.add(self)
        self._accept_thread.start()
        if not ready.wait(5):
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
        self._readiness_token = secrets.token_hex(16)
        try:
            ready = probe_readiness(
                self.host,
                self.port,
                self.ssl_context is not None,
                self.startup_timeout,
                self._readiness_token,
            )
        except OSError as exc:
            self._readiness_token = None
            raise HTTPServerError(
                f"readiness check of {self.url_for('/')} failed: {exc}\n"
                f"  to fix: raise startup_timeout (now {self.startup_timeout:g} s)"
                " if the machine is slow"
            ) from exc
        self._readiness_token = None
        if not ready:
            raise HTTPServerError(
                f"readiness check of {self.url_for('/')} got an unexpected answer\n"
                "  to fix: make sure nothing else listens on that port"
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
        if self._state is not State.RUNNING:
            raise HTTPServerError(
                "server is not running\n  to fix: call start() first, or check is_running()"
            )
        self._state = State.STOPPED
        with _RUNNING_LOCK:
            _RUNNING.discard(self)
        assert self._wake_w is not None
        assert self._accept_thread is not None
        self._wake_w.send(b"x")
        self._accept_thread.join()
        self._loop = None
        self._forget_framed()
        for listener in self._listeners:
            listener.close()
        self._listeners = []
        self._idle.close()
        with self._conn_lock:
            connections = list(self._connections.items())
        for conn, _ in connections:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
        # One second for all of them together: a busy handler cannot hold up stop() long.
        deadline = time.monotonic() + 1.0
        # Serving, parked, or between two connections (then in neither list above): all of them.
        with self._conn_lock:
            alive = list(self._conn_threads)
        for thread in alive:
            thread.join(max(0.0, deadline - time.monotonic()))
        for sock in (self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._wake_r = self._wake_w = None
        self._handler_threads.close()
        self._port = self._requested_port or self._port
        error, self._thread_error = self._thread_error, None
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

    # ------------------------------------------------------------------ threads

    def _loop_thread(self, loop: IOLoop, ready: threading.Event) -> None:
        try:
            loop.run(ready, lambda: self._state is State.RUNNING)
        except BaseException as exc:  # Re-raised by stop(), never lost.
            self._thread_error = exc
            ready.set()

    def _connection_info(self, address: Any) -> ConnectionInfo:
        return ConnectionInfo(
            server_name=self.host,
            server_port=self.port,
            scheme="https" if self.ssl_context is not None else "http",
            remote_addr=address[0],
            remote_port=address[1],
            keep_alive=self.keep_alive,
        )

    def _accept(self, listener: socket.socket) -> None:
        """An HTTPS connection: a thread serves it from the handshake to its close."""
        try:
            conn, address = listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        conn.setblocking(True)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._start_work((conn, address, None, None))

    def _hand_over(self, conn: Conn, pending: Pending | None) -> None:
        """A plain connection from the loop: a thread serves one request, then gives it back."""
        self._start_work((conn.sock, conn.address, conn, pending))

    def _start_work(self, handover: _Handover) -> None:
        conn = handover[0]
        taken = self._idle.take()
        if taken is not None:
            thread, inbox = taken
            with self._conn_lock:  # registered before its thread sees it: stop() closes it
                self._connections[conn] = thread
            inbox.put(handover)
            return
        thread = threading.Thread(
            target=self._connection_thread,
            args=(handover,),
            name=f"httpdouble:{self.port}:conn",
            daemon=True,
        )
        with self._conn_lock:
            self._connections[conn] = thread
            self._conn_threads.add(thread)
        thread.start()

    def _connection_thread(self, first: _Handover) -> None:
        """Serve what the loop hands over, one piece after another, until none comes."""
        run = self._run_number
        inbox: queue.SimpleQueue[_Handover | None] = queue.SimpleQueue()
        handover: _Handover | None = first
        try:
            while handover is not None:
                sock, address, conn, pending = handover
                if conn is None:
                    self._serve(sock, address)
                else:
                    self._serve_turn(conn, pending)
                handover = self._idle.next_item(
                    inbox, lambda: self._state is State.RUNNING and self._run_number == run
                )
        finally:
            with self._conn_lock:
                self._conn_threads.discard(threading.current_thread())

    def _serve_turn(self, conn: Conn, pending: Pending | None) -> None:
        """Serve one request of a plain connection, then give it back to the loop."""
        sock = conn.sock
        again = False
        try:
            reader = ConnReader(sock, conn.buf)  # what it leaves unread stays in conn.buf
            again = serve_one(sock, conn.info, self, self.limits, self._reports, reader, pending)
            # A client answered by a handler function often sends its next request at once:
            # serve on here while it does, instead of a thread switch each way per request.
            while again and self._state is State.RUNNING and self._next_arrives(conn):
                parsed = parse_head(conn.buf, conn.info, self.limits) if conn.buf else None
                following: Pending | None = None
                if type(parsed) is tuple:  # whole already: split in bulk, as the loop does
                    environ, keep_alive, used, _ = parsed
                    del conn.buf[:used]
                    following = (environ, keep_alive, self)
                again = serve_one(
                    sock, conn.info, self, self.limits, self._reports, reader, following
                )
        except Exception as exc:  # A bug of ours: the test hears of it, the server goes on.
            self._record_internal(exc)
            with contextlib.suppress(OSError):
                sock.sendall(error_response(500, "internal error in httpdouble"))
            again = False  # that answer says Connection: close, and so it does
        finally:
            with self._conn_lock:
                self._connections.pop(sock, None)
        if again and self._state is State.RUNNING and conn.owner.give_back(conn):
            return
        sock.close()

    @staticmethod
    def _next_arrives(conn: Conn) -> bool:
        """Wait a moment for more of the next request; ``False``: give the connection back.

        A closed connection also gives ``True``: the strict reader then ends it.
        """
        if conn.buf:
            return True
        sock = conn.sock
        try:
            if hasattr(select, "poll"):  # no FD_SETSIZE limit
                poller = select.poll()
                poller.register(sock, select.POLLIN)
                readable = bool(poller.poll(_STAY_SECONDS * 1000))
            else:  # pragma: no cover - Windows
                readable = bool(select.select([sock], [], [], _STAY_SECONDS)[0])
            if readable:
                conn.buf += sock.recv(65536)
        except (OSError, ValueError):  # closed meanwhile: the reader ends the connection
            return True
        return readable

    def _serve(self, conn: socket.socket, address: tuple[str, int]) -> None:
        sock = conn
        try:
            assert self.ssl_context is not None
            # Handshake after the TLS socket is registered, so stop() can shut it down.
            sock = self.ssl_context.wrap_socket(
                conn, server_side=True, do_handshake_on_connect=False
            )
            with self._conn_lock:
                thread = self._connections.pop(conn, None)
                if thread is not None:
                    self._connections[sock] = thread
            if self._state is not State.RUNNING:
                return
            try:
                sock.do_handshake()
            except (ssl.SSLError, OSError) as exc:
                if self._state is State.RUNNING:
                    self._tls_failed(exc)
                return
            serve_connection(
                sock, self._connection_info(address), self, self.limits, self._reports
            )
        except Exception as exc:  # A bug of ours: the test hears of it, the server goes on.
            self._record_internal(exc)
            with contextlib.suppress(OSError):
                sock.sendall(error_response(500, "internal error in httpdouble"))
        finally:
            with self._conn_lock:
                self._connections.pop(sock, None)
                self._connections.pop(conn, None)
            sock.close()

    def _tls_failed(self, exc: BaseException) -> None:
        response = Response(b"", 400)
        self.record_malformed(response, tls_failure_detail(exc), "(TLS handshake)")

    def _record_internal(self, exc: Exception) -> None:
        finding = Finding(
            Kind.MALFORMED,
            Stamp.now(),
            expected="(server error)",
            detail=format_exception(exc),
            cause=exc,
        )
        with self._lock:
            self._findings.append(finding)
            self._unraised.append(finding)

    def _record_exhausted(self, exc: OSError) -> None:
        finding = Finding(
            Kind.MALFORMED,
            Stamp.now(),
            expected="(server out of resources)",
            detail=(
                f"accepting a connection failed: {exc}\n"
                "  the server stops accepting for a moment and tries again, while it serves the"
                " connections it has (reported once per start)\n"
                "  to fix: close what the test leaves open (connections, files), or raise the"
                " limit of open files (ulimit -n)"
            ),
        )
        with self._lock:
            self._findings.append(finding)
            self._unraised.append(finding)

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
