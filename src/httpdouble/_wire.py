"""HTTP/1.1 on one connection: parse requests, call the WSGI app, write responses.

werkzeug's development server closes the connection after every response; this
module keeps it open (HTTP/1.1 keep-alive) because it always reads the whole
body before calling the app, so the next request line is where it expects it.
Every request is bounded (request line, header count and size, body size), and
every malformed one gets a 4xx answer, is recorded, and closes the connection.
"""

from __future__ import annotations

import contextlib
import io
import re
import socket
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate
from typing import IO, TYPE_CHECKING, Any

from ._errors import HTTPDoubleUsageError

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSIONS = (b"HTTP/1.1", b"HTTP/1.0")
_COMMON_METHODS = frozenset((b"GET", b"POST", b"PUT", b"PATCH", b"DELETE", b"HEAD", b"OPTIONS"))
# A target is visible ASCII only (RFC 9112 3.2): no space, control or non-ASCII byte.
_BAD_TARGET = re.compile(rb"[^\x21-\x7e]")
# In a field value (and a chunk extension): control characters other than HTAB, bare CR included.
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_NO_BODY_STATUS = frozenset({204, 304})
_TLS_HANDSHAKE = b"\x16"
# A status line or header of a response: control characters other than HTAB are refused.
_BAD_TEXT = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Response header names already checked to be tokens.
_GOOD_NAMES: set[str] = set()
# Lingering close: how much input is read and dropped, and for how long, before closing.
LINGER_BYTES = 64 * 1024 * 1024
LINGER_SECONDS = 2.0
_LINGER_READS = 4096
LOG_HANDLE = "httpdouble.log_handle"
"""Environ key of the request's log record, for the connection to amend."""
_HEX = re.compile(rb"[0-9A-Fa-f]+")
# Hop-by-hop and framing headers are the server's to send, never the handler's.
_SERVER_HEADERS = frozenset({"connection", "transfer-encoding", "keep-alive", "upgrade"})
# Header name as sent -> its environ key ("" for a name with "_", which is dropped).
_ENVIRON_KEYS: dict[bytes, str] = {}
_ENVIRON_KEYS_MAX = 1024
_REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    505: "HTTP Version Not Supported",
}


@dataclass(frozen=True)
class Limits:
    """Bounds on what one request may send; over a bound the request gets a 4xx.

    :param max_request_line: bytes in the request line (414 above it).
    :param max_header_count: number of header lines (431 above it).
    :param max_header_bytes: bytes of all header lines together (431 above it).
    :param max_body_bytes: bytes of the body, after de-chunking (413 above it).
    """

    max_request_line: int = 8192
    max_header_count: int = 100
    max_header_bytes: int = 65536
    max_body_bytes: int = 10 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("max_request_line", "max_header_count", "max_header_bytes", "max_body_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise HTTPDoubleUsageError(
                    f"Limits({name}=...)",
                    expected="a positive int",
                    got=value,
                    remedy=f"pass e.g. Limits({name}={getattr(Limits, name)}) (the default)",
                )


class BadRequest(Exception):
    """A request that breaks HTTP/1.1 or a limit; carries the status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class _DateCache:
    """``Date`` header text, recomputed at most once a second."""

    def __init__(self) -> None:
        self.second = -1
        self.value = b""

    def get(self) -> bytes:
        now = int(time.time())
        if now != self.second:
            self.value = formatdate(now, usegmt=True).encode("ascii")
            self.second = now
        return self.value


_DATE = _DateCache()


def _environ_key(name: bytes) -> str:
    """Return the environ key of a valid header name, remembering common ones."""
    if b"_" in name:
        key = ""
    else:
        key = name.decode("ascii").upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
    if len(_ENVIRON_KEYS) < _ENVIRON_KEYS_MAX:
        _ENVIRON_KEYS[name] = key
    return key


def error_response(status: int, reason: str) -> bytes:
    body = f"{status} {_REASONS.get(status, 'Error')}: {reason}\n".encode("utf-8", "replace")
    return (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode("ascii") + body


@dataclass
class ConnectionInfo:
    """What the WSGI environ needs to know about the connection."""

    server_name: str
    server_port: int
    scheme: str
    remote_addr: str
    remote_port: int

    def __post_init__(self) -> None:
        # The part of every environ that stays the same on this connection.
        self.base: dict[str, Any] = {
            "SCRIPT_NAME": "",
            "SERVER_NAME": self.server_name,
            "SERVER_PORT": str(self.server_port),
            "REMOTE_ADDR": self.remote_addr,
            "REMOTE_PORT": str(self.remote_port),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": self.scheme,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }


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
        while True:
            request_line = b""
            environ: dict[str, Any] | None = None
            try:
                request_line = _read_request_line(rfile, limits)
                if not request_line:
                    return
                environ, keep_alive = _read_request(rfile, sock, request_line, info, limits)
                if not _respond(sock, environ, app, keep_alive, reports):
                    if body_unread(environ):
                        linger(sock)
                    return
            except BadRequest as exc:
                payload = error_response(exc.status, exc.reason)
                shown = request_line.decode("latin-1").rstrip("\r\n")
                reports.malformed(exc.status, exc.reason, shown, payload, environ)
                _send_quietly(sock, payload)
                linger(sock)
                return
    except (ConnectionError, TimeoutError, OSError):
        return
    finally:
        rfile.close()


def _send_quietly(sock: socket.socket, payload: bytes) -> None:
    with contextlib.suppress(OSError):
        sock.sendall(payload)


def _read_request_line(rfile: IO[bytes], limits: Limits) -> bytes:
    peek = getattr(rfile, "peek", None)
    if peek is not None and peek(1)[:1] == _TLS_HANDSHAKE:
        # A ClientHello has no newline: reading a line would wait for the client forever.
        raise BadRequest(400, "a TLS handshake arrived on a plain-HTTP port; use http://")
    line = rfile.readline(limits.max_request_line + 1)
    # RFC 9112 2.2: ignore at least one empty line before a request line.
    while line in (b"\r\n", b"\n"):
        line = rfile.readline(limits.max_request_line + 1)
    if len(line) > limits.max_request_line:
        raise BadRequest(414, f"request line longer than {limits.max_request_line} bytes")
    if line and not line.endswith(b"\n"):
        raise BadRequest(400, "connection closed in the middle of the request line")
    return line


def _read_request(
    rfile: IO[bytes],
    sock: socket.socket,
    request_line: bytes,
    info: ConnectionInfo,
    limits: Limits,
) -> tuple[dict[str, Any], bool]:
    line = request_line[:-2] if request_line[-2:] == b"\r\n" else request_line[:-1]
    if b"\r" in line:
        raise BadRequest(400, "bare CR in the request line")
    parts = line.split(b" ")
    if len(parts) != 3:
        if parts[0] == b"PRI":
            raise BadRequest(505, "HTTP/2 is not served here; use HTTP/1.1")
        raise BadRequest(400, "request line is not 'METHOD target HTTP/1.x'")
    method, target, version = parts
    if method not in _COMMON_METHODS and not _TOKEN.fullmatch(method):
        raise BadRequest(400, "method is not a valid HTTP token")
    if version not in _VERSIONS:
        if version.startswith(b"HTTP/"):
            raise BadRequest(505, f"{version.decode('latin-1')} is not served; use HTTP/1.1")
        raise BadRequest(400, "protocol version is not HTTP/1.0 or HTTP/1.1")
    if not target or _BAD_TARGET.search(target):
        raise BadRequest(400, "request target is empty or has a space, control or non-ASCII byte")

    environ: dict[str, Any] = {}
    header_bytes = 0
    count = 0
    while True:
        line = rfile.readline(limits.max_header_bytes + 1)
        if not line.endswith(b"\n"):
            if len(line) > limits.max_header_bytes:
                raise BadRequest(431, f"a header line is longer than {limits.max_header_bytes}")
            raise BadRequest(400, "connection closed in the middle of the headers")
        header_bytes += len(line)
        # CRLF ends a line; a bare LF is tolerated (RFC 9112 2.2), a bare CR is not.
        line = line[:-2] if line[-2:] == b"\r\n" else line[:-1]
        if not line:
            break
        count += 1
        if count > limits.max_header_count:
            raise BadRequest(431, f"more than {limits.max_header_count} header lines")
        if header_bytes > limits.max_header_bytes:
            raise BadRequest(431, f"headers larger than {limits.max_header_bytes} bytes")
        name, text = _field(line, "header")
        key = _ENVIRON_KEYS.get(name)
        if key is None:
            key = _environ_key(name)
        if not key:
            continue  # Could pass for a dash spelling of another header (Content_Length).
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if key in environ and environ[key] != text:
                raise BadRequest(400, f"conflicting {name.decode()} headers")
            environ[key] = text
            continue
        if key == "HTTP_HOST" and key in environ:
            raise BadRequest(400, "more than one Host header")
        if key in environ:
            sep = "; " if key == "HTTP_COOKIE" else ", "
            environ[key] = environ[key] + sep + text
        else:
            environ[key] = text

    http10 = version == b"HTTP/1.0"
    if not http10 and "HTTP_HOST" not in environ:
        raise BadRequest(400, "HTTP/1.1 request without a Host header")
    connection = environ.get("HTTP_CONNECTION", "").lower()
    keep_alive = "keep-alive" in connection if http10 else "close" not in connection

    path, query = _split_target(target)
    body = _read_body(rfile, sock, environ, limits, http10)
    if b"%" in path:
        path = urllib.parse.unquote_to_bytes(path)
    uri = target.decode("latin-1")
    environ.update(info.base)
    environ["REQUEST_METHOD"] = method.decode("ascii")
    environ["PATH_INFO"] = path.decode("latin-1")
    environ["QUERY_STRING"] = query.decode("latin-1")
    environ["REQUEST_URI"] = environ["RAW_URI"] = uri
    environ["SERVER_PROTOCOL"] = version.decode("ascii")
    environ["wsgi.errors"] = sys.stderr  # read per request: pytest swaps it between tests
    if type(body) is bytes:
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body)) if body else environ.get("CONTENT_LENGTH", "")
    else:
        environ["wsgi.input"] = body
        if "CONTENT_LENGTH" not in environ:  # chunked: its length is known once read
            environ["wsgi.input_terminated"] = True
    return environ, keep_alive


def _field(line: bytes, what: str) -> tuple[bytes, str]:
    """Return the name and value of a header or trailer line (line end removed).

    Optional whitespace is SP and HTAB only: ``str.strip()`` would also take
    ``\\x0b``, ``\\x1c`` or ``\\xa0`` for whitespace, and ``Transfer-Encoding:
    \\x0bchunked`` for chunked.
    """
    if line[0] in b" \t":
        raise BadRequest(400, f"obsolete {what} line folding is not accepted")
    name, colon, value = line.partition(b":")
    if not colon or (name not in _ENVIRON_KEYS and not _TOKEN.fullmatch(name)):
        raise BadRequest(400, f"malformed {what} line {line[:60]!r}")
    value = value.strip(b" \t")
    text = value.decode("latin-1")
    # isprintable() is the fast path: true for ordinary values; HTAB and obs-text need a look.
    if not text.isprintable() and _BAD_VALUE.search(value):
        raise BadRequest(
            400, f"{what} {name.decode()} has a control character (or a bare CR) in its value"
        )
    return name, text


def _split_target(target: bytes) -> tuple[bytes, bytes]:
    if target.startswith(b"/"):
        path, _, query = target.partition(b"?")
        return path, query
    if target == b"*":
        return b"*", b""
    if target[:7].lower() == b"http://" or target[:8].lower() == b"https://":
        try:
            parts = urllib.parse.urlsplit(target)
        except ValueError as exc:  # an unbalanced "[" in the authority, say
            raise BadRequest(400, f"request target is not a valid absolute URL: {exc}") from None
        return parts.path or b"/", parts.query
    raise BadRequest(400, "request target is not a path or an absolute URL")


def _read_body(
    rfile: IO[bytes], sock: socket.socket, environ: dict[str, Any], limits: Limits, http10: bool
) -> bytes | BodyOnDemand:
    """Read the body now, or return a :class:`BodyOnDemand` when the client awaits a 100."""
    te = environ.pop("HTTP_TRANSFER_ENCODING", None)
    length_text = environ.get("CONTENT_LENGTH")
    length = -1  # chunked
    if te is not None:
        if length_text is not None:
            raise BadRequest(400, "both Transfer-Encoding and Content-Length are present")
        if http10:
            # RFC 9112 6.1: faulty framing in HTTP/1.0, whatever the coding says.
            raise BadRequest(400, "Transfer-Encoding in an HTTP/1.0 request")
        # The value has lost its SP/HTAB only: "\xa0chunked" is not chunked.
        if te.lower() != "chunked" or not te.isascii():
            raise BadRequest(501, f"Transfer-Encoding {te!r} is not supported; use chunked")
    elif length_text is None:
        return b""
    else:
        if not length_text.isdigit() or not length_text.isascii() or len(length_text) > 18:
            raise BadRequest(400, f"Content-Length {length_text[:30]!r} is not a number")
        length = int(length_text)
        if length > limits.max_body_bytes:
            raise BadRequest(
                413, f"body of {length} bytes is over the {limits.max_body_bytes} limit"
            )
        if length == 0:
            return b""
    if not http10 and environ.get("HTTP_EXPECT", "").lower() == "100-continue":
        return BodyOnDemand(rfile, sock, environ, limits, length)
    return _read_exact(rfile, length) if length >= 0 else _read_chunked(rfile, limits)


def _read_exact(rfile: IO[bytes], length: int) -> bytes:
    body = rfile.read(length)
    if len(body) != length:
        raise BadRequest(400, f"body truncated: {len(body)} of {length} bytes arrived")
    return body


_UNREAD, _READ, _SKIPPED, _FAILED = "unread", "read", "skipped", "failed"


class BodyOnDemand(io.BytesIO):
    """``wsgi.input`` of a request sent with ``Expect: 100-continue``.

    The body is read from the connection on the first read of any kind (the
    dispatcher's matchers and log read it too), after ``100 Continue`` is sent.
    A response chosen without reading it goes out as the final answer, and the
    connection then closes (the client may never send the body).
    """

    def __init__(
        self,
        rfile: IO[bytes],
        sock: socket.socket,
        environ: dict[str, Any],
        limits: Limits,
        length: int,
    ) -> None:
        super().__init__()
        self._source = (rfile, sock, environ, limits, length)
        self.state = _UNREAD
        self.error: BadRequest | None = None

    def _load(self) -> None:
        if self.state is _READ or self.state is _SKIPPED:
            return
        if self.error is not None:
            raise self.error
        rfile, sock, environ, limits, length = self._source
        try:
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = _read_exact(rfile, length) if length >= 0 else _read_chunked(rfile, limits)
        except BadRequest as exc:
            self.error = exc
            self.state = _FAILED
            raise
        except OSError as exc:
            self.error = BadRequest(400, f"connection failed while the body was read: {exc}")
            self.state = _FAILED
            raise self.error from None
        self.state = _READ
        super().write(body)
        super().seek(0)
        environ["CONTENT_LENGTH"] = str(len(body))

    def skip(self) -> None:
        """Answer without the body: reads now give ``b""``; the connection will close."""
        if self.state is _UNREAD:
            self.state = _SKIPPED
            self._source[2]["CONTENT_LENGTH"] = "0"

    def read(self, size: int | None = -1) -> bytes:
        self._load()
        return super().read(size)

    def read1(self, size: int | None = -1) -> bytes:
        self._load()
        return super().read1(size)

    def readinto(self, buffer: Any) -> int:
        self._load()
        return super().readinto(buffer)

    def readline(self, size: int | None = -1) -> bytes:
        self._load()
        return super().readline(size)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        self._load()
        return super().readlines(hint)

    def __next__(self) -> bytes:
        self._load()
        return super().__next__()

    def getvalue(self) -> bytes:
        self._load()
        return super().getvalue()

    def getbuffer(self) -> memoryview:
        self._load()
        return super().getbuffer()


def skip_unread_body(environ: dict[str, Any]) -> None:
    """Let the answer to this request go without its body if nothing has read it yet.

    The dispatcher calls it when no handler matched: the client awaiting a
    ``100 Continue`` then gets the final status instead of sending the body.
    """
    stream = environ.get("wsgi.input")
    if type(stream) is BodyOnDemand:
        stream.skip()


def _read_chunked(rfile: IO[bytes], limits: Limits) -> bytes:
    """Read a chunked body; every line of it ends in CRLF, trailers are checked and dropped."""
    chunks: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(1026)
        if line[-2:] != b"\r\n":
            raise BadRequest(400, "chunked body: chunk-size line not ended by CRLF, or too long")
        size_text, _, extension = line[:-2].partition(b";")
        # No whitespace around the size: "3 " or " 3" is how framing is made ambiguous.
        if not _HEX.fullmatch(size_text) or len(size_text) > 16:
            raise BadRequest(400, f"chunked body: bad chunk size {size_text[:20]!r}")
        if extension and _BAD_VALUE.search(extension):
            raise BadRequest(400, "chunked body: control character in a chunk extension")
        size = int(size_text, 16)
        if size == 0:
            break
        total += size
        if total > limits.max_body_bytes:
            raise BadRequest(413, f"chunked body over the {limits.max_body_bytes} byte limit")
        data = rfile.read(size)
        if len(data) != size:
            raise BadRequest(400, "chunked body truncated")
        chunks.append(data)
        if rfile.read(2) != b"\r\n":
            raise BadRequest(400, "chunked body: chunk data not followed by CRLF")
    trailer_bytes = 0
    while True:  # Trailer fields are checked like header lines, then dropped.
        line = rfile.readline(limits.max_header_bytes + 1)
        if line[-2:] != b"\r\n":
            if len(line) > limits.max_header_bytes:
                raise BadRequest(431, "chunked body: trailers too large")
            raise BadRequest(400, "chunked body: trailer truncated or not ended by CRLF")
        if line == b"\r\n":
            return b"".join(chunks)
        trailer_bytes += len(line)
        if trailer_bytes > limits.max_header_bytes:
            raise BadRequest(431, "chunked body: trailers too large")
        _field(line[:-2], "trailer")


class PreparedHeaders(list[tuple[str, str]]):
    """WSGI response headers that also carry their encoding for :func:`_respond`.

    A plain list to any WSGI server; ours skips encoding them again. The dispatcher
    hands these out for static responses it serves many times.
    """

    def __init__(self, status: str, headers: Iterable[tuple[str, str]]) -> None:
        super().__init__(headers)
        self.encoded = encode_head(status, self)


class BadResponse(Exception):
    """A handler's response that HTTP/1.1 cannot carry (a CR in a header name, say)."""


def _check_status(status: str) -> None:
    code = status[:3]
    if (
        not code.isdigit()
        or not code.isascii()
        or code[0] == "0"
        or (len(status) > 3 and status[3] != " ")
        or (not status.isprintable() and _BAD_TEXT.search(status))
    ):
        raise BadResponse(f"status {status[:40]!r} is not '<3 digits> <reason>' on one line")


def _check_name(name: str) -> None:
    if name in _GOOD_NAMES:
        return
    if not isinstance(name, str) or not _TOKEN.fullmatch(name.encode("latin-1", "replace")):
        raise BadResponse(f"header name {name!r} is not an HTTP token")
    if len(_GOOD_NAMES) < _ENVIRON_KEYS_MAX:
        _GOOD_NAMES.add(name)


def encode_head(status: str, headers: Iterable[tuple[str, str]]) -> tuple[bytes, bool, bool, bool]:
    """Return the status line and the handler's headers as bytes, without the framing ones.

    Also return whether they have a ``Content-Length`` and a ``Date``, and whether
    they ask to close the connection.

    :raises BadResponse: when the status or a header cannot be sent as HTTP/1.1.
    """
    _check_status(status)
    head = [f"HTTP/1.1 {status}\r\n"]
    has_length = has_date = closes = False
    for name, value in headers:
        _check_name(name)
        if not value.isprintable() and _BAD_TEXT.search(value):
            raise BadResponse(f"header {name} has a control character in its value {value!r}")
        lower = name.lower()
        if lower == "content-length":
            has_length = True
        elif lower == "date":
            has_date = True
        elif lower in _SERVER_HEADERS:
            if lower == "connection" and "close" in value.lower():
                closes = True
            continue  # the body is sent whole, with a Content-Length
        head.append(f"{name}: {value}\r\n")
    try:
        return "".join(head).encode("latin-1"), has_length, has_date, closes
    except UnicodeEncodeError as exc:
        text = exc.object[max(0, exc.start - 20) : exc.end + 20]
        raise BadResponse(f"the head is not latin-1 text: {text!r}") from None


@dataclass(frozen=True)
class Reports:
    """Where a connection reports what the dispatcher cannot see.

    :ivar malformed: a request that could not be parsed, with ``(status, reason,
        request line, response bytes, environ or None)``; the environ is given when
        the request had already reached the app (its body failed to arrive later).
    :ivar bad_response: the app's response could not be sent, with ``(environ,
        exception, reason)``; returns the bytes of the 500 to send instead.
    :ivar undelivered: the response to this environ's request could not be sent.
    """

    malformed: Callable[[int, str, str, bytes, dict[str, Any] | None], None]
    bad_response: Callable[[dict[str, Any], BaseException, str], bytes]
    undelivered: Callable[[dict[str, Any]], None]


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
        if stream.state is not _READ:
            keep_alive = False  # answered without the body: the client may still send it
    try:
        if type(headers) is PreparedHeaders:
            encoded, has_length, has_date, closes = headers.encoded
        else:
            encoded, has_length, has_date, closes = encode_head(status_line, headers)
    except BadResponse as exc:
        return _send_bad_response(sock, environ, reports, exc, str(exc))
    code = int(status_line[:3])
    if closes:
        keep_alive = False
    head = [encoded]
    is_head = environ["REQUEST_METHOD"] == "HEAD"
    if not has_length and code not in _NO_BODY_STATUS and code >= 200 and not is_head:
        head.append(b"Content-Length: %d\r\n" % len(body))
    if not has_date:
        head.append(b"Date: " + _DATE.get() + b"\r\n")
    if not keep_alive:
        head.append(b"Connection: close\r\n")
    elif environ["SERVER_PROTOCOL"] == "HTTP/1.0":
        head.append(b"Connection: keep-alive\r\n")
    head.append(b"\r\n")
    if not is_head and code not in _NO_BODY_STATUS:
        head.append(body)
    _send(sock, b"".join(head), environ, reports)
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


def body_unread(environ: dict[str, Any]) -> bool:
    """Return whether the client may still be sending a body nobody read."""
    stream = environ.get("wsgi.input")
    return type(stream) is BodyOnDemand and stream.state is not _READ


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
