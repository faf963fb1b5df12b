"""Log entries built on first use read exactly as the werkzeug objects rebuilt at once.

The "eager" side of each comparison is how the log decoded an entry before entries were
built lazily: the environ rebuilt from the record, then ``Request(environ)`` and
``Response(body, status, headers)``.
"""

from __future__ import annotations

import io
import json
import sys
import threading
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from werkzeug.wrappers import Request, Response

from httpdouble import RequestMatcher
from httpdouble._log.lazy import LazyRequest, LazyResponse, RawRequest, line_parts
from httpdouble._log.request_log import Outcome, RequestLog
from httpdouble._wire.head import environ_of

HEADERS = (("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "2"))


def raw_request(line: bytes, *fields: bytes, body: bytes = b"") -> RawRequest:
    head = b"\r\n".join((line, b"Host: 127.0.0.1:8000", *fields))
    if body:
        head += b"\r\nContent-Length: %d" % len(body)
    return (head, "127.0.0.1", 40000, "127.0.0.1", 8000, "http")


def eager_request(items: dict[str, Any] | RawRequest, body: bytes) -> Request:
    environ = environ_of(items, body) if type(items) is tuple else dict(items)  # type: ignore[arg-type]
    environ["wsgi.input"] = io.BytesIO(body)
    environ["wsgi.errors"] = sys.stderr
    return Request(environ, populate_request=False)


def record(items: dict[str, Any] | RawRequest, body: bytes = b"") -> tuple[Any, ...]:
    return (items, body, 200, HEADERS, b"ok", Outcome.MATCHED.value, "t", None, "main", 1.0)


REQUESTS: list[tuple[RawRequest, bytes]] = [
    (raw_request(b"GET /a?i=1&j=two HTTP/1.1"), b""),
    (raw_request(b"GET /caf%C3%A9/%ZZ/x%FF?q=%20 HTTP/1.1", b"Accept: */*"), b""),
    (raw_request(b"GET //double//slash HTTP/1.0"), b""),
    (
        raw_request(b"POST /json HTTP/1.1", b"Content-Type: application/json", body=b'{"a": 1}'),
        b'{"a": 1}',
    ),
    (
        raw_request(
            b"PUT /form?x=1 HTTP/1.1",
            b"Content-Type: application/x-www-form-urlencoded",
            b"X-Token: s3cret",
            body=b"name=value&b=%41",
        ),
        b"name=value&b=%41",
    ),
    (raw_request(b"DELETE /items/7 HTTP/1.1", b"Cookie: a=b; c=d"), b""),
]


def _view(request: Request) -> dict[str, Any]:
    """What users read from a logged request."""
    environ = {k: v for k, v in request.environ.items() if k not in ("wsgi.input", "wsgi.errors")}
    return {
        "method": request.method,
        "path": request.path,
        "full_path": request.full_path,
        "query_string": request.query_string,
        "args": request.args.to_dict(flat=False),
        "headers": list(request.headers.items()),
        "data": request.get_data(),
        "json": request.get_json(silent=True),
        "form": request.form.to_dict(flat=False),
        "url": request.url,
        "host": request.host,
        "remote_addr": request.remote_addr,
        "scheme": request.scheme,
        "server": request.server,
        "cookies": request.cookies.to_dict(),
        "environ": environ,
        "repr": repr(request),
    }


@pytest.mark.parametrize(("raw", "body"), REQUESTS, ids=lambda v: repr(v)[:40])
def test_a_logged_request_reads_as_the_request_rebuilt_at_once(
    raw: RawRequest, body: bytes
) -> None:
    lazy = LazyRequest(raw, body)
    assert isinstance(lazy, Request)
    assert _view(lazy) == _view(eager_request(raw, body))


@pytest.mark.parametrize(("raw", "body"), REQUESTS, ids=lambda v: repr(v)[:40])
def test_a_request_logged_from_its_environ_reads_as_the_request_rebuilt_at_once(
    raw: RawRequest, body: bytes
) -> None:
    environ = environ_of(raw, body)
    del environ["wsgi.input"], environ["wsgi.errors"]
    assert _view(LazyRequest(dict(environ), body)) == _view(eager_request(environ, body))


@pytest.mark.parametrize(("raw", "body"), REQUESTS, ids=lambda v: repr(v)[:40])
def test_a_request_being_served_reads_as_werkzeugs_and_keeps_its_environ(
    raw: RawRequest, body: bytes
) -> None:
    live, eager = environ_of(raw, body), environ_of(raw, body)
    lazy = LazyRequest(live)
    assert lazy.environ is live
    assert (lazy.method, lazy.path, lazy.query_string) == line_parts(live)
    assert "headers" not in vars(lazy)  # the lookup's first checks build nothing
    assert _view(lazy) == _view(Request(eager, populate_request=False))
    assert lazy.environ is live
    lazy.max_content_length = 10  # a handler's own setting sticks
    assert lazy.max_content_length == 10


def test_a_logged_response_reads_as_the_response_rebuilt_at_once() -> None:
    headers = (("Content-Type", "application/json"), ("X-Id", "7"), ("Content-Length", "8"))
    lazy = LazyResponse(201, headers, b'{"a": 1}')
    eager = Response(b'{"a": 1}', status=201, headers=list(headers))
    assert isinstance(lazy, Response)
    for read in (
        lambda r: r.status_code,
        lambda r: r.status,
        lambda r: list(r.headers.items()),
        lambda r: r.get_data(),
        lambda r: r.json,
        lambda r: r.mimetype,
        repr,
    ):
        assert read(lazy) == read(eager)


# Path segments the loop's parser takes: escapes of any byte (UTF-8 or not), bad escapes,
# empty segments; a query of anything printable.
_SEGMENT = st.lists(
    st.sampled_from(
        ["a", "Z9", "%41", "%2F", "%C3%A9", "%FF", "%E2%82", "%zz", "%", "-._~", "", "é", "+;=:@"]
    ),
    max_size=6,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(
    method=st.sampled_from([b"GET", b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS"]),
    segments=st.lists(_SEGMENT, min_size=1, max_size=4),
    query=st.none() | st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=20),
    version=st.sampled_from([b"HTTP/1.1", b"HTTP/1.0"]),
)
def test_the_request_line_gives_what_werkzeug_computes_from_the_environ(
    method: bytes, segments: list[str], query: str | None, version: bytes
) -> None:
    target = ("/" + "/".join(segments) + ("" if query is None else "?" + query)).encode()
    raw = raw_request(b" ".join((method, target, version)))
    try:
        eager = eager_request(raw, b"")
    except AssertionError:  # the loop's parser would not have taken it: never logged so
        assume(False)
    expected = (eager.method, eager.path, eager.query_string)
    assert line_parts(raw) == expected
    environ = environ_of(raw, b"")
    assert line_parts(environ) == expected
    lazy = LazyRequest(raw, b"")
    assert (lazy.method, lazy.path, lazy.query_string) == expected
    assert "environ" not in vars(lazy)  # the request line was enough
    assert lazy.environ["PATH_INFO"] == eager.environ["PATH_INFO"]
    assert (lazy.method, lazy.path, lazy.query_string) == expected  # and still, once built


def test_changing_one_entrys_response_leaves_the_other_entries_of_its_static_reply() -> None:
    log = RequestLog()
    body = b"x" * 2048  # big enough to be logged once, by reference
    for index in range(2):
        raw = raw_request(b"GET /s?i=%d HTTP/1.1" % index)
        log.append_record((raw, b"", 200, HEADERS, body, "matched", "t", None, "main", 1.0), True)
    (_, first), (_, second) = log.pairs()
    first.set_data(b"changed")
    first.headers["X-Mine"] = "1"
    assert second.get_data() == body
    assert "X-Mine" not in second.headers
    assert log.pairs()[0][1].get_data() == b"changed"  # the entry's own object, kept


_MATCHERS = [
    RequestMatcher("/a"),
    RequestMatcher("/a", method="GET"),
    RequestMatcher("/a", query_string="i=1&j=two"),
    RequestMatcher("/a", query_string={"i": "1"}),
    RequestMatcher("/café/%ZZ/x\ufffd"),
    RequestMatcher("//double//slash"),
    RequestMatcher("/json", method="POST", json={"a": 1}),
    RequestMatcher("/json", json={"a": 2}),
    RequestMatcher("/form", data=b"name=value&b=%41"),
    RequestMatcher("/form", headers={"X-Token": "s3cret"}),
    RequestMatcher("/form", headers={"X-Token": "other"}),
    RequestMatcher("/items/7", method="DELETE"),
    RequestMatcher("/items/7", method="GET"),
    RequestMatcher("/nowhere"),
]


@pytest.mark.parametrize("as_environ", [False, True], ids=["as read by the loop", "as environ"])
def test_matchers_find_the_same_entries_as_on_requests_rebuilt_at_once(as_environ: bool) -> None:
    log = RequestLog()
    kept: list[tuple[dict[str, Any] | RawRequest, bytes]] = []
    for raw, body in REQUESTS * 2:
        items: dict[str, Any] | RawRequest = raw
        if as_environ:
            items = environ_of(raw, body)
            del items["wsgi.input"], items["wsgi.errors"]
        kept.append((items, body))
        log.append_record(record(items, body))
    for matcher in _MATCHERS:
        logged = [index for index, (r, _) in enumerate(log.pairs()) if matcher.match(r)]
        eager = [
            index
            for index, (items, body) in enumerate(kept)
            if matcher.match(eager_request(items, body))
        ]
        assert logged == eager, matcher


@pytest.mark.parametrize("as_environ", [False, True], ids=["as read by the loop", "as environ"])
def test_counting_and_iterating_matches_on_an_unread_log_find_the_eager_entries(
    as_environ: bool,
) -> None:
    counted, iterated = RequestLog(), RequestLog()
    kept: list[tuple[dict[str, Any] | RawRequest, bytes]] = []
    for raw, body in REQUESTS * 2:
        items: dict[str, Any] | RawRequest = raw
        if as_environ:
            items = environ_of(raw, body)
            del items["wsgi.input"], items["wsgi.errors"]
        kept.append((items, body))
        counted.append_record(record(items, body))
        iterated.append_record(record(items, body))
    for matcher in _MATCHERS:
        eager = [
            i for i, (items, body) in enumerate(kept) if matcher.match(eager_request(items, body))
        ]
        assert counted.pairs().count_matching(matcher.match) == len(eager), matcher
        found = list(iterated.pairs().matching(matcher.match))
        assert [iterated.pairs().index(pair) for pair in found] == eager, matcher
        # what was yielded is the entry a read returns, the same objects
        assert all(pair is iterated.pairs()[i] for pair, i in zip(found, eager, strict=True))
    assert counted._segment.decoded == {}  # counting kept nothing it looked at


def test_matching_on_the_request_line_builds_only_the_requests_a_later_check_reads() -> None:
    log = RequestLog()
    for raw, body in REQUESTS:
        log.append_record(record(raw, body))
    assert (
        sum(RequestMatcher("/a", query_string="i=1&j=two").match(r) for r, _ in log.pairs()) == 1
    )
    assert not any("environ" in vars(r) for r, _ in log.pairs())
    assert sum(
        RequestMatcher("/form", headers={"X-Token": "s3cret"}).match(r) for r, _ in log.pairs()
    )
    built = [r.path for r, _ in log.pairs() if "environ" in vars(r)]
    assert built == ["/form"]  # the one whose path matched; its headers were read


def test_threads_reading_one_new_entry_get_one_request_and_one_environ() -> None:
    log = RequestLog()
    log.append_record(record(*REQUESTS[3]))
    ((request, _),) = log.pairs()
    start = threading.Barrier(4)
    seen: list[object] = []

    def read() -> None:
        start.wait(5)
        seen.append(request.environ)
        seen.append(request.json)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    environs = seen[::2]
    assert len(environs) == 4
    assert all(environ is environs[0] for environ in environs)
    assert seen[1::2] == [json.loads(REQUESTS[3][1])] * 4


def test_the_newest_record_amended_is_read_as_amended() -> None:
    log = RequestLog()
    log.append_record(record(*REQUESTS[0]))
    handle = log.append_record(record(*REQUESTS[1]))
    assert log._segment.newest[0] == 1  # kept as it was made, for log[-1]
    replaced = (500, (("Content-Length", "4"),), b"gone")
    assert log.amend(handle, Outcome.NOT_DELIVERED, replaced)
    _, response = log.pairs()[-1]
    assert (response.status_code, response.get_data()) == (500, b"gone")
    assert log.entries()[-1].outcome is Outcome.NOT_DELIVERED


def test_logs_cleared_past_the_spare_segments_each_start_empty_and_apart() -> None:
    # Each clear takes a segment made ahead with others; past a batch more are made. Two
    # logs cleared in turn must each get an empty segment of its own, and a view taken
    # before a clear must keep reading what it held.
    import httpdouble._log.request_log as log_module

    logs = [RequestLog(), RequestLog()]
    raw = raw_request(b"GET /s HTTP/1.1")
    seen: set[int] = set()
    views = []
    for round_ in range(2 * log_module.SPARES_MADE_AT_ONCE + 3):
        for number, log in enumerate(logs):
            log.append_record(record(raw))
            views.append((round_, number, log.pairs()))
            assert log.end() == (1, {})
            segment = log._segment
            assert id(segment) not in seen, "a segment was handed out twice"
            seen.add(id(segment))
            assert (len(segment.ends), len(segment.data), segment.decoded) == (0, 0, {})
        assert logs[0]._segment is not logs[1]._segment
    assert all(len(view) == 1 and view[0][0].path == "/s" for _, _, view in views)
