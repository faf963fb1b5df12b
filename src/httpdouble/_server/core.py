"""The I/O core of a server: listening sockets, the I/O loop thread, connection threads.

It owns what touches a socket or a thread and nothing else: :meth:`IOCore.bind` binds the
listeners, :meth:`IOCore.run` starts the loop, :meth:`IOCore.stop` ends it and joins every
thread. Requests go to the application through its
:class:`~httpdouble._app.entry.Application` interface; the settings a test may change while
the server runs (limits, keep-alive) are read from the server each time they are needed.
"""

from __future__ import annotations

import contextlib
import queue
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from werkzeug.wrappers import Response

from .._app.idle import IdleThreads
from .._log.request_log import Stamp
from .._report.findings import Finding, Kind, format_exception
from .._wire.framing import error_response
from .._wire.head import parse_head
from .._wire.request import ConnectionInfo, Limits
from .binding import bind_listeners
from .connection import Pending, Reports, serve_connection, serve_one
from .loop import IOLoop
from .loop_connection import Conn, ConnReader

if TYPE_CHECKING:
    from .._app.entry import Application
    from .._wire.request import Reader
    from .tunnel import CertificateSource, Tunnels

# A connection thread waits this long for its next piece of work before it ends: a new
# connection then costs a hand-over instead of a thread start (about 50 us here).
_IDLE_THREAD_SECONDS = 10.0
# How long a thread that served a handed-over request waits for the next one before it
# gives the connection back to the loop.
_STAY_SECONDS = 0.2
# A connection for a thread: (socket, peer, the loop's connection and request, or None, None
# for an HTTPS connection served whole).
_Handover = tuple[socket.socket, Any, "Conn | None", "Pending | None"]


if TYPE_CHECKING:  # for annotations only: a Protocol class costs every import

    class Settings(Protocol):
        """The server's settings the core reads (a test may change some while it runs)."""

        host: str
        ssl_context: ssl.SSLContext | None
        keep_alive: bool
        limits: Limits
        port_source: Callable[[], int] | None

        @property
        def interception(self) -> CertificateSource | None:
            """Set while a test intercepts: CONNECT tunnels get their certificates from it."""


class IOCore:
    """Sockets and threads of one server; :class:`~httpdouble.HTTPServer` composes one.

    :param settings: the server, read for its host, TLS context, keep-alive and limits.
    :param app: the application, through the interface its I/O loop may use.
    :param reports: where a connection records what only the wire learns.
    """

    def __init__(self, settings: Settings, app: Application, reports: Reports) -> None:
        self._settings = settings
        self._app = app
        self._reports = reports
        self.running = False
        self.port = 0  # bound by bind()
        self._listeners: list[socket.socket] = []
        self._connections: dict[socket.socket, threading.Thread] = {}
        # Every live connection thread (serving, parked, or on its way out): stop() joins them.
        self._conn_threads: set[threading.Thread] = set()
        # Connection threads waiting for their next connection.
        self._idle: IdleThreads[_Handover] = IdleThreads(_IDLE_THREAD_SECONDS)
        self._run_number = 0  # a connection thread serves only the run it was started in
        self._conn_lock = threading.Lock()
        self._accept_thread: threading.Thread | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread_error: BaseException | None = None
        # The tunnels' module (TLS contexts and all) is imported at the first CONNECT: a
        # test that does not intercept never loads it (issue 27).
        self._tunnels: Tunnels | None = None

    def bind(self, port: int) -> int:
        """Bind the listening sockets to ``port`` (0: one is chosen) and return the port.

        :raises ServerStartError: when the address cannot be bound.
        """
        settings = self._settings
        self._listeners = bind_listeners(settings.host, port, settings.port_source)
        self.port = self._listeners[0].getsockname()[1]
        return self.port

    def run(self) -> bool:
        """Start the I/O loop's thread on the bound sockets; return whether it started in 5 s."""
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        ready = threading.Event()
        self._thread_error = None
        loop = IOLoop(
            listeners=self._listeners,
            wake=self._wake_r,
            wake_writer=self._wake_w,
            app=self._app,
            limits=lambda: self._settings.limits,
            reports=self._reports,
            info=self._connection_info,
            hand_over=self._hand_over,
            accept_tls=None if self._settings.ssl_context is None else self._accept,
            internal_error=self._record_internal,
            exhausted=self._record_exhausted,
        )
        self._accept_thread = threading.Thread(
            target=self._loop_thread,
            args=(loop, ready),
            name=f"httpdouble:{self.port}",
            daemon=True,
        )
        self.running = True
        self._run_number += 1
        self._accept_thread.start()
        return ready.wait(5)

    def stop(self) -> BaseException | None:
        """End the loop, close every socket, join the threads; return the loop's exception.

        See :meth:`httpdouble.HTTPServer.stop` for how long it takes.
        """
        self.running = False
        assert self._wake_w is not None
        assert self._accept_thread is not None
        self._wake_w.send(b"x")
        self._accept_thread.join()
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
        error, self._thread_error = self._thread_error, None
        return error

    def _loop_thread(self, loop: IOLoop, ready: threading.Event) -> None:
        try:
            loop.run(ready, lambda: self.running)
        except BaseException as exc:  # Re-raised by stop(), never lost.
            self._thread_error = exc
            ready.set()

    def _connection_info(self, address: Any) -> ConnectionInfo:
        return ConnectionInfo(
            server_name=self._settings.host,
            server_port=self.port,
            scheme="https" if self._settings.ssl_context is not None else "http",
            remote_addr=address[0],
            remote_port=address[1],
            keep_alive=self._settings.keep_alive,
            tunnel=self._open_tunnel,
        )

    def _open_tunnel(self, sock: socket.socket, environ: dict[str, Any], rfile: Reader) -> None:
        tunnels = self._tunnels
        if tunnels is None:
            from .tunnel import Tunnels

            settings, app = self._settings, self._app
            with self._conn_lock:
                tunnels = self._tunnels = self._tunnels or Tunnels(
                    settings=lambda: (settings.interception, settings.ssl_context is not None),
                    app=app,
                    limits=lambda: settings.limits,
                    keep_alive=lambda: settings.keep_alive,
                    reports=self._reports,
                    track=self._track_tls,
                    untrack=self._untrack,
                    running=lambda: self.running,
                    record_malformed=lambda detail, line: app.record_malformed(
                        Response(b"", 400), detail, line
                    ),
                )
        tunnels.open(sock, environ, rfile)

    def _track_tls(self, sock: socket.socket, tls: socket.socket) -> None:
        with self._conn_lock:
            thread = self._connections.pop(sock, None)
            if thread is not None:
                self._connections[tls] = thread

    def _untrack(self, sock: socket.socket) -> None:
        with self._conn_lock:
            self._connections.pop(sock, None)

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
                    inbox, lambda: self.running and self._run_number == run
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
            again = serve_one(
                sock, conn.info, self._app, self._settings.limits, self._reports, reader, pending
            )
            # A client answered by a handler function often sends its next request at once:
            # serve on here while it does, instead of a thread switch each way per request.
            while again and self.running and self._next_arrives(conn):
                parsed = (
                    parse_head(conn.buf, conn.info, self._settings.limits) if conn.buf else None
                )
                following: Pending | None = None
                if type(parsed) is tuple:  # whole already: split in bulk, as the loop does
                    environ, keep_alive, used, _ = parsed
                    del conn.buf[:used]
                    following = (environ, keep_alive, self._app)
                again = serve_one(
                    sock,
                    conn.info,
                    self._app,
                    self._settings.limits,
                    self._reports,
                    reader,
                    following,
                )
        except Exception as exc:  # A bug of ours: the test hears of it, the server goes on.
            self._record_internal(exc)
            with contextlib.suppress(OSError):
                sock.sendall(error_response(500, "internal error in httpdouble"))
            again = False  # that answer says Connection: close, and so it does
        finally:
            with self._conn_lock:
                self._connections.pop(sock, None)
        if again and self.running and conn.owner.give_back(conn):
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
            assert self._settings.ssl_context is not None
            # Handshake after the TLS socket is registered, so stop() can shut it down.
            sock = self._settings.ssl_context.wrap_socket(
                conn, server_side=True, do_handshake_on_connect=False
            )
            with self._conn_lock:
                thread = self._connections.pop(conn, None)
                if thread is not None:
                    self._connections[sock] = thread
            if not self.running:
                return
            try:
                sock.do_handshake()
            except (ssl.SSLError, OSError) as exc:
                if self.running:
                    self._tls_failed(exc)
                return
            serve_connection(
                sock,
                self._connection_info(address),
                self._app,
                self._settings.limits,
                self._reports,
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
        from .refusals import tls_failure_detail  # loaded when the server started

        response = Response(b"", 400)
        self._app.record_malformed(response, tls_failure_detail(exc), "(TLS handshake)")

    def _record_internal(self, exc: Exception) -> None:
        finding = Finding(
            Kind.MALFORMED,
            Stamp.now(),
            expected="(server error)",
            detail=format_exception(exc),
            cause=exc,
        )
        self._app.keep_finding(finding)

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
        self._app.keep_finding(finding)
