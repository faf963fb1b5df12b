"""Raw-socket HTTP for the reliability tier: send exact bytes, read and parse what comes back."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from httpdouble import HTTPServer

from .conftest import SOCKET_TIMEOUT

_MAX_READS = 10_000


@dataclass
class Exchange:
    """What came back on one raw connection."""

    data: bytes
    reset: bool
    responses: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)

    @property
    def statuses(self) -> list[int]:
        return [status for status, _, _ in self.responses]


def read_until_closed(sock: socket.socket) -> tuple[bytes, bool]:
    """Read until the peer closes (``b""``) or resets; bounded by count and socket timeout."""
    chunks: list[bytes] = []
    for _ in range(_MAX_READS):
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return b"".join(chunks), True
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
    raise AssertionError(f"the server sent more than {_MAX_READS} reads of data")


def parse_responses(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Split ``data`` into HTTP/1.1 responses (each with a Content-Length, as ours are)."""
    responses = []
    rest = data
    while rest:
        head, sep, rest = rest.partition(b"\r\n\r\n")
        assert sep, f"incomplete response head: {head[:200]!r}"
        lines = head.decode("latin-1").split("\r\n")
        version, status, *_ = lines[0].split(" ", 2)
        assert version == "HTTP/1.1", lines[0]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if int(status) == 100:
            continue
        length = int(headers.get("content-length", "0"))
        body, rest = rest[:length], rest[length:]
        responses.append((int(status), headers, body))
    return responses


def exchange(
    port: int,
    payload: bytes,
    *,
    host: str = "127.0.0.1",
    shutdown: bool = True,
    timeout: float = SOCKET_TIMEOUT,
) -> Exchange:
    """Send ``payload`` on a fresh connection, optionally end the sending side, read all."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        if payload:
            sock.sendall(payload)
        if shutdown:
            sock.shutdown(socket.SHUT_WR)
        data, reset = read_until_closed(sock)
    return Exchange(data, reset, parse_responses(data))


def good_request_is_served(server: HTTPServer, path: str = "/good") -> None:
    """Assert the server answers a well-formed request on a new connection."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=SOCKET_TIMEOUT)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert (response.status, body) == (200, b"good"), (response.status, body)


def eventually(predicate: Callable[[], bool], what: str, attempts: int = 500) -> None:
    """Wait (bounded: ``attempts`` x 10 ms) for something another thread records.

    Only for records the server makes after the client could already see the
    connection end (a failed TLS handshake closes the socket before the finding).
    """
    pause = threading.Event()
    for _ in range(attempts):
        if predicate():
            return
        pause.wait(0.01)
    raise AssertionError(f"never happened: {what}")
