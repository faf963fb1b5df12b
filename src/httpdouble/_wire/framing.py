"""Responses as bytes: the status line, the handler's headers, and the server's framing.

A handler's status and headers are checked here (HTTP/1.1 must be able to carry them)
and encoded once; :func:`frame` adds what the server owns (``Content-Length``, ``Date``,
``Connection``) and the body. The connection threads and the I/O loop both frame
their replies with it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import time
from collections.abc import Iterable
from email.utils import formatdate

from .request import is_token

NO_BODY_STATUS = frozenset({204, 304})
# A status line or header of a response: control characters other than HTAB are refused.
# Compiled on first use by re's own cache: a module-level re.compile costs every import
# about 60 us, for a check that seldom runs (issue 27).
_BAD_TEXT = r"[\x00-\x08\x0a-\x1f\x7f]"
# Response header names already checked to be tokens.
_GOOD_NAMES: set[str] = set()
# Hop-by-hop and framing headers are the server's to send, never the handler's.
_SERVER_HEADERS = frozenset({"connection", "transfer-encoding", "keep-alive", "upgrade"})
_GOOD_NAMES_MAX = 1024
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


def _werkzeug_version() -> str:
    import werkzeug

    # An installed wheel's metadata folder is named after its version: one directory
    # listing, where importlib.metadata scans every distribution on sys.path (2 to 18 ms
    # here, at every process's first server: issue 27).
    folder = os.path.dirname(os.path.dirname(werkzeug.__file__ or ""))
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            lowered = name.lower()
            if lowered.startswith("werkzeug-") and lowered.endswith(".dist-info"):
                return name[len("werkzeug-") : -len(".dist-info")]
    import importlib.metadata

    try:  # pragma: no cover - an egg, a source tree or a vendored werkzeug
        return importlib.metadata.version("werkzeug")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


@functools.cache
def server_line() -> str:
    """What werkzeug's development server, and so pytest-httpserver, sends as ``Server``.

    Suites check that it starts with "Werkzeug". A handler's own Server header replaces it.
    Read at the first response, not at import: the version costs a directory listing.
    """
    return f"Server: Werkzeug/{_werkzeug_version()} Python/{sys.version.split()[0]}\r\n"


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


DATE = _DateCache()


def error_response(status: int, reason: str) -> bytes:
    body = f"{status} {_REASONS.get(status, 'Error')}: {reason}\n".encode("utf-8", "replace")
    return (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"{server_line()}"
        "Connection: close\r\n\r\n"
    ).encode("ascii") + body


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
        len(code) != 3
        or not code.isdigit()
        or not code.isascii()
        or code[0] == "0"
        or (len(status) > 3 and status[3] != " ")
        or (not status.isprintable() and re.search(_BAD_TEXT, status))
    ):
        raise BadResponse(f"status {status[:40]!r} is not '<3 digits> <reason>' on one line")


def _check_name(name: str) -> None:
    if name in _GOOD_NAMES:
        return
    if not isinstance(name, str) or not is_token(name.encode("latin-1", "replace")):
        raise BadResponse(f"header name {name!r} is not an HTTP token")
    if len(_GOOD_NAMES) < _GOOD_NAMES_MAX:
        _GOOD_NAMES.add(name)


def encode_head(status: str, headers: Iterable[tuple[str, str]]) -> tuple[bytes, bool, bool, bool]:
    """Return the status line and the handler's headers as bytes, without the framing ones.

    Also return whether they have a ``Content-Length`` and a ``Date``, and whether
    they ask to close the connection.

    :raises BadResponse: when the status or a header cannot be sent as HTTP/1.1.
    """
    _check_status(status)
    head = [f"HTTP/1.1 {status}\r\n"]
    has_length = has_date = closes = has_server = False
    for name, value in headers:
        _check_name(name)
        if not value.isprintable() and re.search(_BAD_TEXT, value):
            raise BadResponse(f"header {name} has a control character in its value {value!r}")
        lower = name.lower()
        if lower == "content-length":
            has_length = True
        elif lower == "date":
            has_date = True
        elif lower == "server":
            has_server = True
        elif lower in _SERVER_HEADERS:
            if lower == "connection" and "close" in value.lower():
                closes = True
            continue  # the body is sent whole, with a Content-Length
        head.append(f"{name}: {value}\r\n")
    if not has_server:
        head.append(server_line())
    try:
        return "".join(head).encode("latin-1"), has_length, has_date, closes
    except UnicodeEncodeError as exc:
        text = exc.object[max(0, exc.start - 20) : exc.end + 20]
        raise BadResponse(f"the head is not latin-1 text: {text!r}") from None


def frame(
    status_line: str,
    headers: list[tuple[str, str]],
    body: bytes,
    keep_alive: bool,
    is_head: bool,
    http10: bool,
) -> tuple[bytes, bool]:
    """Return the whole response as bytes, and whether the connection stays open.

    :raises BadResponse: when the status or a header cannot be sent as HTTP/1.1.
    """
    head, sent, keep_alive = frame_parts(status_line, headers, body, keep_alive, is_head, http10)
    return head + sent if sent else head, keep_alive


def frame_parts(
    status_line: str,
    headers: list[tuple[str, str]],
    body: bytes,
    keep_alive: bool,
    is_head: bool,
    http10: bool,
) -> tuple[bytes, bytes, bool]:
    """Return the head as bytes, the body to send after it (``body`` itself, or ``b""``),
    and whether the connection stays open: a big body is sent as it is, never copied.

    :raises BadResponse: when the status or a header cannot be sent as HTTP/1.1.
    """
    if type(headers) is PreparedHeaders:
        encoded, has_length, has_date, closes = headers.encoded
    else:
        encoded, has_length, has_date, closes = encode_head(status_line, headers)
    code = int(status_line[:3])
    if closes:
        keep_alive = False
    head = [encoded]
    if not has_length and code not in NO_BODY_STATUS and code >= 200 and not is_head:
        head.append(b"Content-Length: %d\r\n" % len(body))
    if not has_date:
        head.append(b"Date: " + DATE.get() + b"\r\n")
    if not keep_alive:
        head.append(b"Connection: close\r\n")
    elif http10:
        head.append(b"Connection: keep-alive\r\n")
    head.append(b"\r\n")
    sent = body if not is_head and code not in NO_BODY_STATUS else b""
    return b"".join(head), sent, keep_alive
