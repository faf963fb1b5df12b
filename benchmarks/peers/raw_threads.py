"""Peer: a raw socket responder, one thread per connection, one fixed answer.

    python benchmarks/peers/raw_threads.py

The floor for a threaded server: it reads until the end of a request head
(``\\r\\n\\r\\n``) and sends the same bytes every time, with ``Content-Length``, keeping
the connection open unless the client asked to close it. It matches nothing, logs
nothing and reads no request body (the benchmarks send none). Standard library only,
so the generated suites can import it too (``serve_in_thread``).

Like ``serve.py`` it listens on 127.0.0.1, prints ``{"port": N}`` on one line, and
serves until its standard input closes.
"""

from __future__ import annotations

import json
import socket
import sys
import threading

HOST = "127.0.0.1"
BODY = b"ok"
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
REPLY = HEAD + b"\r\n" + BODY
REPLY_CLOSE = HEAD + b"Connection: close\r\n\r\n" + BODY


def _connection(conn: socket.socket) -> None:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pending = b""
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            pending += data
            while True:
                end = pending.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = pending[:end].lower()
                pending = pending[end + 4 :]
                if b"\nconnection: close" in head:
                    conn.sendall(REPLY_CLOSE)
                    return
                conn.sendall(REPLY)
            if len(pending) > 65536:  # a head that never ends: not a client of ours
                return
    except OSError:
        return
    finally:
        conn.close()


def _accept(listener: socket.socket) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:  # the listener was closed: stop
            return
        threading.Thread(target=_connection, args=(conn,), daemon=True).start()


def serve_in_thread() -> tuple[int, socket.socket]:
    """Start the responder on a free loopback port; return the port and the listener."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((HOST, 0))
    listener.listen(128)
    threading.Thread(target=_accept, args=(listener,), daemon=True).start()
    return listener.getsockname()[1], listener


def main() -> None:
    port, listener = serve_in_thread()
    print(json.dumps({"port": port}), flush=True)
    sys.stdin.read()  # the driver closes our standard input when it is done
    listener.close()


if __name__ == "__main__":
    main()
