"""Differential test of request framing: our parser against h11, over real sockets.

h11 is the reference here (a test-only dependency). Each input is a byte string of one or
more pipelined requests. It goes to a running :class:`HTTPServer` on a fresh connection (the
sending side is then shut) and through an h11 server-side connection. Both produce the
list of requests they accepted, in order, each as ``(method, target, body)``; after the last
one, each either stopped cleanly or refused (a 4xx/5xx from us; a ``RemoteProtocolError`` or
an incomplete message from h11).

What is asserted, for every input:

* **boundaries agree**: every request we accepted is, position by position, the one h11
  accepted (same method, target and body bytes), so no byte of one body is read as a
  request of its own, nor the other way round;
* **we never accept what h11 rejects**: we accept at most as many requests as h11, and
  never end cleanly where h11 refuses;
* **no crash**: a 500 from the parser is a failure too.

Every h11 refusal counts: none is exempted. That holds because the generators stay inside
the classes compared: the request line (token methods, lower case and custom ones included;
origin, absolute and asterisk targets; versions), header syntax (names, values with control
and non-ASCII bytes, line ends, obsolete folding), ``Content-Length``,
``Transfer-Encoding``, chunked framing (size line, extensions, data terminator, last chunk,
trailers), and pipelining. Left out, because h11 and we differ there for reasons that have
nothing to do with framing: ``Expect: 100-continue`` (a dialogue, not a byte string), HEAD
and CONNECT, and sizes near either side's limits (h11 is given 1 MiB for a head; ours are
8 KiB for the request line and 64 KiB for the headers, and inputs here stay far below).

We may refuse where h11 accepts, and do: whitespace after a chunk size (``3 \\r\\n``),
control characters in chunk extensions and trailer values, both ``Content-Length`` and
``Transfer-Encoding``, ``Transfer-Encoding`` in HTTP/1.0, obsolete line folding, an absolute
URL that does not parse, versions other than HTTP/1.0 and 1.1. These pass; the counts of one
measured run are on the guarantees page.
"""

from __future__ import annotations

import io
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import h11
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpdouble import METHOD_ALL, HTTPServer, Outcome
from httpdouble._wire.request import (
    BadRequest,
    ConnectionInfo,
    Limits,
    read_request,
    read_request_line,
)

from .conftest import SOCKET_TIMEOUT
from .rawhttp import parse_responses, read_until_closed

pytestmark = pytest.mark.filterwarnings(
    "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
)

Parsed = tuple[bytes, bytes, bytes]  # method, target, body


@dataclass(frozen=True)
class Verdict:
    """The requests one parser accepted, and whether it then refused the rest."""

    accepted: tuple[Parsed, ...]
    refused: bool
    reason: str = ""


def h11_verdict(data: bytes) -> Verdict:
    """Parse ``data`` as a server would with h11, answering each request to reach the next."""
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=1 << 20)
    conn.receive_data(data)
    conn.receive_data(b"")  # the client shut its side: an incomplete message is refused
    accepted: list[Parsed] = []
    current: list[bytes] = []
    body: list[bytes] = []
    for _ in range(10_000):
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            return Verdict(tuple(accepted), True, str(exc))
        if isinstance(event, h11.Request):
            current = [event.method, event.target]
            body = []
        elif isinstance(event, h11.Data):
            body.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            accepted.append((current[0], current[1], b"".join(body)))
            conn.send(h11.Response(status_code=200, headers=[("Content-Length", "0")]))
            conn.send(h11.EndOfMessage())
            if conn.our_state is not h11.DONE:
                return Verdict(tuple(accepted), False)
            try:
                conn.start_next_cycle()
            except h11.LocalProtocolError:  # the request asked to close
                return Verdict(tuple(accepted), False)
        elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            return Verdict(tuple(accepted), False)
        elif event is h11.NEED_DATA:
            return Verdict(tuple(accepted), bool(conn.trailing_data[0]), "incomplete")
    raise AssertionError("h11 produced more than 10,000 events")


def our_verdict(server: HTTPServer, data: bytes) -> Verdict:
    """Send ``data`` to the running server and read what it accepted from its log."""
    server.clear_log()
    with socket.create_connection(("127.0.0.1", server.port), timeout=SOCKET_TIMEOUT) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        answer, _ = read_until_closed(sock)
    statuses = parse_responses(answer)
    refusal = [(s, body) for s, _, body in statuses if s != 200]
    reason = refusal[0][1].decode("utf-8", "replace") if refusal else ""
    if refusal and refusal[0][0] == 500:
        reason = "500 crash: " + reason
    accepted: list[Parsed] = []
    for entry in server.log_entries:
        request = entry.request
        if request is None:
            assert entry.outcome is Outcome.MALFORMED
            break
        if entry.outcome is not Outcome.MATCHED:
            break
        accepted.append(
            (
                request.environ["REQUEST_METHOD"].encode("ascii"),
                request.environ["REQUEST_URI"].encode("latin-1"),
                request.get_data(),
            )
        )
    return Verdict(tuple(accepted), bool(reason), reason)


def parser_verdict(data: bytes) -> Verdict:
    """Run our parser alone on ``data`` (no socket, no app), as the connection loop does."""
    rfile = io.BufferedReader(io.BytesIO(data))
    info = ConnectionInfo("localhost", 80, "http", "127.0.0.1", 1)
    limits = Limits()
    accepted: list[Parsed] = []
    for _ in range(100):
        try:
            line = read_request_line(rfile, limits)
            if not line:
                return Verdict(tuple(accepted), False)
            environ, keep_alive = read_request(rfile, None, line, info, limits)  # type: ignore[arg-type]
        except BadRequest as exc:
            return Verdict(tuple(accepted), True, f"{exc.status}: {exc.reason}")
        accepted.append(
            (
                environ["REQUEST_METHOD"].encode("ascii"),
                environ["REQUEST_URI"].encode("latin-1"),
                environ["wsgi.input"].getvalue(),
            )
        )
        if not keep_alive:
            return Verdict(tuple(accepted), False)
    raise AssertionError("more than 100 requests in one input")


def reason_class(reason: str) -> str:
    """A short class name for a refusal reason: its words, without numbers or quoted bytes."""
    text = reason.split(": ", 1)[-1].strip()
    text = re.sub(r"'[^']*'|\"[^\"]*\"|b'[^']*'|\d+", "_", text)
    return text[:70]


def compare(ours: Verdict, reference: Verdict) -> str:
    """Return ``""`` when the verdicts agree, ``"stricter: ..."`` when we refuse more than
    h11 (allowed), or the name of a disagreement that must not happen."""
    n = len(ours.accepted)
    common = min(n, len(reference.accepted))
    if ours.reason.startswith("500 crash"):
        return "crash"
    if ours.accepted[:common] != reference.accepted[:common]:
        return "boundary"
    if reference.reason == EMPTY_LINE_FIRST and n >= len(reference.accepted):
        # h11 refuses an empty line before a request line; RFC 9112 (2.2) says a server
        # SHOULD ignore at least one, and we do. Every boundary before it agreed.
        return "tolerated: empty line before a request line"
    if n > len(reference.accepted):
        return "accepted-what-h11-rejects"
    if n < len(reference.accepted):
        return "stricter: " + reason_class(ours.reason)
    if reference.refused and not ours.refused:
        return "accepted-what-h11-rejects"
    if ours.refused and not reference.refused:
        return "stricter: " + reason_class(ours.reason)
    return ""


FAILURES = ("boundary", "accepted-what-h11-rejects", "crash")
EMPTY_LINE_FIRST = "no request line received"  # h11's words for a CRLF where a request starts


@pytest.fixture(scope="module")
def diff_server() -> Iterator[HTTPServer]:
    with HTTPServer(no_handler_status_code=404) as srv:
        srv.expect_request(re.compile(".*"), method=METHOD_ALL).respond_with_data("ok")
        yield srv


# ------------------------------------------------------------------ fixed smuggling corpus

H = b"Host: h\r\n"
POST = b"POST /a HTTP/1.1\r\n" + H
NEXT = b"GET /next HTTP/1.1\r\n" + H + b"\r\n"
SMUGGLED = b"GET /smuggled HTTP/1.1\r\n" + H + b"\r\n"

SMUGGLING = {
    # CL.TE and TE.CL: both headers
    "cl-te": POST + b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX" + NEXT,
    "te-cl": POST + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
    b"8\r\nSMUGGLED\r\n0\r\n\r\n" + NEXT,
    "cl-te-smuggled-request": POST + b"Content-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"0\r\n\r\n" + SMUGGLED,
    # TE.TE: obfuscated Transfer-Encoding
    **{
        f"te-obfuscated-{name}": POST + b"Transfer-Encoding:" + value + b"\r\n\r\n"
        b"0\r\n\r\n" + SMUGGLED
        for name, value in [
            ("vtab", b" \x0bchunked"),
            ("formfeed", b" \x0cchunked"),
            ("fs", b" \x1cchunked"),
            ("gs", b" \x1dchunked"),
            ("rs", b" \x1echunked"),
            ("us", b" \x1fchunked"),
            ("nbsp", b" \xa0chunked"),
            ("nel", b" \x85chunked"),
            ("trailing-vtab", b" chunked\x0b"),
            ("quoted", b' "chunked"'),
            ("x-chunked", b" xchunked"),
            ("chunked-x", b" chunked-x"),
            ("upper", b" CHUNKED"),
            ("tab", b"\tchunked"),
            ("list-identity", b" identity, chunked"),
            ("bare-cr", b" chunked\r"),
        ]
    },
    "te-twice": POST + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n"
    b"0\r\n\r\n" + SMUGGLED,
    "te-name-space-before-colon": POST + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + NEXT,
    "te-obs-fold": POST + b"Transfer-Encoding: x\r\n chunked\r\n\r\n0\r\n\r\n" + NEXT,
    "te-http10": b"POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n"
    b"\r\n3\r\nabc\r\n0\r\n\r\n" + NEXT,
    # duplicate and odd lengths
    "cl-duplicate-different": POST + b"Content-Length: 3\r\nContent-Length: 8\r\n\r\nabc" + NEXT,
    "cl-duplicate-equal": POST + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc" + NEXT,
    "cl-list": POST + b"Content-Length: 3, 8\r\n\r\nabc" + NEXT,
    "cl-superscript-two": POST + b"Content-Length: \xb2\r\n\r\nab" + NEXT,
    "cl-empty": POST + b"Content-Length: \r\n\r\n" + NEXT,
    "cl-plus": POST + b"Content-Length: +3\r\n\r\nabc" + NEXT,
    "cl-vtab": POST + b"Content-Length: \x0b3\r\n\r\nabc" + NEXT,
    "cl-nbsp": POST + b"Content-Length: 3\xa0\r\n\r\nabc" + NEXT,
    "cl-obs-fold": POST + b"Content-Length:\r\n 3\r\n\r\nabc" + NEXT,
    "cl-leading-zeros": POST + b"Content-Length: 003\r\n\r\nabc" + NEXT,
    # chunked framing
    "chunk-size-bare-lf": POST + b"Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n" + NEXT,
    "chunk-data-bare-lf": POST + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n" + NEXT,
    "chunk-last-bare-lf": POST + b"Transfer-Encoding: chunked\r\n\r\n0\n\n" + NEXT,
    "chunk-size-leading-space": POST
    + b"Transfer-Encoding: chunked\r\n\r\n 3\r\nabc\r\n0\r\n\r\n"
    + NEXT,
    "chunk-size-trailing-space": POST
    + b"Transfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n"
    + NEXT,
    "chunk-size-bare-cr": POST + b"Transfer-Encoding: chunked\r\n\r\n3\rabc\r\n0\r\n\r\n" + NEXT,
    "chunk-size-overflow": POST + b"Transfer-Encoding: chunked\r\n\r\n"
    b"10000000000000003\r\nabc\r\n0\r\n\r\n" + NEXT,
    "chunk-ext-ok": POST + b"Transfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\n0\r\n\r\n" + NEXT,
    "trailer-is-a-request-line": POST + b"Transfer-Encoding: chunked\r\n\r\n0\r\n"
    b"GET /smuggled HTTP/1.1\r\n\r\n" + NEXT,
    "trailer-without-colon": POST + b"Transfer-Encoding: chunked\r\n\r\n0\r\nX y\r\n\r\n" + NEXT,
    "trailer-ok": POST + b"Transfer-Encoding: chunked\r\n\r\n0\r\nX-T: y\r\n\r\n" + NEXT,
    # header syntax around the framing headers
    "header-bare-cr-value": POST + b"X: a\rContent-Length: 3\r\n\r\nabc" + NEXT,
    "header-bare-cr-line-end": POST + b"Content-Length: 3\r\r\n\r\nabc" + NEXT,
    "header-bare-lf-line-ends": b"POST /a HTTP/1.1\nHost: h\nContent-Length: 3\n\nabc" + NEXT,
    "header-nul-value": POST + b"X: a\x00b\r\nContent-Length: 3\r\n\r\nabc" + NEXT,
    "request-line-bare-cr-end": b"GET /a HTTP/1.1\r\r\n" + H + b"\r\n" + NEXT,
    "target-non-ascii": b"GET /caf\xe9 HTTP/1.1\r\n" + H + b"\r\n" + NEXT,
    "target-absolute-bracket": b"GET http://[h/ HTTP/1.1\r\n" + H + b"\r\n" + NEXT,
}


@pytest.mark.parametrize("name", sorted(SMUGGLING))
def test_smuggling_vector_is_framed_as_h11_frames_it_or_refused(
    diff_server: HTTPServer, name: str
) -> None:
    data = SMUGGLING[name]
    reference = h11_verdict(data)
    ours = our_verdict(diff_server, data)
    outcome = compare(ours, reference)
    print(f"{name}: {outcome or 'agree'}")
    assert outcome not in FAILURES, (name, ours, reference)
    # A smuggled request line becomes a request of its own only where h11 reads one too.
    if all(target != b"/smuggled" for _, target, _ in reference.accepted):
        assert all(target != b"/smuggled" for _, target, _ in ours.accepted)


# -------------------------------------------------------------- generated requests

_TOKEN_METHODS = [b"GET", b"POST", b"PUT", b"DELETE", b"PATCH", b"get", b"BREW", b"M-SEARCH"]
_VALUE_BYTES = b"ab \t,;=\x00\x01\x0b\x0c\x1c\x7f\x85\xa0\xe9\r\n"


def _eol() -> st.SearchStrategy[bytes]:
    return st.sampled_from([b"\r\n"] * 8 + [b"\n", b"\r\r\n", b"\r"])


@st.composite
def _value(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 3)) == 0:
        return draw(
            st.binary(max_size=6).map(
                lambda b: bytes(_VALUE_BYTES[x % len(_VALUE_BYTES)] for x in b)
            )
        )
    return draw(st.sampled_from([b"v", b"a b", b"x\ty", b"caf\xe9", b"", b"a,b"]))


@st.composite
def _chunked_body(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """Return (wire bytes, the body they carry if well formed)."""
    wire = b""
    body = b""
    for data in draw(st.lists(st.binary(min_size=1, max_size=12), max_size=3)):
        size = b"%x" % len(data)
        size = draw(
            st.sampled_from(
                [size] * 6
                + [
                    size.upper(),
                    b"0" + size,
                    size + b";e=1",
                    size + b" ",
                    b" " + size,
                    b"+" + size,
                ]
            )
        )
        wire += size + draw(_eol()) + data + draw(_eol())
        body += data
    last = draw(st.sampled_from([b"0", b"00", b"0;e", b"0 "]))
    wire += last + draw(_eol())
    trailers = draw(
        st.lists(
            st.sampled_from(
                [b"X-T: v", b"X-T v", b"GET /smuggled HTTP/1.1", b" folded", b"X: \x01"]
            ),
            max_size=2,
        )
    )
    for line in trailers:
        wire += line + draw(_eol())
    wire += draw(_eol())
    return wire, body


@st.composite
def _request(draw: st.DrawFn) -> bytes:
    method = draw(st.sampled_from([*_TOKEN_METHODS, b"GE T", b"G(T"]))
    target = draw(
        st.sampled_from(
            [b"/", b"/p?q=1", b"/a%20b", b"http://h/abs", b"/caf\xe9", b"/a\x7f", b"*"]
        )
    )
    version = draw(st.sampled_from([b"HTTP/1.1"] * 6 + [b"HTTP/1.0", b"HTTP/1.2", b"http/1.1"]))
    lines = [method + b" " + target + b" " + version]
    if version != b"HTTP/1.0" or draw(st.booleans()):
        lines.append(b"Host: h")
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from([b"X-A", b"X-B", b"Accept", b"X A", b"X-A ", b" X-A"]))
        lines.append(name + b":" + draw(st.sampled_from([b" ", b"", b"\t"])) + draw(_value()))
    if draw(st.integers(0, 5)) == 0:
        lines.append(b"Connection: close")
    payload = draw(st.binary(max_size=10))
    framing = draw(st.sampled_from(["none", "length", "length", "chunked", "chunked", "both"]))
    body_wire = b""
    if framing in ("length", "both"):
        length = str(len(payload)).encode()
        value = draw(
            st.sampled_from(
                [length] * 5 + [b"", b"\xb2", b"+" + length, length + b", " + length, b"0x1"]
            )
        )
        lines.append(b"Content-Length: " + value)
        body_wire = payload
    if framing in ("chunked", "both"):
        te = draw(
            st.sampled_from(
                [b"chunked"] * 4 + [b"\x0bchunked", b"\xa0chunked", b"Chunked", b"gzip, chunked"]
            )
        )
        lines.append(b"Transfer-Encoding: " + te)
        body_wire = draw(_chunked_body())[0]
    head = b"".join(line + draw(_eol()) for line in lines)
    return head + draw(_eol()) + body_wire


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(requests=st.lists(_request(), min_size=1, max_size=3))
def test_generated_requests_are_framed_as_h11_frames_them_or_refused(
    diff_server: HTTPServer, requests: list[bytes]
) -> None:
    data = b"".join(requests)
    reference = h11_verdict(data)
    ours = our_verdict(diff_server, data)
    outcome = compare(ours, reference)
    assert outcome not in FAILURES, (data, ours, reference)


@st.composite
def chunked_pipeline(draw: st.DrawFn) -> bytes:
    """A valid head announcing a chunked body, a body with framing mutations, a next request."""
    wire, _ = draw(_chunked_body())
    te = draw(st.sampled_from([b"chunked"] * 6 + [b"\x0bchunked", b"\xa0chunked", b"chunked\x0c"]))
    return (
        POST
        + b"Transfer-Encoding: "
        + te
        + b"\r\n\r\n"
        + wire
        + draw(st.sampled_from([NEXT, SMUGGLED, b""]))
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=chunked_pipeline())
def test_generated_chunked_bodies_are_framed_as_h11_frames_them_or_refused(
    diff_server: HTTPServer, data: bytes
) -> None:
    outcome = compare(our_verdict(diff_server, data), h11_verdict(data))
    assert outcome not in FAILURES, (data, outcome)


@settings(max_examples=400, deadline=None)
@given(requests=st.lists(_request(), min_size=1, max_size=3))
def test_the_parser_alone_frames_generated_requests_as_h11_does_or_refuses(
    requests: list[bytes],
) -> None:
    """The socket-free entry point: many more examples for the same time."""
    data = b"".join(requests)
    outcome = compare(parser_verdict(data), h11_verdict(data))
    assert outcome not in FAILURES, (data, outcome)


def test_the_parser_alone_and_the_server_agree_on_the_smuggling_corpus(
    diff_server: HTTPServer,
) -> None:
    for name, data in SMUGGLING.items():
        alone = parser_verdict(data)
        served = our_verdict(diff_server, data)
        assert (alone.accepted, alone.refused) == (served.accepted, served.refused), name


def test_h11_reference_frames_a_known_pipeline() -> None:
    """The reference itself: two pipelined requests, then a chunked one, then a refusal."""
    data = (
        b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
        + POST
        + b"Content-Length: 2\r\n\r\nab"
        + POST
        + b"Transfer-Encoding: chunked\r\n\r\n1\r\nc\r\n0\r\n\r\n"
        + b"GET /bad\x01 HTTP/1.1\r\n\r\n"
    )
    verdict = h11_verdict(data)
    assert verdict.accepted == (
        (b"GET", b"/1", b""),
        (b"POST", b"/a", b"ab"),
        (b"POST", b"/a", b"c"),
    )
    assert verdict.refused
