"""Reading the request log: each entry is decoded once, on first read, and kept until a clear."""

from __future__ import annotations

import gc
from collections.abc import Sequence

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

import httpdouble._log.request_log as log_module
from httpdouble import Outcome, RequestDispatcher, RequestMatcher


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the records turned into entries: one element per decode."""
    calls: list[int] = []
    original = log_module.pair_of

    def counting(
        record: tuple[object, ...], segment: log_module._Segment, request: Request | None = None
    ) -> log_module.Pair:
        calls.append(1)
        return original(record, segment, request)

    monkeypatch.setattr(log_module, "pair_of", counting)
    return calls


@pytest.fixture(autouse=True)
def _handler(dispatcher: RequestDispatcher) -> None:
    dispatcher.expect_request("/a").respond_with_data("ok")


def _send(client: Client, count: int, start: int = 0) -> None:
    for index in range(start, start + count):
        assert client.get(f"/a?i={index}").status_code == 200


def test_reading_the_log_twice_returns_the_same_objects_for_old_entries(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    _send(client, 3)
    first = dispatcher.log
    _send(client, 2, start=3)
    second = dispatcher.log
    assert all(a[0] is b[0] and a[1] is b[1] for a, b in zip(first, second[:3], strict=True))
    assert dispatcher.log[0][0] is dispatcher.log[0][0]
    assert dispatcher.log_entries[4].request is second[4][0]
    assert [request.args["i"] for request, _ in second] == ["0", "1", "2", "3", "4"]


def test_log_minus_one_decodes_only_the_newest_entry(
    dispatcher: RequestDispatcher, client: Client, decodes: list[int]
) -> None:
    _send(client, 100)
    for index in range(100, 110):
        _send(client, 1, start=index)
        request, response = dispatcher.log[-1]
        assert (request.args["i"], response.get_data()) == (str(index), b"ok")
    assert len(decodes) == 10  # nothing of the 100 unread ones


def test_reads_and_matching_decode_each_entry_once(
    dispatcher: RequestDispatcher, client: Client, decodes: list[int]
) -> None:
    _send(client, 20)
    three = RequestMatcher("/a", query_string="i=3")
    for _ in range(3):
        assert len(dispatcher.log) == 20
        assert [r.args["i"] for r, _ in dispatcher.log] == [str(i) for i in range(20)]
        assert len(list(dispatcher.log_entries)) == 20
        assert dispatcher.get_matching_requests_count(three) == 1
        dispatcher.assert_request_made(RequestMatcher("/a"), count=20)
        assert [r.args["i"] for r, _ in dispatcher.iter_matching_requests(three)] == ["3"]
    assert len(decodes) == 20
    _send(client, 5, start=20)
    assert dispatcher.get_matching_requests_count(RequestMatcher("/a")) == 25
    assert len(decodes) == 20  # a count makes no entry of the new ones
    assert len(dispatcher.log[:]) == 25
    assert len(decodes) == 25  # a read does, of the new ones only


def test_counting_matches_keeps_none_of_the_entries_it_looked_at(
    dispatcher: RequestDispatcher, client: Client, decodes: list[int]
) -> None:
    _send(client, 10)
    three = RequestMatcher("/a", query_string="i=3")
    assert dispatcher.get_matching_requests_count(three) == 1
    dispatcher.assert_request_made(three)
    assert decodes == []  # every entry looked at twice, none made into an entry
    ((request, _),) = dispatcher.iter_matching_requests(three)
    assert len(decodes) == 1  # the one match, handed out
    assert request is dispatcher.log[3][0]  # and kept: the log's own
    assert [r.args["i"] for r, _ in dispatcher.log] == [str(i) for i in range(10)]
    assert len(decodes) == 10  # the nine others, once


def test_a_failed_assert_request_made_reports_on_the_logged_requests(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    _send(client, 3)
    with pytest.raises(AssertionError) as failure:
        dispatcher.assert_request_made(RequestMatcher("/a", query_string="i=9"))
    message = str(failure.value)
    assert "got 0, among 3 logged request(s)" in message
    assert "closest logged request: GET /a?i=" in message


def test_the_collector_is_paused_only_while_a_full_read_decodes_a_block(
    dispatcher: RequestDispatcher, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    original = log_module.pair_of

    def noting(
        record: tuple[object, ...], segment: log_module._Segment, request: Request | None = None
    ) -> log_module.Pair:
        seen.append(gc.isenabled())
        return original(record, segment, request)

    monkeypatch.setattr(log_module, "pair_of", noting)
    _send(client, 40)
    assert gc.isenabled()
    assert dispatcher.log[-1][0].args["i"] == "39"
    assert seen == [True]  # one entry: not worth a pause
    assert len(list(dispatcher.log)) == 40
    assert seen == [True] + [False] * 39  # the block of 39 never read
    assert gc.isenabled()  # and back on


def test_a_full_read_leaves_a_collector_disabled_elsewhere_disabled(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    _send(client, 40)
    gc.disable()
    try:
        assert len(list(dispatcher.log)) == 40
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_matching_keeps_the_request_it_matched(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    _send(client, 4)
    two = RequestMatcher("/a", query_string="i=2")
    ((matched, _),) = dispatcher.iter_matching_requests(two)
    ((again, _),) = dispatcher.iter_matching_requests(two)
    assert matched is again is dispatcher.log[2][0]


def test_clear_drops_the_decoded_entries_and_views_taken_before_keep_theirs(
    dispatcher: RequestDispatcher, client: Client, decodes: list[int]
) -> None:
    _send(client, 3)
    before = dispatcher.log
    old_request = before[0][0]
    assert dispatcher.log[0][0] is old_request
    dispatcher.clear_log()
    assert dispatcher.log == []
    assert not dispatcher.log_entries
    _send(client, 1, start=7)
    assert dispatcher.log[0][0] is not old_request
    assert dispatcher.log[0][0].args["i"] == "7"
    assert len(decodes) == 2  # the first request before the clear, the one after
    assert [r.args["i"] for r, _ in before] == ["0", "1", "2"]
    assert before[0][0] is old_request
    dispatcher.clear()
    assert len(dispatcher.log) == 0
    assert dispatcher.total_requests == 4


def test_the_log_reads_like_the_list_upstream_returns(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    assert dispatcher.log == []
    assert [] == dispatcher.log  # noqa: SIM300 - the reflected comparison is the point
    assert not dispatcher.log
    assert list(dispatcher.log) == []
    _send(client, 3)
    log = dispatcher.log
    assert isinstance(log, Sequence)
    assert log
    assert len(log) == 3
    assert log[0][0].path == "/a"
    assert log[-1][0].args["i"] == "2"
    assert log[-3] == log[0]
    assert [r.args["i"] for r, _ in log[1:]] == ["1", "2"]
    assert [r.args["i"] for r, _ in log[::-1]] == ["2", "1", "0"]
    assert log[5:] == []
    assert [r.args["i"] for r, _ in reversed(log)] == ["2", "1", "0"]
    for request, response in log:
        assert (request.method, response.status_code) == ("GET", 200)
    assert log == list(log)
    assert list(log) == log
    assert dispatcher.log == dispatcher.log  # the same entries are the same objects
    assert log != list(log)[:2]
    assert log != tuple(log)  # a list is not equal to a tuple either
    assert log[1] in log
    assert log.index(log[2]) == 2
    assert repr(log) == repr(list(log))
    with pytest.raises(IndexError):
        log[3]
    with pytest.raises(IndexError):
        log[-4]
    with pytest.raises(TypeError):
        log["0"]


def test_a_view_is_a_snapshot_of_the_log_when_it_was_taken(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    _send(client, 2)
    snapshot = dispatcher.log
    entries = dispatcher.log_entries
    _send(client, 2, start=2)
    assert (len(snapshot), len(entries), len(list(snapshot))) == (2, 2, 2)
    later = dispatcher.log
    assert len(later) == 4
    assert later[:2] == list(snapshot)


def test_unparsed_requests_are_in_log_entries_and_skipped_by_log(
    dispatcher: RequestDispatcher, client: Client, decodes: list[int]
) -> None:
    def malformed() -> None:
        dispatcher.record_malformed(Response("bad", 400), "no path", "GARBAGE")

    malformed()
    _send(client, 2)
    malformed()
    malformed()
    _send(client, 1, start=2)
    malformed()
    assert len(dispatcher.log_entries) == 7
    assert len(dispatcher.log) == 3
    assert dispatcher.log[2][0].args["i"] == "2"
    assert len(decodes) == 1  # indexing skips unparsed records without decoding them
    assert [r.args["i"] for r, _ in dispatcher.log] == ["0", "1", "2"]
    assert [dispatcher.log[i][0].args["i"] for i in (-3, -2, -1, 0, 1)] == [
        "0",
        "1",
        "2",
        "0",
        "1",
    ]
    entries = dispatcher.log_entries
    assert [e.outcome for e in entries] == [
        Outcome.MALFORMED,
        Outcome.MATCHED,
        Outcome.MATCHED,
        Outcome.MALFORMED,
        Outcome.MALFORMED,
        Outcome.MATCHED,
        Outcome.MALFORMED,
    ]
    assert entries[5].request is dispatcher.log[2][0]
    assert entries[0].request is None
    assert entries[0].response.status_code == 400
    assert len(decodes) == 7


def test_a_static_body_is_logged_once_and_each_entry_still_reads_its_own(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    big = b"z" * (64 * log_module.SHARED_BODY_BYTES)
    dispatcher.expect_request("/big").respond_with_data(big, headers={"X-Big": "yes"})
    for index in range(20):
        assert client.get(f"/big?i={index}").data == big
        assert client.get(f"/a?i={index}").data == b"ok"
    segment = dispatcher._log._segment
    # The first use is logged as any response; the 19 next ones refer to the same body.
    assert len(segment.data) < 2 * len(big)
    # The body once, and beside it the two replies' header tuples, each once.
    assert [value for value in segment.shared if isinstance(value, bytes)] == [big]
    assert len(segment.shared) == 3
    handle = (segment, 4)  # the third request of /big
    assert dispatcher._log.amend(handle, Outcome.NOT_DELIVERED)
    entries = list(dispatcher.log_entries)
    assert [e.request.args["i"] for e in entries if e.request is not None] == [
        str(i) for i in range(20) for _ in range(2)
    ]
    for entry in entries:
        assert entry.request is not None
        if entry.request.path == "/big":
            assert entry.response.get_data() == big
            assert entry.response.headers["X-Big"] == "yes"
        else:
            assert entry.response.get_data() == b"ok"
    assert entries[4].outcome is Outcome.NOT_DELIVERED
    dispatcher.clear_log()
    assert client.get("/big").data == big
    fresh = dispatcher._log._segment.shared  # a new segment keeps its own
    assert [value for value in fresh if isinstance(value, bytes)] == [big]
