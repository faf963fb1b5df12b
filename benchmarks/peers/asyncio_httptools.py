"""Peer: an ``asyncio.Protocol`` that parses with ``httptools`` and sends one fixed answer.

    python benchmarks/peers/asyncio_httptools.py

What an event loop costs with a C parser and no framework: the default asyncio loop
(not uvloop), ``httptools.HttpRequestParser`` per connection, and the same answer bytes
as the raw responder. Listens on 127.0.0.1, prints ``{"port": N}`` on one line, and
serves until its standard input closes.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys

import httptools

HOST = "127.0.0.1"
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
REPLY = HEAD + b"\r\nok"
REPLY_CLOSE = HEAD + b"Connection: close\r\n\r\nok"


class Answer(asyncio.Protocol):
    """One connection: feed the parser, answer each complete request."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    # httptools callback
    def on_message_complete(self) -> None:
        assert self.transport is not None
        if self.parser.should_keep_alive():
            self.transport.write(REPLY)
        else:
            self.transport.write(REPLY_CLOSE)
            self.transport.close()


async def serve() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Answer, HOST, 0, backlog=128)
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"port": port}), flush=True)
    # The driver closes our standard input when it is done.
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(serve())
