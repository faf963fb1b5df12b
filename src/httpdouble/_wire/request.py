"""HTTP/1.1 requests from bytes: the request line, header fields and the body.

Every request is bounded (request line, header count and size, body size), and
every malformed one raises :class:`BadRequest` with the status to answer.
Whitespace around a field value is SP and HTAB only, lengths are ASCII digits,
and every line of a chunked body ends in CRLF: nowhere may two readings of the
same bytes frame a body differently.
"""

from __future__ import annotations

import io
import re
import socket
import sys
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from .._errors import HTTPDoubleUsageError
from .._values import Value
from .target import TUNNEL_KEY, connect_refusal, is_authority, take_absolute_form, tunnel_host

# Token characters (RFC 9110 5.6.2) and visible ASCII (RFC 9112 3.2: a request target), as
# deletion tables for bytes.translate(): each check runs in C, and no regex is compiled at
# import (about 60 us each, in every process: issue 27).
_TOKEN_CHARS = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_VISIBLE = bytes(range(0x21, 0x7F))
_VERSIONS = (b"HTTP/1.1", b"HTTP/1.0")
_COMMON_METHODS = frozenset((b"GET", b"POST", b"PUT", b"PATCH", b"DELETE", b"HEAD", b"OPTIONS"))
# In a field value (and a chunk extension): control characters other than HTAB, bare CR
# included. Looked for only in a value that is not printable: compiled then, by re's cache.
_BAD_VALUE = rb"[\x00-\x08\x0a-\x1f\x7f]"
_TLS_HANDSHAKE = b"\x16"

_HEX = rb"[0-9A-Fa-f]+"  # chunked bodies only: compiled on first use, by re's cache
# Header name as sent -> its environ key ("" for a name with "_", which is dropped).
_ENVIRON_KEYS: dict[bytes, str] = {}
_ENVIRON_KEYS_MAX = 1024


def is_token(data: bytes) -> bool:
    """Return whether ``data`` is an HTTP token: one or more token characters."""
    return bool(data) and not data.translate(None, _TOKEN_CHARS)


def has_invisible(data: bytes) -> bool:
    """Return whether ``data`` has a byte that is not visible ASCII (space, control, 8-bit)."""
    return bool(data.translate(None, _VISIBLE))


if TYPE_CHECKING:  # for annotations only: a Protocol class costs every import

    class Reader(Protocol):
        """What requests are read from: a buffered socket file, or the loop's reader."""

        def readline(self, limit: int = -1, /) -> bytes: ...

        def read(self, size: int = -1, /) -> bytes: ...


class Limits(Value):
    """Bounds on what one request may send; over a bound the request gets a 4xx.

    Immutable; equal when every bound is.

    :param max_request_line: bytes in the request line (414 above it).
    :param max_header_count: number of header lines (431 above it).
    :param max_header_bytes: bytes of all header lines together (431 above it).
    :param max_body_bytes: bytes of the body, after de-chunking (413 above it).
    """

    __slots__ = __match_args__ = (
        "max_request_line",
        "max_header_count",
        "max_header_bytes",
        "max_body_bytes",
    )
    max_request_line: int
    max_header_count: int
    max_header_bytes: int
    max_body_bytes: int

    def __init__(
        self,
        max_request_line: int = 8192,
        max_header_count: int = 100,
        max_header_bytes: int = 65536,
        max_body_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        given = (max_request_line, max_header_count, max_header_bytes, max_body_bytes)
        defaults = Limits.__init__.__defaults__ or given
        for name, value, default in zip(self.__match_args__, given, defaults, strict=True):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise HTTPDoubleUsageError(
                    f"Limits({name}=...)",
                    expected="a positive int",
                    got=value,
                    remedy=f"pass e.g. Limits({name}={default}) (the default)",
                )
            object.__setattr__(self, name, value)


class BadRequest(Exception):
    """A request that breaks HTTP/1.1 or a limit; carries the status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


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


class ConnectionInfo:
    """What the WSGI environ needs to know about the connection.

    :ivar keep_alive: whether the server may keep the connection open after a response
        (``HTTPServer.keep_alive`` when the connection was accepted); ``False`` closes it
        after every response, whatever the client asked.
    """

    __slots__ = (
        "base",
        "keep_alive",
        "remote_addr",
        "remote_port",
        "scheme",
        "server_name",
        "server_port",
        "tunnel",
        "tunnel_target",
    )

    def __init__(
        self,
        server_name: str,
        server_port: int,
        scheme: str,
        remote_addr: str,
        remote_port: int,
        keep_alive: bool = True,
        tunnel: Callable[[socket.socket, dict[str, Any], Reader], None] | None = None,
        tunnel_target: str | None = None,
    ) -> None:
        self.server_name = server_name
        self.server_port = server_port
        self.scheme = scheme
        self.remote_addr = remote_addr
        self.remote_port = remote_port
        self.keep_alive = keep_alive
        # Opens a tunnel for a ``CONNECT`` (the server's; ``None``: CONNECT is refused), and
        # the ``host:port`` of the tunnel this connection is inside of, if it is.
        self.tunnel = tunnel
        self.tunnel_target = tunnel_target
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
        if self.tunnel_target is not None:
            self.base[TUNNEL_KEY] = self.tunnel_target


def read_request_line(rfile: Reader, limits: Limits) -> bytes:
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


def read_request(
    rfile: Reader,
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
    if method not in _COMMON_METHODS and not is_token(method):
        raise BadRequest(400, "method is not a valid HTTP token")
    if version not in _VERSIONS:
        if version.startswith(b"HTTP/"):
            raise BadRequest(505, f"{version.decode('latin-1')} is not served; use HTTP/1.1")
        raise BadRequest(400, "protocol version is not HTTP/1.0 or HTTP/1.1")
    if not target or has_invisible(target):
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
        problem = add_field(environ, key, text, name)
        if problem:
            raise BadRequest(400, problem)

    http10 = version == b"HTTP/1.0"
    if "HTTP_HOST" not in environ:
        if not http10:
            raise BadRequest(400, "HTTP/1.1 request without a Host header")
        if info.tunnel_target is not None:  # the tunnel says which host it is for
            environ["HTTP_HOST"] = tunnel_host(info.tunnel_target, info.scheme)
    connection = environ.get("HTTP_CONNECTION", "").lower()
    keep_alive = info.keep_alive and (
        "keep-alive" in connection if http10 else "close" not in connection
    )

    if method == b"CONNECT":
        if info.tunnel is None or not is_authority(target):
            raise BadRequest(400, connect_refusal(info.tunnel is not None, target))
        path, query = b"", b""
    else:
        path, query = _split_target(target)
    body = _read_body(rfile, sock, environ, limits, http10)
    complete_environ(environ, method, target, path, query, version, body, info)
    if target[:1] != b"/" and target != b"*" and method != b"CONNECT":
        take_absolute_form(environ, target)
    return environ, keep_alive


def complete_environ(
    environ: dict[str, Any],
    method: bytes,
    target: bytes,
    path: bytes,
    query: bytes,
    version: bytes,
    body: bytes | BodyOnDemand,
    info: ConnectionInfo,
) -> None:
    """Add the request line, the connection and the body to an environ of header fields."""
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


def add_field(environ: dict[str, Any], key: str, text: str, name: bytes) -> str:
    """Add a header field to an environ; return why the request is refused ("" if it is not).

    Repeated fields are joined (cookies with "; "); a second ``Host``, or a second
    ``Content-Type`` or ``Content-Length`` with another value, makes the request malformed.
    Both request parsers add fields here, so they never disagree on a head.
    """
    if key not in environ:
        environ[key] = text
    elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ[key] != text:
            return f"conflicting {name.decode()} headers"
    elif key == "HTTP_HOST":
        return "more than one Host header"
    else:
        environ[key] += ("; " if key == "HTTP_COOKIE" else ", ") + text
    return ""


def _field(line: bytes, what: str) -> tuple[bytes, str]:
    """Return the name and value of a header or trailer line (line end removed).

    Optional whitespace is SP and HTAB only: ``str.strip()`` would also take
    ``\\x0b``, ``\\x1c`` or ``\\xa0`` for whitespace, and ``Transfer-Encoding:
    \\x0bchunked`` for chunked.
    """
    if line[0] in b" \t":
        raise BadRequest(400, f"obsolete {what} line folding is not accepted")
    name, colon, value = line.partition(b":")
    if not colon or (name not in _ENVIRON_KEYS and not is_token(name)):
        raise BadRequest(400, f"malformed {what} line {line[:60]!r}")
    value = value.strip(b" \t")
    text = value.decode("latin-1")
    # isprintable() is the fast path: true for ordinary values; HTAB and obs-text need a look.
    if not text.isprintable() and re.search(_BAD_VALUE, value):
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
    rfile: Reader, sock: socket.socket, environ: dict[str, Any], limits: Limits, http10: bool
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


def _read_exact(rfile: Reader, length: int) -> bytes:
    body = rfile.read(length)
    if len(body) != length:
        raise BadRequest(400, f"body truncated: {len(body)} of {length} bytes arrived")
    return body


_UNREAD, READ, _SKIPPED, _FAILED = "unread", "read", "skipped", "failed"


class BodyOnDemand(io.BytesIO):
    """``wsgi.input`` of a request sent with ``Expect: 100-continue``.

    The body is read from the connection on the first read of any kind (the
    dispatcher's matchers and log read it too), after ``100 Continue`` is sent.
    A response chosen without reading it goes out as the final answer, and the
    connection then closes (the client may never send the body).
    """

    def __init__(
        self,
        rfile: Reader,
        sock: socket.socket,
        environ: dict[str, Any],
        limits: Limits,
        length: int,
    ) -> None:
        super().__init__()
        # Dropped once read or skipped: the environ holds this stream, so no cycle is kept.
        self._source: tuple[Reader, socket.socket, dict[str, Any], Limits, int] | None = (
            rfile,
            sock,
            environ,
            limits,
            length,
        )
        self.state = _UNREAD
        self.error: BadRequest | None = None

    def _load(self) -> None:
        if self.error is not None:
            raise self.error
        if self._source is None:  # read or skipped
            return
        rfile, sock, environ, limits, length = self._source
        self._source = None
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
        self.state = READ
        super().write(body)
        super().seek(0)
        environ["CONTENT_LENGTH"] = str(len(body))

    def skip(self) -> None:
        """Answer without the body: reads now give ``b""``; the connection will close."""
        if self._source is not None and self.state is _UNREAD:
            self.state = _SKIPPED
            self._source[2]["CONTENT_LENGTH"] = "0"
            self._source = None

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


def _read_chunked(rfile: Reader, limits: Limits) -> bytes:
    """Read a chunked body; every line of it ends in CRLF, trailers are checked and dropped."""
    chunks: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(1026)
        if line[-2:] != b"\r\n":
            raise BadRequest(400, "chunked body: chunk-size line not ended by CRLF, or too long")
        size_text, _, extension = line[:-2].partition(b";")
        # No whitespace around the size: "3 " or " 3" is how framing is made ambiguous.
        if not re.fullmatch(_HEX, size_text) or len(size_text) > 16:
            raise BadRequest(400, f"chunked body: bad chunk size {size_text[:20]!r}")
        if extension and re.search(_BAD_VALUE, extension):
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


def body_unread(environ: dict[str, Any]) -> bool:
    """Return whether the client may still be sending a body nobody read."""
    stream = environ.get("wsgi.input")
    return type(stream) is BodyOnDemand and stream.state is not READ
