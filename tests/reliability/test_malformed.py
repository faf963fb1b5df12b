"""Malformed input: a corpus of raw byte sequences, each answered, recorded, and survived.

Every case is sent on a fresh plain socket, the sending side is then shut
(so a truncated request really ends), and everything the server sends is read
until it closes. The expectation of each case is one of:

* a status: the request breaks HTTP/1.1 or a limit; the answer has that status,
  and the log holds one ``MALFORMED`` entry whose finding gives the reason;
* ``NO_HANDLER``: the bytes are valid HTTP that no handler matches; the answer is
  the no-handler response (404 here) and a ``NO_HANDLER`` finding;
* ``CLOSED``: no request was sent at all; the server closes without a word.

After each case a well-formed request on a new connection is served.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from httpdouble import HTTPServer, Kind, Outcome

from .rawhttp import exchange, good_request_is_served

NO_HANDLER = "no handler"
CLOSED = "closed"

H = b"Host: localhost\r\n"


@dataclass(frozen=True)
class Case:
    name: str
    payload: bytes
    expect: int | str
    gap: str = ""  # Non-empty: the server does not do this yet (strict xfail, with the reason).


def _get(target: bytes = b"/x", *headers: bytes, version: bytes = b"HTTP/1.1") -> bytes:
    return b"GET " + target + b" " + version + b"\r\n" + H + b"".join(headers) + b"\r\n"


def _post(body: bytes, *headers: bytes) -> bytes:
    return b"POST /x HTTP/1.1\r\n" + H + b"".join(headers) + b"\r\n" + body


CHUNKED = b"Transfer-Encoding: chunked\r\n"
TLS_CLIENT_HELLO = bytes.fromhex("16030100a5010000a10303") + bytes(32) + b"\x00\x00\x02\x13\x01"

CORPUS = [
    # -- nothing, or not a request line
    Case("connect-and-close", b"", CLOSED),
    Case("only-empty-lines", b"\r\n\r\n", CLOSED),
    Case("garbage-word", b"hello\r\n\r\n", 400),
    Case("binary-noise", b"\x01\x02\x03\xff\xfe\r\n\r\n", 400),
    Case("tls-client-hello-to-plain-port", TLS_CLIENT_HELLO, 400),
    Case("http09-request", b"GET /\r\n", 400),
    Case("http2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
    Case("http2-version", b"GET / HTTP/2.0\r\n" + H + b"\r\n", 505),
    Case("http3-version", b"GET / HTTP/3\r\n" + H + b"\r\n", 505),
    Case("lowercase-version", b"GET / http/1.1\r\n" + H + b"\r\n", 400),
    Case("version-not-http", b"GET / FTP/1.1\r\n" + H + b"\r\n", 400),
    Case("four-part-request-line", b"GET / HTTP/1.1 extra\r\n" + H + b"\r\n", 400),
    Case("double-space-request-line", b"GET  / HTTP/1.1\r\n" + H + b"\r\n", 400),
    Case("leading-space-request-line", b" GET / HTTP/1.1\r\n" + H + b"\r\n", 400),
    Case("request-line-cut-by-eof", b"GET / HT", 400),
    Case("bare-cr-line-ends", b"GET / HTTP/1.1\r" + H.rstrip(b"\n") + b"\r", 400),
    # -- methods
    Case("unknown-method", b"BREW /pot HTTP/1.1\r\n" + H + b"\r\n", NO_HANDLER),
    Case("lowercase-method", b"get /x HTTP/1.1\r\n" + H + b"\r\n", NO_HANDLER),
    Case("method-with-parenthesis", b"GE(T /x HTTP/1.1\r\n" + H + b"\r\n", 400),
    Case("method-with-nul", b"GE\x00T /x HTTP/1.1\r\n" + H + b"\r\n", 400),
    Case("method-non-ascii", b"G\xc9T /x HTTP/1.1\r\n" + H + b"\r\n", 400),
    # -- request targets
    Case("target-with-nul", _get(b"/a\x00b"), 400),
    Case("target-with-control-char", _get(b"/a\x01b"), 400),
    Case("target-with-del", _get(b"/a\x7fb"), 400),
    Case("target-not-a-path", _get(b"example.com"), 400),
    Case("authority-form-connect", b"CONNECT localhost:443 HTTP/1.1\r\n" + H + b"\r\n", 400),
    Case("absolute-form-target", _get(b"http://localhost/abs"), NO_HANDLER),
    Case("asterisk-form-options", b"OPTIONS * HTTP/1.1\r\n" + H + b"\r\n", NO_HANDLER),
    Case("invalid-percent-encoding", _get(b"/a%zz"), NO_HANDLER),
    Case("percent-at-end", _get(b"/a%"), NO_HANDLER),
    Case("percent-encoded-nul", _get(b"/a%00b"), NO_HANDLER),
    Case("non-ascii-raw-path", _get(b"/caf\xe9"), 400),
    Case("absolute-form-non-ascii", _get(b"http://localhost/caf\xe9"), 400),
    Case("absolute-form-unbalanced-bracket", _get(b"http://[localhost/x"), 400),
    Case("non-utf8-percent-path", _get(b"/caf%E9"), NO_HANDLER),
    Case("non-utf8-query", _get(b"/x?q=%ff%fe"), NO_HANDLER),
    Case("invalid-percent-in-query", _get(b"/x?q=%zz&%"), NO_HANDLER),
    # -- headers
    Case("missing-host-http11", b"GET /x HTTP/1.1\r\n\r\n", 400),
    Case("http10-without-host", b"GET /x HTTP/1.0\r\n\r\n", NO_HANDLER),
    Case(
        "duplicate-host",
        _get(b"/x", b"Host: other\r\n"),
        400,
    ),
    Case("header-without-colon", _get(b"/x", b"X-Broken value\r\n"), 400),
    Case("space-before-colon", _get(b"/x", b"X-Name : value\r\n"), 400),
    Case("empty-header-name", _get(b"/x", b": value\r\n"), 400),
    Case("nul-in-header-name", _get(b"/x", b"X-N\x00me: v\r\n"), 400),
    Case("non-utf8-header-name", _get(b"/x", b"X-N\xe9me: v\r\n"), 400),
    Case("non-utf8-header-value", _get(b"/x", b"X-Name: caf\xe9\r\n"), NO_HANDLER),
    Case(
        "nul-in-header-value",
        _get(b"/x", b"X-Name: a\x00b\r\n"),
        400,
    ),
    Case(
        "bare-cr-in-header-value",
        _get(b"/x", b"X-Name: a\rb\r\n"),
        400,
    ),
    Case("obs-fold-continuation", _get(b"/x", b"X-Name: a\r\n  folded\r\n"), 400),
    Case("obs-fold-first-line", b"GET /x HTTP/1.1\r\n folded: x\r\n" + H + b"\r\n", 400),
    Case("bare-lf-line-ends", b"GET /x HTTP/1.1\nHost: localhost\n\n", NO_HANDLER),
    Case("bare-cr-before-crlf-in-header", _get(b"/x", b"X-Name: a\r\r\n"), 400),
    Case("bare-cr-before-crlf-in-request-line", b"GET /x HTTP/1.1\r\r\n" + H + b"\r\n", 400),
    Case("control-char-in-header-value", _get(b"/x", b"X-Name: a\x01b\r\n"), 400),
    Case("del-in-header-value", _get(b"/x", b"X-Name: a\x7fb\r\n"), 400),
    Case("vtab-leading-header-value", _get(b"/x", b"X-Name: \x0bv\r\n"), 400),
    Case("htab-in-header-value", _get(b"/x", b"X-Name: a\tb\r\n"), NO_HANDLER),
    Case("obs-text-in-header-value", _get(b"/x", b"X-Name: \xa0\x85\r\n"), NO_HANDLER),
    Case("known-header-name-without-colon", _get(b"/x", b"Accept: v\r\n", b"Accept\r\n"), 400),
    Case("headers-cut-by-eof", b"GET /x HTTP/1.1\r\n" + H, 400),
    Case("header-line-cut-by-eof", b"GET /x HTTP/1.1\r\n" + H + b"X-Na", 400),
    Case("too-many-headers", _get(b"/x", *(b"X-%d: v\r\n" % n for n in range(101))), 431),
    Case("header-line-over-64k", _get(b"/x", b"X-Big: " + b"v" * 70_000 + b"\r\n"), 431),
    Case("request-line-over-8k", _get(b"/" + b"a" * 9000), 414),
    # -- Content-Length
    Case("content-length-not-a-number", _post(b"abc", b"Content-Length: abc\r\n"), 400),
    Case("content-length-negative", _post(b"abc", b"Content-Length: -3\r\n"), 400),
    Case("content-length-plus-sign", _post(b"abc", b"Content-Length: +3\r\n"), 400),
    Case("content-length-hex", _post(b"abc", b"Content-Length: 0x3\r\n"), 400),
    Case("content-length-absurd", _post(b"abc", b"Content-Length: " + b"9" * 40 + b"\r\n"), 400),
    Case("content-length-over-limit", _post(b"abc", b"Content-Length: 999999999999\r\n"), 413),
    Case(
        "content-length-duplicate-conflicting",
        _post(b"abc", b"Content-Length: 3\r\n", b"Content-Length: 4\r\n"),
        400,
    ),
    Case(
        "content-length-duplicate-equal",
        _post(b"abc", b"Content-Length: 3\r\n", b"Content-Length: 3\r\n"),
        NO_HANDLER,
    ),
    Case("content-length-list", _post(b"abc", b"Content-Length: 3, 3\r\n"), 400),
    Case("content-length-superscript-two", _post(b"ab", b"Content-Length: \xb2\r\n"), 400),
    Case("content-length-arabic-indic-digit", _post(b"abc", b"Content-Length: \xd9\xa3\r\n"), 400),
    Case("content-length-empty", _post(b"", b"Content-Length: \r\n"), 400),
    Case("content-length-vtab", _post(b"abc", b"Content-Length: \x0b3\r\n"), 400),
    Case("body-truncated", _post(b"abc", b"Content-Length: 10\r\n"), 400),
    # -- Transfer-Encoding
    Case(
        "content-length-and-chunked",
        _post(b"3\r\nabc\r\n0\r\n\r\n", b"Content-Length: 3\r\n", CHUNKED),
        400,
    ),
    Case("transfer-encoding-gzip", _post(b"abc", b"Transfer-Encoding: gzip\r\n"), 501),
    Case(
        "transfer-encoding-gzip-chunked",
        _post(b"3\r\nabc\r\n0\r\n\r\n", b"Transfer-Encoding: gzip, chunked\r\n"),
        501,
    ),
    Case(
        "transfer-encoding-twice",
        _post(b"3\r\nabc\r\n0\r\n\r\n", CHUNKED, CHUNKED),
        501,
    ),
    Case(
        "transfer-encoding-vtab-chunked",
        _post(b"0\r\n\r\n", b"Transfer-Encoding: \x0bchunked\r\n"),
        400,
    ),
    Case(
        "transfer-encoding-formfeed-chunked",
        _post(b"0\r\n\r\n", b"Transfer-Encoding: \x0cchunked\r\n"),
        400,
    ),
    Case(
        "transfer-encoding-x1c-chunked",
        _post(b"0\r\n\r\n", b"Transfer-Encoding: \x1cchunked\r\n"),
        400,
    ),
    Case(
        "transfer-encoding-x1d-chunked",
        _post(b"0\r\n\r\n", b"Transfer-Encoding: \x1dchunked\r\n"),
        400,
    ),
    Case(
        "transfer-encoding-x1e-chunked",
        _post(b"0\r\n\r\n", b"Transfer-Encoding: \x1echunked\r\n"),
        400,
    ),
    Case(
        "transfer-encoding-x1f-chunked",
        _post(b"0\r\n\r\n", b"Transfer-Encoding: \x1fchunked\r\n"),
        400,
    ),
    Case(
        "transfer-encoding-nbsp-chunked",
        _post(b"0\r\n\r\n", b"Transfer-Encoding: \xa0chunked\r\n"),
        501,
    ),
    Case(
        "transfer-encoding-nel-chunked",
        _post(b"0\r\n\r\n", b"Transfer-Encoding: \x85chunked\r\n"),
        501,
    ),
    Case(
        "transfer-encoding-in-http10",
        b"POST /x HTTP/1.0\r\n" + CHUNKED + b"\r\n3\r\nabc\r\n0\r\n\r\n",
        400,
    ),
    Case(
        "chunked-valid-with-extension", _post(b"3;ext=1\r\nabc\r\n0\r\n\r\n", CHUNKED), NO_HANDLER
    ),
    Case("chunked-bad-size", _post(b"zz\r\nabc\r\n0\r\n\r\n", CHUNKED), 400),
    Case("chunked-negative-size", _post(b"-3\r\nabc\r\n0\r\n\r\n", CHUNKED), 400),
    Case("chunked-0x-size", _post(b"0x3\r\nabc\r\n0\r\n\r\n", CHUNKED), 400),
    Case("chunked-empty-size", _post(b"\r\nabc\r\n0\r\n\r\n", CHUNKED), 400),
    Case("chunked-no-crlf-after-data", _post(b"3\r\nabcXY0\r\n\r\n", CHUNKED), 400),
    Case("chunked-data-truncated", _post(b"10\r\nabc", CHUNKED), 400),
    Case("chunked-no-last-chunk", _post(b"3\r\nabc\r\n", CHUNKED), 400),
    Case("chunked-huge-size-then-eof", _post(b"ffffffffffffffff\r\n", CHUNKED), 413),
    Case("chunked-size-line-too-long", _post(b"3;" + b"e" * 2000 + b"\r\nabc\r\n", CHUNKED), 400),
    Case("chunked-size-bare-lf", _post(b"3\nabc\r\n0\r\n\r\n", CHUNKED), 400),
    Case("chunked-data-bare-lf", _post(b"3\r\nabc\n0\r\n\r\n", CHUNKED), 400),
    Case("chunked-last-chunk-bare-lf", _post(b"0\n\r\n", CHUNKED), 400),
    Case("chunked-final-line-bare-lf", _post(b"0\r\n\n", CHUNKED), 400),
    Case("chunked-size-leading-space", _post(b" 3\r\nabc\r\n0\r\n\r\n", CHUNKED), 400),
    Case("chunked-size-trailing-space", _post(b"3 \r\nabc\r\n0\r\n\r\n", CHUNKED), 400),
    Case("chunked-size-trailing-tab", _post(b"3\t\r\nabc\r\n0\r\n\r\n", CHUNKED), 400),
    Case(
        "chunked-trailer-is-a-request-line",
        _post(b"0\r\nGET /smuggled HTTP/1.1\r\n\r\n", CHUNKED),
        400,
    ),
    Case("chunked-trailer-without-colon", _post(b"0\r\nX-T v\r\n\r\n", CHUNKED), 400),
    Case("chunked-trailer-control-char", _post(b"0\r\nX-T: a\x01\r\n\r\n", CHUNKED), 400),
    Case("chunked-trailer-obs-fold", _post(b"0\r\nX-T: a\r\n b\r\n\r\n", CHUNKED), 400),
    Case("chunked-valid-trailer", _post(b"0\r\nX-T: a\r\n\r\n", CHUNKED), NO_HANDLER),
    Case("chunked-trailer-truncated", _post(b"3\r\nabc\r\n0\r\nX-Trailer: v", CHUNKED), 400),
    # -- several requests on one connection
    Case("good-request-then-garbage", _get(b"/x") + b"garbage\r\n\r\n", 400),
]


def _check_case(server: HTTPServer, case: Case) -> None:
    result = exchange(server.port, case.payload)
    entries = server.log_entries
    findings = server.findings
    if case.expect == CLOSED:
        assert result.data == b""
        assert entries == []
        assert findings == []
        return
    assert result.responses, f"no response at all (reset={result.reset})"
    status, headers, body = result.responses[-1]
    if case.expect == NO_HANDLER:
        assert [status] == result.statuses == [404]
        assert [e.outcome for e in entries] == [Outcome.NO_HANDLER]
        assert [f.kind for f in findings] == [Kind.NO_HANDLER]
        assert b"No handler found" in body
        return
    assert status == case.expect, body
    assert headers["connection"] == "close"
    assert entries[-1].outcome is Outcome.MALFORMED
    assert entries[-1].request is None
    assert entries[-1].response.status_code == case.expect
    assert findings[-1].kind is Kind.MALFORMED
    assert f"answered {case.expect}: " in findings[-1].detail
    # The client reads the same reason the finding records (its first line; a limit's
    # name and remedy follow for the test).
    reason = findings[-1].detail.splitlines()[0].split(": ", 1)[1]
    assert reason in body.decode("utf-8")


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, marks=pytest.mark.xfail(reason=c.gap, strict=True)) if c.gap else c
        for c in CORPUS
    ],
    ids=[c.name for c in CORPUS],
)
def test_malformed_bytes_get_an_answer_a_record_and_the_server_keeps_serving(
    server: HTTPServer, case: Case
) -> None:
    server.expect_request("/good").respond_with_data("good")
    _check_case(server, case)
    good_request_is_served(server)


def test_the_corpus_has_at_least_fifty_cases_with_unique_names() -> None:
    names = [c.name for c in CORPUS]
    assert len(names) == len(set(names))
    assert len(names) >= 50
    print(f"malformed corpus: {len(CORPUS)} cases")


def test_tls_client_hello_on_the_plain_port_is_answered_without_the_client_closing(
    server: HTTPServer,
) -> None:
    """An HTTPS client on the plain port waits for a ServerHello: the server must not wait too."""
    result = exchange(server.port, TLS_CLIENT_HELLO, shutdown=False, timeout=3.0)
    assert result.statuses == [400]
    assert server.findings[0].kind is Kind.MALFORMED


def test_json_matcher_facing_invalid_json_does_not_match_and_says_why(
    server: HTTPServer,
) -> None:
    server.expect_request("/j", method="POST", json={"a": 1}).respond_with_data("matched")
    body = b'{"a": 1,,}'
    payload = (
        b"POST /j HTTP/1.1\r\n" + H + b"Content-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body
    )
    result = exchange(server.port, payload)
    assert result.statuses == [404]
    (finding,) = server.findings
    assert finding.kind is Kind.NO_HANDLER
    (difference,) = finding.differences
    assert difference.field == "json"
    assert "not valid JSON" in difference.actual
    assert "not valid JSON" in result.responses[0][2].decode()
    # A valid body on the same server still matches.
    good = json.dumps({"a": 1}).encode()
    valid = b"POST /j HTTP/1.1\r\n" + H + b"Content-Length: %d\r\n\r\n" % len(good) + good
    assert exchange(server.port, valid).responses[0][2] == b"matched"
