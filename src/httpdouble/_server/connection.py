"""HTTP/1.1 on one connection: read requests, call the WSGI app, write responses.

werkzeug's development server closes the connection after every response; this
module keeps it open (HTTP/1.1 keep-alive) because the whole body is read before
the next request (by the app, or here), so the next request line is where it
expects it. Requests are parsed by :mod:`httpdouble._wire.request`; every malformed one gets a
4xx answer, is recorded, and closes the connection, gracefully (a lingering
close, so a client still sending its body reads the answer). Responses become
bytes in :mod:`httpdouble._wire.framing`; one the wire cannot carry is refused and reported as
the handler's error.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .._app.entry import WirePlan
from .._wire.framing import DATE, NO_BODY_STATUS, BadResponse, encode_head, error_response, frame
from .._wire.request import (
    READ,
    BadRequest,
    BodyOnDemand,
    body_unread,
    read_request,
    read_request_line,
)

# Re-exported: the server, the dispatcher and the package import them from here.
from .._wire.request import ConnectionInfo as ConnectionInfo
from .._wire.request import Limits as Limits
from .._wire.request import skip_unread_body as skip_unread_body

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

    from .._app.streaming import FaultSpec
    from .._wire.request import Reader

# Lingering close: how much input is read and dropped, and for how long, before closing.
LINGER_BYTES = 64 * 1024 * 1024
LINGER_SECONDS = 2.0
_LINGER_READS = 65536  # reads of 1 KiB on average still reach LINGER_BYTES


def serve_connection(
    sock: socket.socket,
    info: ConnectionInfo,
    app: WSGIApplication,
    limits: Limits,
    reports: Reports,
) -> None:
    """Serve requests on ``sock`` until the client closes, asks to close, or errs."""
    rfile = sock.makefile("rb")
    try:
        while serve_one(sock, info, app, limits, reports, rfile):
            pass
    finally:
        rfile.close()


Pending = tuple[dict[str, Any], bool, "WSGIApplication"]
"""A request already read, with its keep-alive and the app that answers it."""


def serve_one(
    sock: socket.socket,
    info: ConnectionInfo,
    app: WSGIApplication,
    limits: Limits,
    reports: Reports,
    rfile: Reader,
    pending: Pending | None = None,
) -> bool:
    """Serve one request (``pending``, or the next one read); return whether to go on."""
    request_line = b""
    environ: dict[str, Any] | None = None
    try:
        try:
            if pending is None:
                request_line = read_request_line(rfile, limits)
                if not request_line:
                    return False
                environ, keep_alive = read_request(rfile, sock, request_line, info, limits)
                if info.tunnel is not None and environ["REQUEST_METHOD"] == "CONNECT":
                    info.tunnel(sock, environ, rfile)  # serves the tunnel to its end
                    return False
            else:
                environ, keep_alive, app = pending
            if not _respond(sock, environ, app, keep_alive, reports):
                if body_unread(environ):
                    linger(sock)
                return False
            return True
        except BadRequest as exc:
            payload = error_response(exc.status, exc.reason)
            shown = request_line.decode("latin-1").rstrip("\r\n")
            reports.malformed(exc.status, exc.reason, shown, payload, environ)
            _send_quietly(sock, payload)
            linger(sock)
            return False
    except (ConnectionError, TimeoutError, OSError, _Hangup):
        return False


def _send_quietly(sock: socket.socket, payload: bytes) -> None:
    with contextlib.suppress(OSError):
        sock.sendall(payload)


class Reports:
    """Where a connection reports what the dispatcher cannot see.

    :ivar malformed: a request that could not be parsed, with ``(status, reason,
        request line, response bytes, environ or None)``; the environ is given when
        the request had already reached the app (its body failed to arrive later).
    :ivar bad_response: the app's response could not be sent, with ``(environ,
        exception, reason)``; returns the bytes of the 500 to send instead.
    :ivar undelivered: the response to this environ's request could not be sent.
    :ivar streamed: a streamed body ended, with ``(environ, status, headers, body kept,
        bytes sent, the body's exception or None, whether the client got it all)``.
    """

    __slots__ = ("bad_response", "malformed", "streamed", "undelivered")

    def __init__(
        self,
        malformed: Callable[[int, str, str, bytes, dict[str, Any] | None], None],
        bad_response: Callable[[dict[str, Any], BaseException, str], bytes],
        undelivered: Callable[[dict[str, Any]], None],
        streamed: (
            Callable[
                [
                    dict[str, Any],
                    str,
                    list[tuple[str, str]],
                    bytes,
                    int,
                    BaseException | None,
                    bool,
                ],
                None,
            ]
            | None
        ) = None,
    ) -> None:
        self.malformed = malformed
        self.bad_response = bad_response
        self.undelivered = undelivered
        self.streamed = streamed


def _respond(
    sock: socket.socket,
    environ: dict[str, Any],
    app: WSGIApplication,
    keep_alive: bool,
    reports: Reports,
) -> bool:
    """Run the app, send its response in one write; return whether to keep the connection."""
    status_line = ""
    headers: list[tuple[str, str]] = []

    def start_response(
        status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        nonlocal status_line, headers
        status_line = status
        headers = response_headers
        return _no_write

    try:
        result: Iterable[bytes] = app(environ, start_response)
    except BadResponse as exc:  # a static response's head, encoded in the app
        return _send_bad_response(sock, environ, reports, exc, str(exc))
    if type(result) is WirePlan:  # latency, a streamed body or a fault: never the fast path
        plan = result
        if plan.latency is not None:
            _pause(sock, plan.latency.draw(), environ, reports)
        if plan.fault is not None:
            _commit(sock, plan.fault, status_line, headers)
            raise _Hangup
        if plan.stream:
            return _stream(sock, environ, plan, status_line, headers, keep_alive, reports)
    try:
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    except BaseException as exc:  # the handler's streamed body: KeyboardInterrupt included
        reason = f"its response body raised {type(exc).__name__}"
        return _send_bad_response(sock, environ, reports, exc, reason)
    stream = environ["wsgi.input"]
    if type(stream) is BodyOnDemand:
        if stream.error is not None:  # the body failed to arrive; the app caught the error
            raise stream.error
        if stream.state is not READ:
            keep_alive = False  # answered without the body: the client may still send it
    try:
        data, keep_alive = frame(
            status_line,
            headers,
            body,
            keep_alive,
            environ["REQUEST_METHOD"] == "HEAD",
            environ["SERVER_PROTOCOL"] == "HTTP/1.0",
        )
    except BadResponse as exc:
        return _send_bad_response(sock, environ, reports, exc, str(exc))
    _send(sock, data, environ, reports)
    return keep_alive


def _send_bad_response(
    sock: socket.socket,
    environ: dict[str, Any],
    reports: Reports,
    exc: BaseException,
    reason: str,
) -> bool:
    _send(sock, reports.bad_response(environ, exc, reason), environ, reports)
    return False


def _send(sock: socket.socket, data: bytes, environ: dict[str, Any], reports: Reports) -> None:
    try:
        sock.sendall(data)
    except OSError:
        reports.undelivered(environ)
        raise


class _Hangup(Exception):
    """Close the connection now: no lingering, no next request (a fault, a broken stream)."""


_HANGUP_EVENTS = select.POLLRDHUP | select.POLLHUP | select.POLLERR


def _pause(sock: socket.socket, seconds: float, environ: dict[str, Any], reports: Reports) -> None:
    """Wait ``seconds`` on this connection's thread; hang up if the client leaves meanwhile.

    ``stop()`` shuts the socket down, which ends the wait at once too.
    """
    deadline = time.monotonic() + seconds
    timeout = sock.gettimeout()
    try:
        left = seconds
        while left > 0:
            sock.settimeout(left)
            try:
                peeked = socket.socket.recv(sock, 1, socket.MSG_PEEK)
            except TimeoutError:
                return
            except OSError:
                peeked = b""
            if not peeked:  # the client gave up, or the server is stopping
                reports.undelivered(environ)
                raise _Hangup
            # Bytes wait (a pipelined request, or a TLS client's close_notify): wait out the
            # delay, woken early only by the client hanging up or stop() shutting the socket.
            poller = select.poll()
            poller.register(sock.fileno(), _HANGUP_EVENTS)
            if poller.poll(max(0.0, deadline - time.monotonic()) * 1000):
                reports.undelivered(environ)
                raise _Hangup
            return
    finally:
        with contextlib.suppress(OSError):
            sock.settimeout(timeout)


def _stream(
    sock: socket.socket,
    environ: dict[str, Any],
    plan: WirePlan,
    status_line: str,
    headers: list[tuple[str, str]],
    keep_alive: bool,
    reports: Reports,
) -> bool:
    """Send the head, then each chunk as the body's iterable produces it.

    ``Transfer-Encoding: chunked`` on HTTP/1.1; close-delimited on HTTP/1.0, or as the
    handler's own ``Content-Length`` says. A body that raises, or a client that leaves,
    ends the connection without the last chunk: the client sees a body cut short.
    """
    from .._app.streaming import STREAM_LOG_LIMIT  # loaded: it made the plan's response

    body = plan.body
    try:
        stream = environ["wsgi.input"]
        if type(stream) is BodyOnDemand:
            if stream.error is not None:
                raise stream.error
            if stream.state is not READ:
                keep_alive = False
        try:
            encoded, has_length, has_date, closes = encode_head(status_line, headers)
        except BadResponse as exc:
            return _send_bad_response(sock, environ, reports, exc, str(exc))
        code = int(status_line[:3])
        no_body = environ["REQUEST_METHOD"] == "HEAD" or code in NO_BODY_STATUS or code < 200
        http10 = environ["SERVER_PROTOCOL"] == "HTTP/1.0"
        framed = not (has_length or http10 or code in NO_BODY_STATUS or code < 200)
        chunked = framed and not no_body
        if closes or (not no_body and (has_length or http10)):
            keep_alive = False  # a handler's length may not be what it streams: no next request
        head = [encoded]
        if framed:  # a HEAD request gets the head a GET would: no body
            head.append(b"Transfer-Encoding: chunked\r\n")
        if not has_date:
            head.append(b"Date: " + DATE.get() + b"\r\n")
        if not keep_alive:
            head.append(b"Connection: close\r\n")
        elif http10:  # an HTTP/1.0 client keeps the connection only when told so
            head.append(b"Connection: keep-alive\r\n")
        head.append(b"\r\n")
        _send(sock, b"".join(head), environ, reports)
        if no_body:
            return keep_alive
        kept = bytearray()
        sent = 0
        try:
            for item in body:
                chunk = item.encode("utf-8") if isinstance(item, str) else item
                if not isinstance(chunk, bytes | bytearray):
                    raise TypeError(
                        f"a streamed body yields bytes or str, not {type(item).__name__}"
                    )
                if not chunk:
                    continue  # an empty chunk would end a chunked body
                if sent and plan.chunk_delay is not None:
                    _pause(sock, plan.chunk_delay.draw(), environ, reports)
                data = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else bytes(chunk)
                try:
                    sock.sendall(data)
                except OSError:
                    raise _Hangup from None
                if len(kept) < STREAM_LOG_LIMIT:
                    kept += chunk[: STREAM_LOG_LIMIT - len(kept)]
                sent += len(chunk)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except (_Hangup, OSError):  # the client left (or stop()): not the handler's fault
            if reports.streamed is not None:
                reports.streamed(environ, status_line, headers, bytes(kept), sent, None, False)
            raise _Hangup from None
        except BaseException as exc:  # the handler's body raised: KeyboardInterrupt included
            if reports.streamed is not None:
                reports.streamed(environ, status_line, headers, bytes(kept), sent, exc, False)
            raise _Hangup from None
        if reports.streamed is not None:
            reports.streamed(environ, status_line, headers, bytes(kept), sent, None, True)
        return keep_alive
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                close()


def _commit(
    sock: socket.socket, fault: FaultSpec, status_line: str, headers: list[tuple[str, str]]
) -> None:
    """Commit ``fault`` on the connection; the caller then hangs up."""
    kind = fault.fault.value
    with contextlib.suppress(OSError, BadResponse):
        if kind == "reset":
            # Closing with a zero linger time sends an RST instead of a FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif kind == "partial_body":
            kept = [(n, v) for n, v in headers if n.lower() != "content-length"]
            encoded = encode_head(status_line, kept)[0]
            sock.sendall(
                encoded
                + b"Content-Length: %d\r\nDate: %s\r\n\r\n" % (len(fault.data), DATE.get())
                + fault.data[: fault.sent]
            )
        elif kind == "garbage":
            sock.sendall(fault.data)
        elif kind == "stall":
            _stall(sock, fault.stall_seconds)


def _stall(sock: socket.socket, seconds: float) -> None:
    """Send nothing until the client closes, ``stop()`` shuts the socket, or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    for _ in range(_LINGER_READS):  # what the client still sends is dropped
        left = deadline - time.monotonic()
        if left <= 0:
            return
        sock.settimeout(left)
        try:
            if not socket.socket.recv(sock, 65536):
                return
        except OSError:  # TimeoutError included
            return


def linger(sock: socket.socket) -> None:
    """Close gracefully: end our side, then read and drop what the client still sends.

    Closing a socket with unread input makes the kernel reset the connection, and
    a client still uploading a body then loses the answer it has not read yet (a
    413, say). Bounded: :data:`LINGER_BYTES`, :data:`LINGER_SECONDS`, and a count
    of reads. Raw socket calls: on TLS the dropped bytes need no decrypting.
    """
    try:
        socket.socket.shutdown(sock, socket.SHUT_WR)
        deadline = time.monotonic() + LINGER_SECONDS
        drained = 0
        for _ in range(_LINGER_READS):
            left = deadline - time.monotonic()
            if left <= 0 or drained >= LINGER_BYTES:
                return
            sock.settimeout(left)
            chunk = socket.socket.recv(sock, 65536)
            if not chunk:
                return
            drained += len(chunk)
    except OSError:
        return


def _no_write(data: bytes) -> object:
    raise NotImplementedError("the write() callable of WSGI is not supported")
