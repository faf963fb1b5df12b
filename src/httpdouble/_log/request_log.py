"""The request log: every request the server saw, stamped with its test, worker and time."""

from __future__ import annotations

import bisect
import io
import marshal
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from .context import CONTEXT
from .entry import _OUTCOMES
from .entry import LogEntry as LogEntry
from .entry import Outcome as Outcome
from .entry import Stamp as Stamp
from .segment import _NO_NEWEST, _kept_once, _new_segment, _Segment
from .segment import SPARES_MADE_AT_ONCE as SPARES_MADE_AT_ONCE

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from .decoding import Pair
    from .lazy import LazyRequest
    from .lazy import RawRequest as RawRequest  # where the application and loop know it from
    from .views import LogView, _EntriesView, _PairsView

# What reading the log takes, bound by the first log made (:func:`_load_readers`), not when
# this module is imported: importing the server stack costs less (issue 27), and a log's
# readers find them as module globals, with no import statement per read.
pair_of: Callable[..., Pair]
logged_request: Callable[[Any, bytes], LazyRequest]
collector_paused: Callable[[int], AbstractContextManager[None]]
CHUNK: int


def _load_readers() -> None:
    global pair_of, collector_paused, CHUNK, logged_request, _EntriesView, _PairsView
    from . import decoding, lazy, views

    collector_paused = decoding.collector_paused
    logged_request = lazy.logged_request
    CHUNK = views.CHUNK
    _EntriesView = views._EntriesView  # type: ignore[misc]
    _PairsView = views._PairsView  # type: ignore[misc]
    pair_of = decoding.pair_of  # last: RequestLog() checks for it, from any thread


LOG_HANDLE = "httpdouble.log_handle"
"""Environ key of the request's log record, for the connection to amend."""


# One logged request as a flat tuple of str, bytes, int, float, bool and None only, kept
# marshalled in one bytearray: the collector never sees the records. A log of live objects
# made every full collection walk them all, and even a list of untracked tuples costs a cache
# miss per record at each collection, so a server's p99 latency grew with its log (a full
# collection took 1.6 ms with an empty log and 4 to 10 ms after 40,000 requests). Objects are
# rebuilt when read.
_Record = tuple[Any, ...]


# Environ values that are objects, not text: left out of the record, rebuilt on read. The
# last one is where the request's own record is (``_wire.LOG_HANDLE``), set once it is logged.
_UNPACKED_KEYS = ("wsgi.input", "wsgi.errors", "werkzeug.request", "httpdouble.log_handle")


def _pack_request(request: Request) -> tuple[dict[str, Any], bytes]:
    environ = request.environ
    stream = environ.get("wsgi.input")
    body = stream.getvalue() if isinstance(stream, io.BytesIO) else request.get_data()
    kept = environ.copy()
    for key in _UNPACKED_KEYS:
        kept.pop(key, None)
    return kept, body


PackedResponse = tuple[int, tuple[tuple[str, str], ...], bytes]
LogHandle = tuple["_Segment", int]
"""Where a record is in a :class:`RequestLog`: (its segment, its index there)."""
# A static reply's body this big or bigger is logged by reference (see append_record).
SHARED_BODY_BYTES = 1024
_RESPONSE = slice(2, 5)  # status, headers, body in a record
_HEADERS = 3
_BODY = 4  # decoding.BODY
_OUTCOME = 5


def pack_response(response: Response) -> PackedResponse:
    """Return the status, headers and body of ``response`` as the log keeps them."""
    try:
        body = response.get_data()
    except RuntimeError:  # a direct-passthrough response: its body is not kept
        body = b""
    return response.status_code, tuple(response.headers.to_wsgi_list()), body


def pack(
    request: Request | None,
    response: PackedResponse,
    outcome: Outcome,
    stamp: Stamp | None,
    raw: RawRequest | None = None,
) -> _Record:
    """Return the record of one request; ``stamp=None`` stamps it now.

    ``raw``: the request as it arrived, kept instead of its environ (the I/O loop's).
    """
    if raw is not None:
        assert request is not None
        request_part: tuple[Any, bytes] = (raw, request.environ["wsgi.input"].getvalue())
    else:
        request_part = (None, b"") if request is None else _pack_request(request)
    if stamp is None:
        test, after = CONTEXT.state
        # ``_value_``: the member's value without the enum property's two calls
        return (
            *request_part,
            *response,
            outcome._value_,
            test,
            after,
            CONTEXT.worker,
            time.time(),
        )
    return (
        *request_part,
        *response,
        outcome.value,
        stamp.test,
        stamp.after_test,
        stamp.worker,
        stamp.time,
    )


def newest_kept(record: _Record) -> bool:
    """Whether the log keeps ``record`` itself as its newest, beside its marshalled copy.

    Reading the newest entry (``log[-1]`` after a request) then skips the unmarshalling:
    the values are the ones ``marshal.loads`` would return, not copies but equal, of the
    same types, and immutable (bytes, str, int, float, None and tuples of them), so no
    reader can tell. A request served from an environ (a ``dict``, which its entry's
    request takes as its own environ) is not kept so. One record (and its pair, once the
    segment is read, see ``RequestLog._pair``): it is replaced at the next append and
    costs the collector nothing that grows.
    """
    items = record[0]
    return (
        type(items) is tuple
        and type(items[0]) is bytes
        and type(record[1]) is bytes
        and type(record[_BODY]) is bytes
        and type(record[_HEADERS]) is tuple
    )


def _entry_of(pair: Pair, record: _Record) -> LogEntry:
    outcome, test, after, worker, when = record[_OUTCOME:]
    return LogEntry(pair[0], pair[1], _OUTCOMES[outcome], Stamp(test, after, worker, when))


_UNMATCHED = frozenset(
    o.value for o in (Outcome.NO_HANDLER, Outcome.OUT_OF_ORDER, Outcome.REFUSED)
)


_MATCHED = Outcome.MATCHED.value


class RequestLog:
    """Append-only, locked log of requests, decoded lazily and once.

    Records are marshalled into one growing ``bytearray``, their end offsets into an
    ``array``: neither holds Python objects, so an unread log is invisible to the collector.
    A record becomes a :class:`LogEntry` the first time it is read, and that entry is kept
    (until :meth:`clear`), so reading the log costs what was not read before.
    """

    def __init__(self) -> None:
        if "pair_of" not in globals():
            _load_readers()
        self._lock = threading.Lock()
        self._segment = _Segment()
        self.total = 0

    def append_record(self, record: _Record, shared: bool = False, origin: str = "") -> LogHandle:
        """Append ``record``; return a handle for :meth:`amend`.

        :param shared: the response body is a static reply's, the same object for every
            request it answers: the log keeps a reference to it, not a copy per request
            (a body under :data:`SHARED_BODY_BYTES` is copied: that is cheaper).
        :param origin: ``scheme://host`` of a request meant for another host (counted per
            host, see :meth:`hosts`), ``""`` for one sent to the server itself.
        """
        if origin:
            self._count_host(origin.partition("://")[2], record[_OUTCOME] in _UNMATCHED)
        if shared:
            return self._append_shared(record)
        try:
            blob = marshal.dumps(record)
        except ValueError:  # an object in the environ or a header: keep what is text
            from .plain import plain

            blob = marshal.dumps(plain(record))
            with self._lock:
                return self._append(blob, record[0] is None, None)
        newest = self._newest(record)
        with self._lock:
            return self._append(blob, record[0] is None, newest)

    def append_again(self, raw: RawRequest, response: PackedResponse, origin: str) -> LogHandle:
        """Append the record of a bodiless request the I/O loop answered again from a static
        reply (``response``, its logged form), stamped now: what :func:`pack` and
        :meth:`append_record` make of it, in fewer steps and fewer bytes.

        Such requests repeat the same objects: the connection's ``raw`` head and the reply's
        headers (and its body). The segment keeps each of them once (a reference, as for a
        shared body) and the record holds its index there, so a record is a few dozen bytes
        and decoding it makes no copy of them: every entry reads the same immutable tuple.
        """
        test, after = CONTEXT.state
        if origin:
            self._count_host(origin.partition("://")[2], False)
        status, headers, body = response
        stamp = (_MATCHED, test, after, CONTEXT.worker, time.time())
        # the record itself, whose values are what decoding the blob gives back
        record = (raw, b"", status, headers, body, *stamp)
        # Its pair, if this segment's test reads its log: made before the lock (a clear
        # meanwhile only means a pair made for nothing, or none, which the reader makes).
        pair = pair_of(record, self._segment) if self._segment.read else None
        with self._lock:
            segment = self._segment
            head = _kept_once(segment, raw)
            kept_headers = _kept_once(segment, headers)
            if len(body) >= SHARED_BODY_BYTES:
                body = _kept_once(segment, body)  # type: ignore[assignment]
            blob = marshal.dumps((head, b"", status, kept_headers, body, *stamp))
            segment.data += blob
            segment.ends.append(len(segment.data))
            self.total += 1
            index = len(segment.ends) - 1
            segment.newest = index, record, pair
            return segment, index

    def _append_shared(self, record: _Record) -> LogHandle:
        """Append the record of a static reply's request: its response headers (and its body,
        from :data:`SHARED_BODY_BYTES`) kept once in the segment, the record holding their
        index (the same objects for every request the reply answers)."""
        headers, body = record[_HEADERS], record[_BODY]
        newest = self._newest(record)
        with self._lock:  # the indexes belong to the segment the record goes to
            segment = self._segment
            slim = (
                *record[:_HEADERS],
                _kept_once(segment, headers),
                _kept_once(segment, body) if len(body) >= SHARED_BODY_BYTES else body,
                *record[_BODY + 1 :],
            )
            try:
                blob = marshal.dumps(slim)
            except ValueError:  # an object in the environ or a header: keep what is text
                from .plain import plain

                blob = marshal.dumps(plain(slim))
                return self._append(blob, record[0] is None, None)
            return self._append(blob, record[0] is None, newest)

    def _newest(self, record: _Record) -> tuple[_Record, Pair | None] | None:
        """``record`` and its pair if the log keeps them as its newest (see
        :func:`newest_kept`), else ``None``; the pair only if this segment's test reads its
        log (made here, before the lock, by the thread that appends)."""
        if not newest_kept(record):
            return None
        return record, (pair_of(record, self._segment) if self._segment.read else None)

    def _append(
        self, blob: bytes, unparsed: bool, newest: tuple[_Record, Pair | None] | None
    ) -> LogHandle:
        """Append one marshalled record; the caller holds the lock.

        :param newest: the record ``blob`` was made from and its pair, if the log keeps
            them as its newest (``marshal`` took the record as it is).
        """
        segment = self._segment
        if unparsed:  # no request: it has no place among the parsed ones
            segment.gaps.append(len(segment.ends) - len(segment.gaps))
        segment.data += blob
        segment.ends.append(len(segment.data))
        self.total += 1
        index = len(segment.ends) - 1
        if newest is not None:
            segment.newest = index, *newest
        return segment, index

    def _count_host(self, host: str, unmatched: bool) -> None:
        with self._lock:
            counts = self._segment.hosts.setdefault(host, [0, 0])
            counts[0] += 1
            counts[1] += unmatched

    def hosts(self) -> dict[str, list[int]]:
        """Return ``{host: [requests, unmatched]}`` of the requests meant for other hosts."""
        if not self._segment.hosts:  # the common case, read at every teardown: no lock
            return {}
        with self._lock:
            return {host: list(counts) for host, counts in self._segment.hosts.items()}

    def amend(
        self, handle: LogHandle, outcome: Outcome, response: PackedResponse | None = None
    ) -> bool:
        """Change the outcome (and the response) of a record; return whether it still exists.

        For what only the connection learns after the dispatcher logged the request: the
        answer could not be sent, or the handler's response could not be put on the wire.
        """
        segment, index = handle
        with self._lock:
            if segment is not self._segment:  # cleared since: the record is gone
                return False
            # Odd while the amend is under way, then even again: _pair reads the newest
            # record without the lock, and trusts what it made only if the count stayed
            # the same even number. Readers under the lock only ever see it even.
            segment.amends += 1
            try:
                start = segment.ends[index - 1] if index else 0
                end = segment.ends[index]
                record = list(marshal.loads(segment.data[start:end]))
                record[_OUTCOME] = outcome.value
                if response is not None:
                    record[_RESPONSE] = response
                from .plain import plain

                blob = marshal.dumps(plain(tuple(record)))
                segment.data[start:end] = blob
                shift = len(blob) - (end - start)
                if shift:
                    for i in range(index, len(segment.ends)):
                        segment.ends[i] += shift
                if segment.newest[0] == index:
                    segment.newest = _NO_NEWEST
                # Read again, the entry is decoded from the new record. The dict is replaced,
                # not changed: a reader pairing the newest record without the lock (see _pair)
                # may still add to the old one (see there).
                decoded = dict(segment.decoded)
                decoded.pop(index, None)
                segment.decoded = decoded
                segment.entries.pop(index, None)
            finally:  # even again, also if this raised: else no read skips the lock
                segment.amends += 1
        return True

    def entries(self) -> LogView[LogEntry]:
        """Return a view of the entries logged so far, oldest first."""
        with self._lock:
            segment = self._segment
            size = len(segment.ends)
        return _EntriesView(self, segment, size, size)

    def pairs(self) -> _PairsView:
        """Return a view of ``(request, response)`` for every parsed request so far."""
        segment = self._segment
        size = len(segment.ends)
        if not segment.gaps:
            # The common case, without the lock (``log`` is read after each request): an
            # unparsed record's gap is appended before its end (``_append``), so gaps read
            # empty after the ends means none of these ``size`` records is unparsed.
            return _PairsView(self, segment, size, size)
        with self._lock:
            segment = self._segment
            size = len(segment.ends)
            parsed = size - len(segment.gaps)
        return _PairsView(self, segment, parsed, size)

    def clear(self) -> None:
        """Forget every record and every decoded entry (views taken before keep theirs)."""
        with self._lock:
            self._segment = _new_segment()

    def end(self) -> tuple[int, dict[str, list[int]]]:
        """Return how many records the log holds and :meth:`hosts`, and clear it if it holds
        any, in one locked step (a test's teardown: one call instead of three)."""
        with self._lock:
            segment = self._segment
            count = len(segment.ends)
            if not count:
                return 0, {}
            self._segment = _new_segment()
        # The old segment's: no one counts into it any more (see _count_host), and it is
        # freed here, after the lock, with what it holds.
        return count, segment.hosts

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._segment.ends)

    def _records(self, segment: _Segment, indexes: list[int]) -> tuple[dict[int, _Record], int]:
        """Decode the records at ``indexes`` (ascending, not empty) of ``segment``; return
        them by index, and how many amends the segment had when they were copied."""
        first, last = indexes[0], indexes[-1]
        with self._lock:  # an append may grow (move) the buffer: copy the span under lock
            amends = segment.amends
            base = segment.ends[first - 1] if first else 0
            span = memoryview(segment.data[base : segment.ends[last]])
            ends = segment.ends[first : last + 1]
        records: dict[int, _Record] = {}
        for index in indexes:  # decoded outside the lock: the server keeps appending
            begin = ends[index - first - 1] - base if index > first else 0
            records[index] = marshal.loads(span[begin : ends[index - first] - base])
        return records, amends

    def _decoded(self, segment: _Segment, start: int, stop: int) -> list[Pair]:
        """Return the pairs of records ``start`` to ``stop``, decoding those never read."""
        cache = segment.decoded
        missing = [index for index in range(start, stop) if index not in cache]
        fresh: dict[int, Pair] = {}
        for _ in range(100):  # amends are rare: one pass but for a reader racing one
            if not missing:
                break
            with collector_paused(len(missing)):
                records, amends = self._records(segment, missing)
                fresh = {index: pair_of(record, segment) for index, record in records.items()}
            with self._lock:  # two readers may decode one record: every reader gets the first
                if segment.amends == amends:  # else a record changed meanwhile: decode again
                    cache = segment.decoded  # an amend replaces it (see amend)
                    for index, decoded in fresh.items():
                        fresh[index] = cache.setdefault(index, decoded)
                    break
        amends = segment.amends
        cache = segment.decoded
        found = [cache.get(index) or fresh.get(index) for index in range(start, stop)]
        if amends & 1 or segment.amends != amends:  # an amend began: the dict may be old
            with self._lock:
                cache = segment.decoded
                found = [cache.get(index) or fresh.get(index) for index in range(start, stop)]
        return [
            pair or self._decoded(segment, index, index + 1)[0]  # dropped by an amend since
            for index, pair in zip(range(start, stop), found, strict=True)
        ]

    def _cached(self, segment: _Segment, index: int) -> Pair | None:
        """Return the pair of record ``index`` if a reader made it, else ``None``.

        Without the lock when no amend began meanwhile (see :meth:`_pair`): a dict an
        amend replaced may hold a pair nobody else gets.
        """
        amends = segment.amends
        found = segment.decoded.get(index)
        if found is None or (not amends & 1 and segment.amends == amends):
            return found
        with self._lock:
            return segment.decoded.get(index)

    def _pair(self, segment: _Segment, index: int) -> Pair:
        """Return the pair of record ``index``: :meth:`_decoded` for one, the short way
        (``log[-1]`` after each request is the common read; the newest record is read from
        the values it was made of, see :func:`newest_kept`).

        The first such read in a segment sets ``read``: from then on, the thread that
        appends a record pairs it too, before it takes the lock, and this read only
        publishes that pair. A test that reads its log once likely reads it after each
        request; one that never reads it costs the appender nothing more.
        """
        amends = segment.amends
        if not amends & 1:
            # Without the lock (a cold lock is a fifth of this read): the pair a reader made,
            # or the newest record's, paired from its values as logged. Trusted only if no
            # amend began meanwhile (the count stayed the same even number): then the dict
            # is the segment's and no amend copied it meanwhile, so a later amend's copy
            # keeps what went in. Else the pair may be made of replaced values, or sit in
            # a dict an amend replaced: the locked path below decides. (This rests on the GIL:
            # see docs/explanation/design.rst.)
            decoded = segment.decoded
            found = decoded.get(index)
            if found is None:
                newest, record, pair = segment.newest
                if newest == index:
                    if pair is None:  # the first read of one entry in this segment
                        pair = pair_of(record, segment)
                        segment.read = True  # from now on the appender makes it
                    found = decoded.setdefault(index, pair)
            if found is not None and segment.amends == amends:
                return found
        with self._lock:  # an append may grow (move) the buffer: copy the record under lock
            found = segment.decoded.get(index)
            if found is not None:
                return found
            newest, record, pair = segment.newest
            if newest == index:  # its values as logged: no decoding, nothing to wait for
                segment.read = True
                return segment.decoded.setdefault(index, pair or pair_of(record, segment))
            amends = segment.amends
            blob = segment.data[segment.ends[index - 1] if index else 0 : segment.ends[index]]
        record = marshal.loads(blob)  # outside the lock: the server keeps appending
        pair = pair_of(record, segment)
        with self._lock:  # two readers may decode one record: every reader gets the first
            if segment.amends == amends:
                return segment.decoded.setdefault(index, pair)
        return self._decoded(segment, index, index + 1)[0]  # amended meanwhile: that way

    def _entries(self, segment: _Segment, start: int, stop: int) -> list[LogEntry]:
        """Return the entries of records ``start`` to ``stop``: their pairs (the ones
        :meth:`_decoded` gives), with outcome and stamp."""
        cache = segment.entries
        missing = [index for index in range(start, stop) if index not in cache]
        for _ in range(100):
            if not missing:
                break
            records, amends = self._records(segment, missing)
            pairs = self._decoded(segment, missing[0], missing[-1] + 1)
            with self._lock:  # no amend since the records were read: pairs and records agree
                if segment.amends == amends:
                    for index in missing:
                        pair = pairs[index - missing[0]]
                        cache.setdefault(index, _entry_of(pair, records[index]))
                    break
        out = [cache.get(index) for index in range(start, stop)]
        return [
            entry or self._entries(segment, index, index + 1)[0]  # amended after the copy
            for index, entry in zip(range(start, stop), out, strict=True)
        ]

    def _matching(
        self,
        segment: _Segment,
        records: int,
        predicate: Callable[[Request], bool],
        keep: bool,
    ) -> Iterator[Pair | None]:
        """Yield, oldest first, the pairs of the first ``records`` records whose request
        ``predicate`` takes (with ``keep`` false, ``None`` for a match never read).

        An entry never read is matched on a request made for the match alone, dropped when
        it does not match: a count over the log keeps nothing. With ``keep``, a match is
        kept as the entry (with that request), as if read: the caller hands it out.
        """
        for start in range(0, records, CHUNK):
            stop = min(start + CHUNK, records)
            cache = segment.decoded  # read anew: an amend replaces it (see amend)
            missing = [index for index in range(start, stop) if index not in cache]
            decoded, amends = self._records(segment, missing) if missing else ({}, 0)
            for index in range(start, stop):
                pair = self._cached(segment, index)
                record = None if pair is not None else decoded.get(index)
                if record is None:  # read before (or dropped by an amend since listed)
                    pair = pair or self._pair(segment, index)
                    request = pair[0]
                else:
                    items = record[0]
                    if type(items) is int:  # kept once in the segment (append_again)
                        items = segment.shared[items]
                    request = None if items is None else logged_request(items, record[1])
                if request is None or not predicate(request):
                    continue
                if record is not None and keep:
                    made = pair_of(record, segment, request)
                    with self._lock:
                        same = segment.amends == amends
                        if same:  # the segment's dict now: an amend replaces it
                            pair = segment.decoded.setdefault(index, made)
                    if not same:  # a record changed meanwhile: the entry is decoded anew
                        pair = self._pair(segment, index)
                yield pair

    def _record_index(self, segment: _Segment, position: int) -> int:
        """Return the record index of the parsed request at ``position``."""
        if not segment.gaps:
            return position
        with self._lock:
            return position + bisect.bisect_right(segment.gaps, position)
