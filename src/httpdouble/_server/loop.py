"""The I/O loop: one thread accepts, reads and answers the ordinary requests.

For a plain-HTTP server, one thread waits on every listening socket and every
idle connection at once (``selectors``). It reads what arrives, splits whole
heads in bulk (:mod:`httpdouble._wire.head`), looks each request up, and when the answer is a
static response, it logs the request and sends the reply without leaving the
loop (the reply's bytes are cached after its first use): no thread hand-off, no
``Response`` to build.

Everything else goes to a connection thread with the bytes read so far: a
handler function (it never runs on the loop; matchers do, under the lock every
lookup takes), no handler, latency, streaming and faults, a body too large or
an ``Expect: 100-continue`` to answer, and every request the bulk parser is not
sure of (the strict reader of :mod:`httpdouble._wire.request` answers those exactly as
before). The thread serves that one request and gives the connection back.
HTTPS connections are served by threads from accept to close.

The loop is fair and frugal: it answers at most :data:`REQUESTS_PER_TURN` requests of a
connection before the others get theirs; it sends a big body after its head without
copying it; and when accepting fails for want of descriptors it stops accepting for a
moment (one finding), serving the connections it has, instead of spinning.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import selectors
import socket
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from .._app.entry import Begun
from .._app.responses import runs_no_user_code
from .._log.request_log import LOG_HANDLE
from .._wire.framing import DATE, BadResponse, error_response, frame_parts
from .._wire.head import HAND_OVER, parse_head
from .._wire.origin import origin_of
from .._wire.request import ConnectionInfo, Limits
from .connection import Pending, Reports
from .loop_connection import Conn, Memo, advance

if TYPE_CHECKING:
    from .._app.entry import Application
    from .._app.expectations import RequestHandler, StaticReply

_READ_BYTES = 65536
_ACCEPTS_PER_WAKE = 64  # connections accepted in one go before others get a turn
# Requests of one connection answered in a row before the other connections get a turn:
# a client pipelining thousands of requests must not hold up the others for their time.
REQUESTS_PER_TURN = 16
# Out of file descriptors (or buffers): accepting stops this long, doubling up to the
# maximum while it lasts; the open connections are served meanwhile.
_ACCEPT_PAUSE_FIRST = 0.05
_ACCEPT_PAUSE_MAX = 1.0
_EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
# A body at least this big is sent after its head in the same call (``sendmsg``), never
# copied into one block with it: a reply of megabytes costs no copy per framing.
_SPLIT_BYTES = 16384 if hasattr(socket.socket, "sendmsg") else sys.maxsize
_LISTENER = object()
_WAKE = object()


HandOver = Callable[[Conn, "Pending | None"], None]


class IOLoop:
    """The loop of one server run; :meth:`run` is its thread's target.

    :param wake: readable when a thread gives a connection back, or ``stop()`` wakes it;
        ``wake_writer`` is its other end.
    :param app: the application, through its loop interface: ``begin_request`` looks a
        request up, ``finish_request`` answers it.
    :param limits: returns the server's limits now (a test may change them while it runs).
    :param info: makes the connection facts of a peer address.
    :param hand_over: gives a connection (and a request already read, or ``None``)
        to a thread.
    :param accept_tls: takes a new connection of an HTTPS server (served by a thread).
    :param internal_error: records an exception of ours (the connection then closes).
    :param exhausted: records that accepting failed for want of file descriptors or
        memory (once per run; the loop stops accepting for a moment, and retries).
    """

    def __init__(
        self,
        *,
        listeners: list[socket.socket],
        wake: socket.socket,
        wake_writer: socket.socket,
        app: Application,
        limits: Callable[[], Limits],
        reports: Reports,
        info: Callable[[Any], ConnectionInfo],
        hand_over: HandOver,
        accept_tls: Callable[[socket.socket], None] | None,
        internal_error: Callable[[Exception], None],
        exhausted: Callable[[OSError], None],
    ) -> None:
        self._listeners = listeners
        self._wake = wake
        self._wake_writer = wake_writer
        self._app = app
        # A subclass with its own WSGI entry point (BlockingHTTPServer) answers on threads.
        self._own_call = app.answers_on_threads
        self._limits = limits
        self._reports = reports
        self._info = info
        self._hand_over = hand_over
        self._accept_tls = accept_tls
        self._internal_error = internal_error
        self._exhausted = exhausted
        self._selector = selectors.DefaultSelector()
        self._conns: dict[socket.socket, Conn] = {}
        self._lock = threading.Lock()
        self._returned: collections.deque[Conn] = collections.deque()
        # Connections with requests left over from their last turn, served in order.
        self._ready: collections.deque[Conn] = collections.deque()
        self._closed = False
        # Accepting paused for want of descriptors: until when (monotonic), and how long
        # the next pause is; whether that was reported this run.
        self._paused_until: float | None = None
        self._pause = 0.0
        self._exhaustion_reported = False

    # ------------------------------------------------------------------ the loop

    def run(self, ready: threading.Event, running: Callable[[], bool]) -> None:
        """Serve until woken while ``running()`` is false; closes what it still owns."""
        selector = self._selector
        stopped = False
        try:
            for listener in self._listeners:
                selector.register(listener, selectors.EVENT_READ, _LISTENER)
            selector.register(self._wake, selectors.EVENT_READ, _WAKE)
            ready.set()
            while True:
                waiting = len(self._ready)
                if waiting:
                    timeout: float | None = 0.0
                elif self._paused_until is None:
                    timeout = None
                else:
                    timeout = self._accept_timeout()
                for key, mask in selector.select(timeout):
                    data = key.data
                    try:
                        if data is _WAKE:
                            with contextlib.suppress(BlockingIOError):
                                self._wake.recv(4096)
                            if not running():
                                stopped = True
                                return
                            self._take_returned()
                        elif data is _LISTENER:
                            self._accept(key.fileobj)  # type: ignore[arg-type]
                        elif mask & selectors.EVENT_WRITE:
                            self._flush(data)
                        else:
                            self._read(data)
                    except Exception as exc:  # a bug of ours: reported; the others are served
                        self._internal_error(exc)
                        if isinstance(data, Conn):
                            self._drop(data)
                if waiting:
                    self._next_turns(waiting)
                if self._paused_until is not None and time.monotonic() >= self._paused_until:
                    self._paused_until = None
                    for listener in self._listeners:
                        selector.register(listener, selectors.EVENT_READ, _LISTENER)
        finally:
            with self._lock:
                self._closed = True
                returned = list(self._returned)
                self._returned.clear()
            for conn in [*self._conns.values(), *returned]:
                with contextlib.suppress(OSError):
                    conn.sock.close()
            self._conns.clear()
            selector.close()
            if not stopped:  # clients are refused, not left waiting on a loop that has ended
                for listener in self._listeners:
                    listener.close()

    def give_back(self, conn: Conn) -> bool:
        """From a thread: the loop takes the connection again; ``False`` once it has ended."""
        with self._lock:
            if self._closed:  # pragma: no cover - stop() ran between the check and here
                return False
            self._returned.append(conn)
            with contextlib.suppress(OSError):  # full: the loop has a wake-up waiting anyway
                self._wake_writer.send(b"r", socket.MSG_DONTWAIT)
        return True

    # ------------------------------------------------------------- connections

    def _accept(self, listener: socket.socket) -> None:
        if self._accept_tls is not None:
            try:
                self._accept_tls(listener)
            except OSError as exc:
                self._accept_failed(exc)
            else:
                self._pause = 0.0
            return
        for _ in range(_ACCEPTS_PER_WAKE):
            try:
                sock, address = listener.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as exc:
                self._accept_failed(exc)
                return
            self._pause = 0.0  # descriptors came back: the next shortage starts short
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Conn(sock, address, self._info(address), bytearray(), self)
            self._conns[sock] = conn
            self._selector.register(sock, selectors.EVENT_READ, conn)

    def _accept_failed(self, exc: OSError) -> None:
        """Out of descriptors: stop accepting for a while, instead of spinning on the listener
        (it stays readable) and recording the same error thousands of times a second."""
        if exc.errno not in _EXHAUSTED:
            self._internal_error(exc)
            return
        if not self._exhaustion_reported:
            self._exhaustion_reported = True
            self._exhausted(exc)
        if self._paused_until is None:
            for listener in self._listeners:
                self._selector.unregister(listener)
        self._pause = min(max(self._pause * 2, _ACCEPT_PAUSE_FIRST), _ACCEPT_PAUSE_MAX)
        self._paused_until = time.monotonic() + self._pause

    def _accept_timeout(self) -> float:
        """How long the loop may wait for events while accepting is paused."""
        assert self._paused_until is not None
        return max(0.0, self._paused_until - time.monotonic())

    def _next_turns(self, count: int) -> None:
        """Serve the next turn of the ``count`` connections that waited longest."""
        for _ in range(count):
            conn = self._ready.popleft()
            if self._conns.get(conn.sock) is not conn:  # pragma: no cover - closed meanwhile
                continue
            self._selector.register(conn.sock, selectors.EVENT_READ, conn)
            try:
                self._serve(conn)
            except Exception as exc:  # a bug of ours: reported; the others are served
                self._internal_error(exc)
                self._drop(conn)

    def _defer(self, conn: Conn) -> None:
        """Its turn is over: the requests left in its buffer wait for the next one (it is
        not read meanwhile: a flood stays in the client's socket, not in our memory)."""
        self._selector.unregister(conn.sock)
        self._ready.append(conn)

    def _take_returned(self) -> None:
        while True:
            with self._lock:
                if not self._returned:
                    return
                conn = self._returned.popleft()
            conn.sock.setblocking(False)
            self._conns[conn.sock] = conn
            self._selector.register(conn.sock, selectors.EVENT_READ, conn)
            if conn.buf:
                self._serve(conn)

    def _close(self, conn: Conn) -> None:
        self._selector.unregister(conn.sock)
        del self._conns[conn.sock]
        with contextlib.suppress(OSError):
            conn.sock.close()

    def _drop(self, conn: Conn) -> None:
        """Close a connection whatever state the loop left it in."""
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(conn.sock)
        self._conns.pop(conn.sock, None)
        with contextlib.suppress(OSError):
            conn.sock.close()

    def _read(self, conn: Conn) -> None:
        try:
            data = conn.sock.recv(_READ_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        if not data:
            if conn.buf:  # closed in the middle of a request: the strict reader answers it
                self._give(conn, None)
            else:
                self._close(conn)
            return
        conn.buf += data
        self._serve(conn)

    def _give(self, conn: Conn, pending: Pending | None) -> None:
        self._selector.unregister(conn.sock)
        del self._conns[conn.sock]
        conn.sock.setblocking(True)
        self._hand_over(conn, pending)

    # ---------------------------------------------------------------- requests

    def _serve(self, conn: Conn) -> None:
        """Answer the requests waiting in the buffer, until one needs more or a thread."""
        app = self._app
        buf = conn.buf
        turn = 0
        while buf:
            turn += 1
            if turn > REQUESTS_PER_TURN:
                self._defer(conn)
                return
            # RFC 9112 2.2: empty lines before a request are ignored (some clients send one
            # after a body); a lone CR may be the start of one.
            while buf[:2] == b"\r\n" or buf[:1] == b"\n":
                del buf[: 2 if buf[0] == 13 else 1]
            if not buf or buf == b"\r":
                return
            memo = conn.memo
            if memo is not None and buf.startswith(memo.head):
                again = self._again(conn, memo)
                if again is not None:
                    if not again:
                        return
                    continue
            parsed = parse_head(buf, conn.info, self._limits())
            if parsed is None:
                return
            if parsed is HAND_OVER:
                self._give(conn, None)
                return
            environ, keep_alive, used, head = parsed  # type: ignore[misc]
            del buf[:used]
            if self._own_call:
                self._give(conn, (environ, keep_alive, app))
                return
            try:
                begun = app.begin_request(environ, (head, *conn.facts))
                if begun is not None and begun.reply is None and _built_here(begun):
                    # A static response's first use: built here (no user code runs), then
                    # cached for the next requests.
                    if not self._first_use(conn, environ, begun, keep_alive):
                        return
                    continue
            except Exception as exc:  # a bug of ours: the test hears of it, the loop goes on
                self._internal_error(exc)
                with contextlib.suppress(OSError):
                    conn.sock.send(error_response(500, "internal error in httpdouble"))
                self._close(conn)
                return
            if begun is None or begun.reply is None:
                rest = app if begun is None else partial(app.finish_request, begun=begun)
                self._give(conn, (environ, keep_alive, rest))
                return
            reply = begun.reply
            http10 = environ["SERVER_PROTOCOL"] == "HTTP/1.0"
            if used == len(head) + 4:  # no body: the head is the whole request
                version = app.answer_again(begun)
                if version is not None:  # the next time this head comes, it is answered as is
                    conn.memo = Memo(
                        head + b"\r\n\r\n",
                        self._limits(),
                        begun.handler,
                        version,
                        (head, *conn.facts),
                        origin_of(environ),
                        keep_alive,
                        http10,
                    )
            if not self._reply(conn, begun.handler, reply, environ, keep_alive, http10):
                return

    def _again(self, conn: Conn, memo: Memo) -> bool | None:
        """Answer the head at the start of the buffer, the one ``memo`` holds, as before:
        logged as before, the same reply. ``None``: that no longer holds (parse it)."""
        if self._limits() is not memo.limits:
            conn.memo = None
            return None
        handler = memo.handler()
        again = (
            None
            if handler is None
            else self._app.log_again(memo.version, handler, memo.raw, memo.origin)
        )
        if again is None:
            conn.memo = None
            return None
        reply, handle = again
        del conn.buf[: len(memo.head)]
        environ = {LOG_HANDLE: handle}  # what an answer that cannot be sent amends
        return self._reply(conn, handler, reply, environ, memo.keep_alive, memo.http10)

    def _reply(
        self,
        conn: Conn,
        handler: RequestHandler | None,
        reply: StaticReply,
        environ: dict[str, Any],
        keep_alive: bool,
        http10: bool,
    ) -> bool:
        """Send a cached static reply; return whether the loop may read the next request."""
        # The whole reply is the same for a second (its Date): framed once per second,
        # and kept on the reply, so it lives and dies with its handler.
        date = DATE.get()
        kind = 2 * keep_alive + http10
        framed = reply.framed.get(kind)
        if framed is not None and framed[0] is date:
            data, keep_alive, tail = framed[1], framed[2], framed[3]
        else:
            try:
                data, tail, keep_alive = _framed(
                    reply.status, reply.headers, reply.body[0], keep_alive, http10
                )
            except BadResponse as exc:  # pragma: no cover - cached replies were sent before
                self._internal_error(exc)
                self._close(conn)
                return False
            self._app.keep_framed(handler, reply, kind, (date, data, keep_alive, tail))
        return self._send(conn, data, environ, keep_alive, tail)

    def _first_use(
        self, conn: Conn, environ: dict[str, Any], begun: Begun, keep_alive: bool
    ) -> bool:
        """Answer a static response's first use; return whether the loop may read on."""
        captured: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            captured[:] = (status, headers)
            return None

        try:
            result = self._app.finish_request(environ, start_response, begun)
        except BadResponse as exc:  # pragma: no cover - our makers check headers when set
            data = self._reports.bad_response(environ, exc, str(exc))
            return self._send(conn, data, environ, False)
        status, headers = captured
        body = b"".join(result)
        tail = b""
        try:
            data, tail, keep_alive = _framed(
                status, headers, body, keep_alive, environ["SERVER_PROTOCOL"] == "HTTP/1.0"
            )
        except BadResponse as exc:
            data, keep_alive = self._reports.bad_response(environ, exc, str(exc)), False
        return self._send(conn, data, environ, keep_alive, tail)

    def _send(
        self,
        conn: Conn,
        data: bytes,
        environ: dict[str, Any],
        keep_alive: bool,
        tail: bytes = b"",
    ) -> bool:
        """Send a reply (``data``, then ``tail``, a big body, if any); return whether the
        loop may read the next request now."""
        try:
            sent = conn.sock.sendmsg((data, tail)) if tail else conn.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._reports.undelivered(environ)
            self._close(conn)
            return False
        if sent == len(data) + len(tail):
            if not keep_alive:
                self._close(conn)
            return keep_alive
        # The client reads slowly: the rest goes out as it reads; no request is read meanwhile.
        out = [memoryview(data), memoryview(tail)] if tail else [memoryview(data)]
        conn.out = advance(out, sent)
        conn.out_environ = environ
        conn.close_after = not keep_alive
        self._selector.modify(conn.sock, selectors.EVENT_WRITE, conn)
        return False

    def _flush(self, conn: Conn) -> None:
        out = conn.out
        assert out is not None
        try:
            sent = conn.sock.sendmsg(out) if len(out) > 1 else conn.sock.send(out[0])
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            assert conn.out_environ is not None
            self._reports.undelivered(conn.out_environ)
            self._close(conn)
            return
        if advance(out, sent):
            return
        conn.out = conn.out_environ = None
        if conn.close_after:
            self._close(conn)
            return
        self._selector.modify(conn.sock, selectors.EVENT_READ, conn)
        self._serve(conn)


def _framed(
    status: str, headers: list[tuple[str, str]], body: bytes, keep_alive: bool, http10: bool
) -> tuple[bytes, bytes, bool]:
    """The reply as one block of bytes, or its head and its big body apart (see _SPLIT_BYTES);
    and whether the connection stays open."""
    head, sent, keep_alive = frame_parts(status, headers, body, keep_alive, False, http10)
    if len(sent) < _SPLIT_BYTES:
        return head + sent, b"", keep_alive
    return head, sent, keep_alive


def _built_here(begun: Begun) -> bool:
    """Whether the loop builds this reply itself: a static response's first use, by one of
    our own builders, with the handler unchanged since the lookup (the test may change it)."""
    handler = begun.handler
    return (
        begun.reply is None
        and begun.source is not None
        and runs_no_user_code(begun.source)
        and handler is not None
        and handler.request_handler is begun.source
        and not handler.is_function
        and handler.latency is None
    )
