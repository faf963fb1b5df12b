"""One connection of the I/O loop: its state, and buffered reads a thread can hand back."""

from __future__ import annotations

import socket
import weakref
from typing import TYPE_CHECKING, Any, Protocol

from .._wire.request import ConnectionInfo

if TYPE_CHECKING:  # for annotations only: a Protocol class costs every import

    class LoopOwner(Protocol):
        """The loop a connection goes back to (the I/O loop); a Protocol, so no import cycle."""

        def give_back(self, conn: Conn) -> bool: ...


class Conn:
    """One connection the loop owns: its socket, peer, unread bytes and unsent reply."""

    __slots__ = (
        "address",
        "buf",
        "close_after",
        "facts",
        "info",
        "memo",
        "out",
        "out_environ",
        "owner",
        "sock",
    )

    def __init__(
        self,
        sock: socket.socket,
        address: Any,
        info: ConnectionInfo,
        buf: bytearray,
        owner: LoopOwner,
    ) -> None:
        self.owner = owner  # a thread gives the connection back to this loop, or closes it
        self.sock = sock
        self.address = address
        self.info = info
        # What the log keeps of the connection, with each request's head.
        self.facts = (
            info.remote_addr,
            info.remote_port,
            info.server_name,
            info.server_port,
            info.scheme,
        )
        self.buf = buf
        self.out: list[memoryview] | None = None  # what is left to send, in order
        self.out_environ: dict[str, Any] | None = None
        self.close_after = False
        # The last head answered from a cached reply, to answer again (``IOLoop._again``).
        self.memo: Memo | None = None


class Memo:
    """A request head the loop answered from a static reply, and what answering it again
    takes: the handler (weakly: a cleared handler's reply is not kept alive by a connection
    that stays open) and the registry's version then (see ``RequestEntry.answer_again``)."""

    __slots__ = ("handler", "head", "http10", "keep_alive", "limits", "origin", "raw", "version")

    def __init__(
        self,
        head: bytes,
        limits: object,
        handler: Any,
        version: int,
        raw: tuple[Any, ...],
        origin: str,
        keep_alive: bool,
        http10: bool,
    ) -> None:
        self.head = head  # the whole head, its blank line included: nothing else is read
        self.limits = limits  # the server's limits it was parsed under
        self.handler = weakref.ref(handler)
        self.version = version
        self.raw = raw  # what the log keeps of it: its head and the connection's facts
        self.origin = origin
        self.keep_alive = keep_alive
        self.http10 = http10


class ConnReader:
    """Buffered reads of one connection whose unread bytes can be handed on.

    What a thread reads for the I/O loop: it starts with the bytes the loop had
    read already, and what the thread did not use goes back to the loop.
    """

    __slots__ = ("buf", "sock")

    def __init__(self, sock: socket.socket, buf: bytearray) -> None:
        self.sock = sock
        self.buf = buf

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buf += data
        return bool(data)

    def peek(self, size: int = 1) -> bytes:
        if not self.buf:
            self._fill()
        return bytes(self.buf[: max(size, 1)])

    def readline(self, limit: int = -1) -> bytes:
        buf = self.buf
        start = 0
        while True:
            found = buf.find(b"\n", start)
            if found >= 0 and (limit < 0 or found < limit):
                size = found + 1
                break
            if 0 <= limit <= len(buf):
                size = limit
                break
            start = len(buf)
            if not self._fill():
                size = len(buf)
                break
        line = bytes(buf[:size])
        del buf[:size]
        return line

    def read(self, size: int = -1) -> bytes:
        buf = self.buf
        while (size < 0 or len(buf) < size) and self._fill():
            pass
        if size < 0:
            size = len(buf)
        data = bytes(buf[:size])
        del buf[:size]
        return data

    def close(self) -> None:
        """Nothing to release: the socket is its owner's."""


def advance(out: list[memoryview], sent: int) -> list[memoryview]:
    """Drop ``sent`` bytes from the front of ``out`` (in place); return what is left."""
    while sent and out:
        first = out[0]
        if sent >= len(first):
            sent -= len(first)
            del out[0]
        else:
            out[0] = first[sent:]
            sent = 0
    while out and not out[0]:
        del out[0]
    return out
