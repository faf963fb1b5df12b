"""One server in its own process, for the benchmark driver (``rotation.py``, ``matrix.py``).

Runs under our interpreter (``ours``, ``werkzeug``, ``stdlib``) or under the
incumbent's virtualenv (``incumbent``): it imports only the standard library
until it knows which server to build. Listens on 127.0.0.1 only.

Serving mode prints ``{"port": N}`` on one line, serves until its standard
input closes, then stops. ``--startstop N`` mode times N start/stop cycles
(bounded by ``--seconds`` too) and prints them as JSON.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import socketserver
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

HOST = "127.0.0.1"
PATH = "/bench"
BODY = b"ok"


# ---------------------------------------------------------------- references


def _trivial_wsgi_app(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [BODY]


_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
_RESPONSE_CLOSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
    b"Connection: close\r\n\r\nok"
)


class _RawHandler(socketserver.BaseRequestHandler):
    """The least work that is still correct HTTP/1.1 keep-alive for simple requests."""

    tls: ssl.SSLContext | None = None

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            try:
                sock = self.tls.wrap_socket(sock, server_side=True)
            except (OSError, ssl.SSLError):
                return
        rfile = sock.makefile("rb")
        try:
            while True:
                if not rfile.readline(65537):
                    return
                length = 0
                close = False
                while True:
                    line = rfile.readline(65537)
                    if line in (b"\r\n", b"\n", b""):
                        break
                    lower = line.lower()
                    if lower.startswith(b"content-length:"):
                        length = int(line[15:])
                    elif lower.startswith(b"connection:") and b"close" in lower:
                        close = True
                if length:
                    rfile.read(length)
                sock.sendall(_RESPONSE_CLOSE if close else _RESPONSE)
                if close:
                    return
        except OSError:
            return
        finally:
            rfile.close()
            if sock is not self.request:
                sock.close()


class _RawServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


# ------------------------------------------------------------------- servers


class Running:
    """A started server: its port and how to stop it."""

    def __init__(self, port: int, stop: Callable[[], None]) -> None:
        self.port = port
        self.stop = stop


def _register(server: Any, handlers: int) -> None:
    # The benchmarked path is registered last: a linear scan meets it last.
    for index in range(handlers - 1):
        server.expect_request(f"/other/{index}", method="GET").respond_with_data("no")
    server.expect_request(PATH, method="GET").respond_with_data(BODY)


def start(kind: str, handlers: int, tls: ssl.SSLContext | None) -> Running:
    if kind == "ours":
        from httpdouble import HTTPServer

        ours = HTTPServer(HOST, 0, ssl_context=tls)
        _register(ours, handlers)
        ours.start()
        return Running(ours.port, ours.stop)
    if kind == "incumbent":
        from pytest_httpserver import HTTPServer as IncumbentServer

        incumbent = IncumbentServer(HOST, 0, ssl_context=tls)
        _register(incumbent, handlers)
        incumbent.start()
        return Running(incumbent.port, incumbent.stop)
    if kind == "werkzeug":
        from werkzeug.serving import make_server

        wz = make_server(HOST, 0, _trivial_wsgi_app, threaded=True, ssl_context=tls)
        thread = threading.Thread(target=wz.serve_forever, daemon=True)
        thread.start()

        def stop_werkzeug() -> None:
            wz.shutdown()
            wz.server_close()
            thread.join()

        return Running(wz.server_port, stop_werkzeug)
    if kind == "stdlib":
        handler = type("Handler", (_RawHandler,), {"tls": tls})
        raw = _RawServer((HOST, 0), handler)
        thread = threading.Thread(target=raw.serve_forever, daemon=True)
        thread.start()

        def stop_raw() -> None:
            raw.shutdown()
            raw.server_close()
            thread.join()

        return Running(raw.server_address[1], stop_raw)
    raise SystemExit(f"unknown server kind {kind!r}")


def _tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if not cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def _start_stop(kind: str, count: int, seconds: float, idle_connection: bool) -> dict[str, Any]:
    starts: list[float] = []
    stops: list[float] = []
    deadline = time.monotonic() + seconds
    while len(stops) < count and (not stops or time.monotonic() < deadline):
        began = time.perf_counter()
        running = start(kind, 1, None)
        started = time.perf_counter()
        conn: http.client.HTTPConnection | None = None
        if idle_connection:  # A client that keeps its connection open over stop().
            conn = http.client.HTTPConnection(HOST, running.port, timeout=10)
            conn.request("GET", PATH)
            conn.getresponse().read()
        before_stop = time.perf_counter()
        running.stop()
        stopped = time.perf_counter()
        if conn is not None:
            conn.close()
        starts.append(started - began)
        stops.append(stopped - before_stop)
    return {"start": starts, "stop": stops}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["ours", "incumbent", "werkzeug", "stdlib"])
    parser.add_argument("--handlers", type=int, default=1)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--startstop", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--idle-connection", action="store_true")
    args = parser.parse_args()
    if args.startstop:
        result = _start_stop(args.kind, args.startstop, args.seconds, args.idle_connection)
        print(json.dumps(result), flush=True)
        return
    running = start(args.kind, args.handlers, _tls_context(args.cert, args.key))
    print(json.dumps({"port": running.port}), flush=True)
    sys.stdin.read()  # The driver closes our stdin when it is done.
    running.stop()


if __name__ == "__main__":
    main()
