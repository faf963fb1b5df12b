"""Whole request heads split at once: the I/O loop's parser for ordinary requests.

:mod:`.request` reads a request line by line from a blocking connection and
knows every rule and every error. This module reads a head that has arrived
whole in a buffer, splits it in one go and builds the same environ, for the
requests most clients send. Anything it is not sure of (a bare LF, a
``Transfer-Encoding``, ``Expect``, a value with a control character, a limit
nearly reached, an uncommon method) it leaves to :mod:`.request`, which then
answers exactly as it always does: the two never disagree on a request, the
loop just takes the common ones first.
"""

from __future__ import annotations

from typing import Any, Literal

from .request import (
    _COMMON_METHODS,
    _ENVIRON_KEYS,
    _VERSIONS,
    ConnectionInfo,
    Limits,
    _environ_key,
    add_field,
    complete_environ,
    has_invisible,
    is_token,
)

HAND_OVER: Literal[False] = False
"""What :func:`parse_head` returns for a request the line-by-line reader must take."""
# Bytes a head may take before the loop stops waiting for its end and hands it over.
WAIT_BYTES = 65536
# Bodies up to this size are waited for in the loop; a larger one is read by a thread.
LOOP_BODY_BYTES = 65536
_FIRST_BYTE_OK = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
# Header fields that need the line-by-line reader (a 100 to send, a coding to undo).
_HANDED_OVER_KEYS = frozenset(("HTTP_TRANSFER_ENCODING", "HTTP_EXPECT"))

Parsed = tuple[dict[str, Any], bool, int, bytes]
"""The environ, whether to keep the connection, how many bytes of the buffer it took, and
the head (without its blank line), which the log keeps instead of the environ."""


def parse_head(buf: bytearray, info: ConnectionInfo, limits: Limits) -> Parsed | bool | None:
    """Parse the request at the start of ``buf``.

    :returns: the environ, keep-alive, the bytes used and the head; ``None`` when more bytes
        must arrive first; :data:`HAND_OVER` when :mod:`.request` must read it.
    """
    if buf[0] not in _FIRST_BYTE_OK:  # a TLS hello, empty lines first, or no method
        return HAND_OVER
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if (
            len(buf) > WAIT_BYTES
            or buf.count(b"\n") != buf.count(b"\r\n")  # a bare LF may end a line, or the head
            or (buf.find(b"\n") < 0 and len(buf) > limits.max_request_line)
            or len(buf) > limits.max_request_line + limits.max_header_bytes
        ):
            return HAND_OVER  # the strict reader answers it now, as it always did
        return None
    head = bytes(buf[:end])
    lines = head.split(b"\r\n")
    breaks = len(lines) - 1
    if head.count(b"\n") != breaks or head.count(b"\r") != breaks:
        return HAND_OVER  # a bare CR or LF somewhere: the strict reader has the words for it
    request_line = lines[0]
    parts = request_line.split(b" ")
    if len(parts) != 3:
        return HAND_OVER
    method, target, version = parts
    if (
        method not in _COMMON_METHODS
        or version not in _VERSIONS
        or target[:1] != b"/"
        or has_invisible(target)
        or len(request_line) + 2 > limits.max_request_line
        or breaks > limits.max_header_count
        or end + 4 - len(request_line) > limits.max_header_bytes
    ):
        return HAND_OVER
    environ = _fields(lines)
    if environ is None:
        return HAND_OVER
    http10 = version == b"HTTP/1.0"
    if not http10 and "HTTP_HOST" not in environ:
        return HAND_OVER
    connection = environ.get("HTTP_CONNECTION", "").lower()
    keep_alive = info.keep_alive and (
        "keep-alive" in connection if http10 else "close" not in connection
    )
    used = end + 4
    body = b""
    length_text = environ.get("CONTENT_LENGTH")
    if length_text is not None:
        if not length_text.isdigit() or not length_text.isascii() or len(length_text) > 18:
            return HAND_OVER
        length = int(length_text)
        if length > LOOP_BODY_BYTES or length > limits.max_body_bytes:
            return HAND_OVER
        if len(buf) < used + length:
            return None
        body = bytes(buf[used : used + length])
        used += length
    path, _, query = target.partition(b"?")
    complete_environ(environ, method, target, path, query, version, body, info)
    return environ, keep_alive, used, head


# Whatever the server's limits are now, a request the loop parsed then parses again.
_NO_LIMITS = Limits(
    max_request_line=1 << 62,
    max_header_count=1 << 62,
    max_header_bytes=1 << 62,
    max_body_bytes=1 << 62,
)


def environ_of(raw: tuple[bytes, str, int, str, int, str], body: bytes) -> dict[str, Any]:
    """Rebuild the environ of a request the loop parsed, from what the log kept of it."""
    head, remote_addr, remote_port, server_name, server_port, scheme = raw
    info = ConnectionInfo(server_name, server_port, scheme, remote_addr, remote_port)
    parsed = parse_head(bytearray(b"%s\r\n\r\n%s" % (head, body)), info, _NO_LIMITS)
    assert type(parsed) is tuple, "a head the loop parsed once parses again"
    return parsed[0]


def _fields(lines: list[bytes]) -> dict[str, Any] | None:
    """The header fields as environ keys, or ``None`` if one needs the strict reader."""
    environ: dict[str, Any] = {}
    keys = _ENVIRON_KEYS
    for index in range(1, len(lines)):
        line = lines[index]
        name, colon, value = line.partition(b":")
        if not colon or not name or line[0] in b" \t":
            return None
        key = keys.get(name)
        if key is None:
            if not is_token(name):
                return None
            key = _environ_key(name)
        text = value.strip(b" \t").decode("latin-1")
        if not text.isprintable():
            return None
        if not key:
            continue
        if key in _HANDED_OVER_KEYS:
            return None  # the strict reader answers it, with its reason
        if key not in environ:  # add_field's first case, without the call: most fields
            environ[key] = text
        elif add_field(environ, key, text, name):
            return None  # the strict reader answers it, with its reason
    return environ
