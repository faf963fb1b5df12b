"""Peer: a trivial ASGI application under uvicorn, with httptools and uvloop.

    python benchmarks/peers/uvicorn_asgi.py

uvicorn as its users run it for speed (``--loop uvloop --http httptools``, no access
log), answering every request with the same two-byte body. Falls back to the asyncio
loop where uvloop does not install, and says so on standard error. Listens on
127.0.0.1, prints ``{"port": N, "loop": ...}`` on one line, and serves until its
standard input closes.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn

HOST = "127.0.0.1"
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")],
}
BODY = {"type": "http.response.body", "body": b"ok"}


async def app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    await send(START)
    await send(BODY)


def main() -> None:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        loop = "asyncio"
        print("uvloop is not installed here: uvicorn runs on asyncio", file=sys.stderr)
    else:
        loop = "uvloop"
    config = uvicorn.Config(
        app, loop=loop, http="httptools", lifespan="off", access_log=False, log_level="warning"
    )
    server = uvicorn.Server(config)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((HOST, 0))
    listener.listen(128)
    print(json.dumps({"port": listener.getsockname()[1], "loop": loop}), flush=True)

    def stop_when_stdin_closes() -> None:
        sys.stdin.read()
        server.should_exit = True

    threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    server.run(sockets=[listener])


if __name__ == "__main__":
    main()
