"""The I/O loop under attack: memory flat in the body size, no spin, no stray request.

Each test here failed on the loop before issue 22: the log copied a static reply's body
per request, framed replies outlived their handlers, a server out of file descriptors
spun on its listener, a ``Connection: close`` answer did not close, and one pipelining
client held up every other one.
"""

from __future__ import annotations

import gc
import json
import select
import socket
import subprocess
import sys
import textwrap
import threading
import tracemalloc
from collections.abc import Iterator

import pytest
import requests
from werkzeug.wrappers import Request, Response

from httpdouble import HTTPServer, Outcome, RequestMatcher
from httpdouble._report.findings import Kind
from httpdouble._server import loop as _loop

TIMEOUT = 10
REQUESTS_PER_TURN = getattr(_loop, "REQUESTS_PER_TURN", 32)  # run against older loops too


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1") as server:
        yield server


def _traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def _get_many(server: HTTPServer, path: str, count: int) -> None:
    with requests.Session() as session:
        for _ in range(count):
            reply = session.get(server.url_for(path), timeout=TIMEOUT)
            assert reply.status_code == 200, reply.text[:200]


def _responses(sock: socket.socket, buffered: bytearray) -> Iterator[tuple[bytes, bytes]]:
    """Read responses (with a Content-Length) until the connection closes."""
    while True:
        while b"\r\n\r\n" not in buffered:
            chunk = sock.recv(65536)
            if not chunk:
                assert not buffered, f"closed in the middle of a head: {bytes(buffered)!r}"
                return
            buffered += chunk
        end = buffered.index(b"\r\n\r\n") + 4
        head = bytes(buffered[:end])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        while len(buffered) < end + length:
            chunk = sock.recv(65536)
            assert chunk, "closed in the middle of a body"
            buffered += chunk
        body = bytes(buffered[end : end + length])
        del buffered[: end + length]
        yield head, body


def _answers_after_close(responses: list[tuple[bytes, bytes]]) -> list[bytes]:
    """The status lines of responses sent after one that said ``Connection: close``."""
    for index, (head, _) in enumerate(responses):
        if b"\r\nconnection: close\r\n" in head.lower():
            return [h.split(b"\r\n")[0] for h, _ in responses[index + 1 :]]
    return []


# ------------------------------------------------------------ the log and the cache


def test_the_log_keeps_one_static_body_however_many_requests_it_answers(
    server: HTTPServer,
) -> None:
    size = 1 << 20
    server.expect_request("/big").respond_with_data(b"b" * size)
    _get_many(server, "/big", 3)  # the first use builds the reply, the next ones are cached
    tracemalloc.start()
    try:
        before = _traced()
        _get_many(server, "/big", 30)
        grown = _traced() - before
    finally:
        tracemalloc.stop()
    assert grown < 2 * size, (
        f"30 requests of one {size}-byte static reply\n"
        f"  expected: the log holds its body once (it grew by less than {2 * size} bytes)\n"
        f"  got: it grew by {grown} bytes ({grown / size:.1f} bodies)"
    )
    bodies = {id(entry.response.get_data()) for entry in server.log_entries[1:]}
    assert len(bodies) == 1, "each logged response holds the same body, not a copy"


def test_each_logged_request_still_shows_its_own_response(server: HTTPServer) -> None:
    server.expect_request("/a").respond_with_data(b"a" * 5000, headers={"X-Which": "a"})
    server.expect_request("/b").respond_with_data(b"b" * 7000, status=201)
    server.expect_request("/f").respond_with_handler(lambda request: Response(b"f"))
    paths = ["/a", "/b", "/f", "/a", "/b", "/a", "/b", "/f"] * 3
    with requests.Session() as session:
        for path in paths:
            assert session.get(server.url_for(path), timeout=TIMEOUT).ok
    server.clear_log()  # a new segment of the log starts its own shared bodies
    with requests.Session() as session:
        for path in ["/b", "/a", "/b"]:
            assert session.get(server.url_for(path), timeout=TIMEOUT).ok
    paths += ["/b", "/a", "/b"]
    logged = list(server.log)
    assert [request.path for request, _ in logged] == paths[-3:]
    expected = {
        "/a": (200, b"a" * 5000),
        "/b": (201, b"b" * 7000),
    }
    for request, response in logged:
        assert (response.status_code, response.get_data()) == expected[request.path]
    assert logged[1][1].headers["X-Which"] == "a"


def test_clear_frees_the_framed_replies_of_its_handlers(server: HTTPServer) -> None:
    size = 4 << 20
    tracemalloc.start()
    try:
        before = _traced()
        for round_ in range(3):  # three tests, each with its own big reply, each cleared
            server.expect_request("/big").respond_with_data(bytes([round_]) * size)
            _get_many(server, "/big", 3)  # the second and third are framed and cached
            server.clear()
        kept = _traced() - before
    finally:
        tracemalloc.stop()
    assert kept < size // 2, (
        f"three handlers of {size}-byte replies, each served three times, then clear()\n"
        f"  expected: nothing of them kept (less than {size // 2} bytes)\n"
        f"  got: {kept} bytes kept ({kept / size:.1f} replies)"
    )


def test_a_used_up_handler_frees_its_framed_reply(server: HTTPServer) -> None:
    size = 4 << 20
    tracemalloc.start()
    try:
        before = _traced()
        kept_handler = server.expect_request("/big", times=3)  # the test keeps its handler
        kept_handler.respond_with_data(b"c" * size)
        _get_many(server, "/big", 3)
        server.clear_log()
        kept = _traced() - before
    finally:
        tracemalloc.stop()
    # Its response (one body) is the handler's; a framed copy must not be kept with it.
    assert kept < size + size // 2, (
        f"a handler of a {size}-byte reply used up by three requests\n"
        f"  expected: one body kept (its response), no framed copy\n"
        f"  got: {kept} bytes kept ({kept / size:.1f} bodies)"
    )
    assert kept_handler.request_handler is not None


def test_stop_frees_the_framed_replies() -> None:
    size = 4 << 20
    server = HTTPServer(host="127.0.0.1")
    server.start()
    tracemalloc.start()
    try:
        before = _traced()
        server.expect_request("/big").respond_with_data(b"d" * size)
        _get_many(server, "/big", 3)
        server.stop()
        server.clear_log()
        kept = _traced() - before
    finally:
        tracemalloc.stop()
        if server.is_running():
            server.stop()
    assert kept < size + size // 2, (
        f"a server stopped after serving a {size}-byte reply three times\n"
        f"  expected: one body kept (the handler's response), no framed copy\n"
        f"  got: {kept} bytes kept ({kept / size:.1f} bodies)"
    )


def test_a_new_reply_never_answers_with_the_bytes_of_a_freed_one(server: HTTPServer) -> None:
    for round_ in range(20):
        body = f"reply {round_}".encode()
        server.expect_request("/same").respond_with_data(body)
        with requests.Session() as session:
            for _ in range(3):
                assert session.get(server.url_for("/same"), timeout=TIMEOUT).content == body
        server.clear()


# ------------------------------------------------------------------- closing


class _RaisingNoHandler(HTTPServer):
    def respond_nohandler(self, request: Request, extra_message: str = "") -> Response:
        raise RuntimeError(f"the override failed for {request.path}")


def test_an_override_raising_is_the_users_handler_error_and_no_answer_follows_a_close() -> None:
    with _RaisingNoHandler(host="127.0.0.1") as server:
        server.expect_request("/ok").respond_with_handler(lambda request: Response(b"ok"))
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
            sock.sendall(
                b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            sock.shutdown(socket.SHUT_WR)
            responses = list(_responses(sock, bytearray()))
        findings = server.findings
        server.clear()
    assert not _answers_after_close(responses), (
        "a response said Connection: close\n"
        "  expected: the connection closes after it\n"
        f"  got: more answers after it: {_answers_after_close(responses)}"
    )
    assert [head.split(b"\r\n")[0] for head, _ in responses] == [
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 500 INTERNAL SERVER ERROR",
        b"HTTP/1.1 200 OK",
    ]
    assert [f.kind for f in findings] == [Kind.HANDLER_ERROR], [f.lines() for f in findings]
    assert "respond_nohandler" in findings[0].expected
    assert "the override failed for /missing" in findings[0].detail
    assert isinstance(findings[0].cause, RuntimeError)


class _BrokenResponse(Response):
    def get_wsgi_headers(self, environ: object) -> object:  # type: ignore[override]
        raise RuntimeError("a response that cannot give its headers")


def test_an_internal_error_answer_closes_on_a_thread_that_served_on() -> None:
    with HTTPServer(host="127.0.0.1", handler_timeout=None) as server:
        server.expect_request("/ok").respond_with_handler(lambda request: Response(b"ok"))
        server.expect_request("/broken").respond_with_handler(
            lambda request: _BrokenResponse(b"never sent")
        )
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
            # One write: the thread serving /ok finds /broken waiting and serves it too.
            sock.sendall(
                b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET /broken HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            sock.shutdown(socket.SHUT_WR)
            responses = list(_responses(sock, bytearray()))
        server.clear()
    statuses = [head.split(b"\r\n")[0] for head, _ in responses]
    assert not _answers_after_close(responses), (
        "a 500 said Connection: close\n"
        "  expected: the connection closes after it\n"
        f"  got: more answers after it: {_answers_after_close(responses)} (all: {statuses})"
    )
    assert statuses == [b"HTTP/1.1 200 OK", b"HTTP/1.1 500 Internal Server Error"]


# ------------------------------------------------------------------- fairness


class _Gate(RequestMatcher):
    """Holds the loop in its first lookup of ``/gate`` until the test opens it."""

    def __init__(self) -> None:
        super().__init__("/gate")
        self.entered = threading.Event()
        self.opened = threading.Event()

    def match(self, request: Request) -> bool:
        if request.path == "/gate" and not self.entered.is_set():
            self.entered.set()
            self.opened.wait(TIMEOUT)
        return super().match(request)


def test_a_pipelining_client_lets_another_one_be_served_within_a_turn(
    server: HTTPServer,
) -> None:
    flood = 600
    gate = _Gate()
    server.expect(gate).respond_with_data("g")
    server.expect_request("/flood").respond_with_data("f")
    server.expect_request("/probe").respond_with_data("p")
    flooder = socket.socket()
    flooder.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    flooder.settimeout(TIMEOUT)
    flooder.connect(("127.0.0.1", server.port))
    got: list[int] = []

    def drain() -> None:
        got.append(sum(1 for _ in _responses(flooder, bytearray())))

    reader = threading.Thread(target=drain)
    with flooder, socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as probe:
        flooder.sendall(b"GET /gate HTTP/1.1\r\nHost: x\r\n\r\n")
        assert gate.entered.wait(TIMEOUT), "the loop never looked /gate up"
        # Both arrive while the loop waits in the lookup: the flood first.
        flooder.sendall(b"GET /flood HTTP/1.1\r\nHost: x\r\n\r\n" * flood)
        probe.sendall(b"GET /probe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reader.start()
        gate.opened.set()
        assert [body for _, body in _responses(probe, bytearray())] == [b"p"]
        flooder.sendall(b"GET /gate HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reader.join(TIMEOUT)
    assert got == [flood + 2]
    paths = [request.path for request, _ in server.log]
    position = paths.index("/probe")
    assert position <= 2 * REQUESTS_PER_TURN + 1, (
        f"{flood} pipelined requests on one connection, one request on another\n"
        f"  expected: the other one answered within {REQUESTS_PER_TURN} requests of the first"
        " connection's turn\n"
        f"  got: it was answered after {position - 1} of them"
    )


# -------------------------------------------------------- out of file descriptors

_CHILD = textwrap.dedent(
    """
    import json, os, resource, sys
    from httpdouble import HTTPServer

    server = HTTPServer(host="127.0.0.1")
    server.start()
    server.expect_request("/x").respond_with_data("ok")
    highest = max(int(fd) for fd in os.listdir("/proc/self/fd"))
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 1 + {spare}, hard))
    print(server.port, flush=True)
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        times = os.times()
        findings = [(f.kind.name, f.expected, f.detail[:300]) for f in server.findings]
        print(json.dumps({{"cpu": times[0] + times[1], "findings": findings}}), flush=True)
    server.stop()
    """
)


def _line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    readable, _, _ = select.select([proc.stdout], [], [], TIMEOUT)
    assert readable, "the server process said nothing in time"
    return proc.stdout.readline()


def _ask(proc: subprocess.Popen[str]) -> dict[str, object]:
    assert proc.stdin is not None
    proc.stdin.write("state\n")
    proc.stdin.flush()
    state: dict[str, object] = json.loads(_line(proc))
    return state


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/fd")
def test_out_of_descriptors_the_loop_backs_off_serves_on_and_recovers() -> None:
    spare = 6
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD.format(spare=spare)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    clients: list[socket.socket] = []
    try:
        port = int(_line(proc))
        for _ in range(spare + 10):  # more than it can accept: the rest wait in the backlog
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT))
        first = _ask(proc)
        # A while out of descriptors: a spinning loop records thousands of findings in it.
        threading.Event().wait(1.0)
        later = _ask(proc)
        # The connections it has are served meanwhile.
        clients[0].sendall(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        assert [body for _, body in _responses_n(clients[0], 1)] == [b"ok"]
        for sock in clients[:-1]:  # descriptors come back
            sock.close()
        last = clients[-1]
        last.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert [body for _, body in _responses(last, bytearray())] == [b"ok"]
        fresh = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        clients.append(fresh)
        fresh.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert [body for _, body in _responses(fresh, bytearray())] == [b"ok"]
        final = _ask(proc)
    finally:
        for sock in clients:
            sock.close()
        assert proc.stdin is not None
        proc.stdin.write("quit\n")
        proc.stdin.close()
        proc.wait(TIMEOUT)
        assert proc.stdout is not None
        proc.stdout.close()
    findings = final["findings"]
    assert isinstance(findings, list)
    assert len(findings) == 1, (
        "a server out of file descriptors for a second\n"
        "  expected: one finding about it\n"
        f"  got: {len(findings)}, the first ones: {findings[:3]}"
    )
    kind, expected, detail = findings[0]
    assert (kind, expected) == ("MALFORMED", "(server out of resources)")
    assert "Too many open files" in detail
    cpu = float(later["cpu"]) - float(first["cpu"])  # type: ignore[arg-type]
    assert cpu < 0.5, f"the server used {cpu:.2f} s of CPU in one idle second out of descriptors"
    assert proc.returncode == 0


def _responses_n(
    sock: socket.socket, count: int, buffered: bytearray | None = None
) -> list[tuple[bytes, bytes]]:
    found: list[tuple[bytes, bytes]] = []
    for response in _responses(sock, bytearray() if buffered is None else buffered):
        found.append(response)
        if len(found) == count:
            break
    return found


def test_outcome_of_a_served_flood_is_matched(server: HTTPServer) -> None:
    server.expect_request("/x").respond_with_data("x")
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n" * (3 * REQUESTS_PER_TURN + 5))
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answers = list(_responses(sock, bytearray()))
    assert len(answers) == 3 * REQUESTS_PER_TURN + 6
    assert {entry.outcome for entry in server.log_entries} == {Outcome.MATCHED}


def test_a_big_cached_reply_reaches_a_slow_reader_whole_between_small_ones(
    server: HTTPServer,
) -> None:
    big = bytes(range(256)) * 4096  # 1 MiB, each byte in its place
    server.expect_request("/big").respond_with_data(big)
    server.expect_request("/small").respond_with_data("s")
    _get_many(server, "/big", 2)  # cached from now on
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # partial sends
        sock.settimeout(TIMEOUT)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(
            b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /small HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n"
            b"HEAD /big HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /big HTTP/1.0\r\n\r\n"
        )
        buffered = bytearray()
        answers = list(_responses_n(sock, 3, buffered))
        while b"\r\n\r\n" not in buffered:  # the HEAD: its head only
            chunk = sock.recv(65536)
            assert chunk
            buffered += chunk
        end = buffered.index(b"\r\n\r\n") + 4
        assert f"Content-Length: {len(big)}".encode() in buffered[:end]
        del buffered[:end]
        last = list(_responses(sock, buffered))  # HTTP/1.0: closed after it
    assert [body for _, body in answers] == [big, b"s", big]
    assert [body for _, body in last] == [big]
