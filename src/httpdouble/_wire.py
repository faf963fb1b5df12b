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
_BAD_TARGET = re.compile(rb"[\x00-\x20\x7f]")
_NO_BODY_STATUS = frozenset({204, 304})
_TLS_HANDSHAKE = b"\x16"
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


MalformedCallback = Callable[[int, str, str, bytes], None]
"""Called with (status, reason, request line, the bytes of the error response)."""


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
    on_malformed: MalformedCallback,
) -> None:
    """Serve requests on ``sock`` until the client closes, asks to close, or errs."""
    rfile = sock.makefile("rb")
    try:
        while True:
            request_line = b""
            try:
                request_line = _read_request_line(rfile, limits)
                if not request_line:
                    return
                environ, keep_alive = _read_request(rfile, sock, request_line, info, limits)
            except BadRequest as exc:
                payload = error_response(exc.status, exc.reason)
                shown = request_line.decode("latin-1").rstrip("\r\n")
                on_malformed(exc.status, exc.reason, shown, payload)
                _send_quietly(sock, payload)
                return
            if not _respond(sock, environ, app, keep_alive):
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
    parts = request_line.rstrip(b"\r\n").split(b" ")
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
        raise BadRequest(400, "request target is empty or has control characters")

    environ: dict[str, Any] = {}
    header_bytes = 0
    count = 0
    while True:
        line = rfile.readline(limits.max_header_bytes + 1)
        if not line.endswith(b"\n"):
            if len(line) > limits.max_header_bytes:
                raise BadRequest(431, f"a header line is longer than {limits.max_header_bytes}")
            raise BadRequest(400, "connection closed in the middle of the headers")
        if line in (b"\r\n", b"\n"):
            break
        header_bytes += len(line)
        count += 1
        if count > limits.max_header_count:
            raise BadRequest(431, f"more than {limits.max_header_count} header lines")
        if header_bytes > limits.max_header_bytes:
            raise BadRequest(431, f"headers larger than {limits.max_header_bytes} bytes")
        if line[0] in b" \t":
            raise BadRequest(400, "obsolete header line folding is not accepted")
        name, colon, value = line.partition(b":")
        key = _ENVIRON_KEYS.get(name)
        if key is None:
            if not colon or not _TOKEN.fullmatch(name):
                raise BadRequest(400, f"malformed header line {line[:60]!r}")
            key = _environ_key(name)
        if not key:
            continue  # Could pass for a dash spelling of another header (Content_Length).
        raw = value.strip(b" \t\r\n")
        if b"\r" in raw or b"\0" in raw:
            raise BadRequest(400, f"header {name.decode()} has a NUL or CR in its value")
        text = raw.decode("latin-1")
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

    body = _read_body(rfile, sock, environ, limits)
    path, query = _split_target(target)
    if b"%" in path:
        path = urllib.parse.unquote_to_bytes(path)
    uri = target.decode("latin-1")
    environ.update(info.base)
    environ["REQUEST_METHOD"] = method.decode("ascii")
    environ["PATH_INFO"] = path.decode("latin-1")
    environ["QUERY_STRING"] = query.decode("latin-1")
    environ["REQUEST_URI"] = environ["RAW_URI"] = uri
    environ["SERVER_PROTOCOL"] = version.decode("ascii")
    environ["wsgi.input"] = io.BytesIO(body)
    environ["wsgi.errors"] = sys.stderr  # read per request: pytest swaps it between tests
    environ["CONTENT_LENGTH"] = str(len(body)) if body else environ.get("CONTENT_LENGTH", "")
    return environ, keep_alive


def _split_target(target: bytes) -> tuple[bytes, bytes]:
    if target.startswith(b"/"):
        path, _, query = target.partition(b"?")
        return path, query
    if target == b"*":
        return b"*", b""
    if target[:7].lower() == b"http://" or target[:8].lower() == b"https://":
        parts = urllib.parse.urlsplit(target)
        return parts.path or b"/", parts.query
    raise BadRequest(400, "request target is not a path or an absolute URL")


def _read_body(
    rfile: IO[bytes], sock: socket.socket, environ: dict[str, Any], limits: Limits
) -> bytes:
    te = environ.pop("HTTP_TRANSFER_ENCODING", None)
    length_text = environ.get("CONTENT_LENGTH")
    if te is not None:
        if length_text is not None:
            raise BadRequest(400, "both Transfer-Encoding and Content-Length are present")
        if te.strip().lower() != "chunked":
            raise BadRequest(501, f"Transfer-Encoding {te!r} is not supported; use chunked")
        _continue(sock, environ)
        return _read_chunked(rfile, limits)
    if not length_text:
        return b""
    if not length_text.isdigit() or len(length_text) > 18:
        raise BadRequest(400, f"Content-Length {length_text[:30]!r} is not a number")
    length = int(length_text)
    if length > limits.max_body_bytes:
        raise BadRequest(413, f"body of {length} bytes is over the {limits.max_body_bytes} limit")
    if length == 0:
        return b""
    _continue(sock, environ)
    body = rfile.read(length)
    if len(body) != length:
        raise BadRequest(400, f"body truncated: {len(body)} of {length} bytes arrived")
    return body


def _continue(sock: socket.socket, environ: dict[str, Any]) -> None:
    if (
        environ.get("HTTP_EXPECT", "").lower() == "100-continue"
        and environ.get("SERVER_PROTOCOL") == "HTTP/1.1"
    ):
        sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")


def _read_chunked(rfile: IO[bytes], limits: Limits) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(1026)
        if not line.endswith(b"\n"):
            raise BadRequest(400, "chunked body: chunk size line missing or too long")
        size_text = line.split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_text) or len(size_text) > 16:
            raise BadRequest(400, f"chunked body: bad chunk size {size_text[:20]!r}")
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
        if rfile.readline(3) not in (b"\r\n", b"\n"):
            raise BadRequest(400, "chunked body: chunk not followed by CRLF")
    trailer_bytes = 0
    while True:  # Trailer fields are read and dropped.
        line = rfile.readline(limits.max_header_bytes + 1)
        if not line.endswith(b"\n"):
            raise BadRequest(400, "chunked body: trailer truncated")
        if line in (b"\r\n", b"\n"):
            return b"".join(chunks)
        trailer_bytes += len(line)
        if trailer_bytes > limits.max_header_bytes:
            raise BadRequest(431, "chunked body: trailers too large")


class PreparedHeaders(list[tuple[str, str]]):
    """WSGI response headers that also carry their encoding for :func:`_respond`.

    A plain list to any WSGI server; ours skips encoding them again. The dispatcher
    hands these out for static responses it serves many times.
    """

    def __init__(self, status: str, headers: Iterable[tuple[str, str]]) -> None:
        super().__init__(headers)
        self.encoded = encode_head(status, self)


def encode_head(status: str, headers: Iterable[tuple[str, str]]) -> tuple[bytes, bool, bool, bool]:
    """Return the status line and the handler's headers as bytes, without the framing ones.

    Also return whether they have a ``Content-Length`` and a ``Date``, and whether
    they ask to close the connection.
    """
    head = [f"HTTP/1.1 {status}\r\n".encode("latin-1")]
    has_length = has_date = closes = False
    for name, value in headers:
        lower = name.lower()
        if lower == "content-length":
            has_length = True
        elif lower == "date":
            has_date = True
        elif lower in _SERVER_HEADERS:
            if lower == "connection" and "close" in value.lower():
                closes = True
            continue  # the body is sent whole, with a Content-Length
        head.append(f"{name}: {value}\r\n".encode("latin-1"))
    return b"".join(head), has_length, has_date, closes


def _respond(
    sock: socket.socket, environ: dict[str, Any], app: WSGIApplication, keep_alive: bool
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

    result: Iterable[bytes] = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    code = int(status_line[:3])
    if type(headers) is PreparedHeaders:
        encoded, has_length, has_date, closes = headers.encoded
    else:
        encoded, has_length, has_date, closes = encode_head(status_line, headers)
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
    sock.sendall(b"".join(head))
    return keep_alive


def _no_write(data: bytes) -> object:
    raise NotImplementedError("the write() callable of WSGI is not supported")
