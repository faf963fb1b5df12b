"""The Python work of the I/O loop's static path, without a socket: steadier than wrk here.

    cd benchmarks && python static_path.py [--repeat 15] [--batches 300]

Builds :class:`httpdouble.HTTPServer` with the handler ``serve.py`` registers (``GET
/bench`` answering ``ok``) without starting it, answers one request through its WSGI
application (the reply's first use, which a connection thread takes in a running server),
then hands the loop's request method (``IOLoop._serve``) batches of 16 pipelined requests on
a connection whose socket takes every byte at once: parsing, lookup, log record, framing,
everything but the system calls. Prints the best of ``--repeat`` timings (the least
disturbed by other processes) per request, and the Python function calls a request makes
(``cProfile``: a count, the same on any machine). To compare with an older checkout, run it
again with ``PYTHONPATH=/path/to/old/src``. This is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import socket
import timeit
from typing import Any

from werkzeug.test import Client

from httpdouble import HTTPServer
from httpdouble._server.loop import IOLoop
from httpdouble._server.loop_connection import Conn
from httpdouble._wire.request import ConnectionInfo

REQUEST = b"GET /bench HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: wrk\r\n\r\n"
BATCH = 16  # the loop's REQUESTS_PER_TURN: one turn of one connection


class _Sink:
    """A connected socket as the loop sees it, that takes every byte at once."""

    def send(self, data: bytes) -> int:
        return len(data)

    def sendmsg(self, parts: list[bytes]) -> int:
        return sum(map(len, parts))


def _unexpected(*args: Any) -> None:
    raise RuntimeError(f"the static path left the loop: {args}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--batches", type=int, default=300, help="batches of 16 a timing")
    args = parser.parse_args()

    server = HTTPServer("127.0.0.1", 0)
    server.expect_request("/bench", method="GET").respond_with_data(b"ok")
    wake, wake_writer = socket.socketpair()
    loop = IOLoop(
        listeners=[],
        wake=wake,
        wake_writer=wake_writer,
        app=server._app.entry,
        limits=lambda: server.limits,
        reports=None,  # type: ignore[arg-type]
        info=_unexpected,  # type: ignore[arg-type]
        hand_over=_unexpected,
        accept_tls=None,
        internal_error=_unexpected,
        exhausted=_unexpected,
    )
    info = ConnectionInfo("127.0.0.1", 8000, "http", "127.0.0.1", 40000)
    conn = Conn(_Sink(), ("127.0.0.1", 40000), info, bytearray(), loop)  # type: ignore[arg-type]

    def batch() -> None:
        conn.buf += REQUEST * BATCH
        loop._serve(conn)

    Client(server._app).get("/bench")  # the first use: the reply is cached from here on
    batch()
    best = min(timeit.repeat(batch, number=args.batches, repeat=args.repeat))
    server.clear_log()
    profile = cProfile.Profile()
    profile.runcall(lambda: [batch() for _ in range(100)])
    calls = pstats.Stats(profile).total_calls / (100 * BATCH)  # type: ignore[attr-defined]
    server.clear_log()
    wake.close()
    wake_writer.close()
    print(
        f"static path, Python work: {best / args.batches / BATCH * 1e6:.2f} us a request"
        f" (best of {args.repeat}); {calls:.0f} function calls a request"
    )


if __name__ == "__main__":
    main()
