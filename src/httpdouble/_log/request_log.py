"""The request log: every request the server saw, stamped with its test, worker and time."""

from __future__ import annotations

import bisect
import enum
import io
import marshal
import operator
import threading
import time
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from werkzeug.wrappers import Request, Response

from .context import CONTEXT
from .lazy import LazyRequest, LazyResponse
from .lazy import RawRequest as RawRequest  # where the application and loop know it from

LOG_HANDLE = "httpdouble.log_handle"
"""Environ key of the request's log record, for the connection to amend."""


class Outcome(enum.Enum):
    """What the server did with a request."""

    MATCHED = "matched"
    NO_HANDLER = "no handler"
    OUT_OF_ORDER = "out of order"
    REFUSED = "refused after an ordered violation"
    HANDLER_ERROR = "handler raised"
    MALFORMED = "malformed request"
    NOT_DELIVERED = "answered, but the answer could not be sent"
    FAULT_RESET = "fault on purpose: connection reset"
    FAULT_CLOSE = "fault on purpose: closed without answering"
    FAULT_PARTIAL_BODY = "fault on purpose: body cut short, then closed"
    FAULT_GARBAGE = "fault on purpose: malformed response bytes, then closed"
    FAULT_STALL = "fault on purpose: stalled without answering, then closed"


_OUTCOMES = {outcome.value: outcome for outcome in Outcome}


@dataclass(frozen=True, slots=True)
class Stamp:
    """When and where a request arrived.

    :ivar test: node id of the test running at the time, or ``None`` between tests.
    :ivar after_test: when ``test`` is ``None``: the test that ran last, if any.
    :ivar worker: the xdist worker id (``"main"`` without xdist).
    :ivar time: seconds since the epoch.
    """

    test: str | None
    after_test: str | None
    worker: str
    time: float

    @classmethod
    def now(cls) -> Stamp:
        test, after = CONTEXT.state
        return cls(test, after, CONTEXT.worker, time.time())

    def where(self) -> str:
        """Return the test, or where between tests the request arrived, as text."""
        if self.test is not None:
            return self.test
        if self.after_test is not None:
            return f"outside any test (after {self.after_test})"
        return "outside any test (before the first test)"


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One request and what the server answered.

    ``request`` is ``None`` for a request too malformed to parse.
    """

    request: Request | None
    response: Response
    outcome: Outcome
    stamp: Stamp


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
_BODY = 4
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


def _unpack(record: _Record) -> LogEntry:
    items, body, status, headers, response_body, outcome, test, after, worker, when = record
    return LogEntry(
        None if items is None else LazyRequest(items, body),
        LazyResponse(status, headers, response_body),
        _OUTCOMES[outcome],
        Stamp(test, after, worker, when),
    )


_EXACT = frozenset((str, bytes, int, float, bool, type(None)))
_DROPPED = object()


def _plain(value: Any, depth: int = 0) -> Any:
    """Return ``value`` with only types ``marshal`` takes: exact str, bytes, int, float, bool,
    None, tuples and dicts. Subclasses (a ``str`` enum, say) become their base type; in a dict,
    other objects are dropped, in a tuple they become their ``repr``.
    """
    kind = type(value)
    if kind in _EXACT:
        return value
    if depth > 20:  # deeper than any record: a container that holds itself
        return _DROPPED
    if isinstance(value, tuple | list):
        return tuple(repr(v) if (p := _plain(v, depth + 1)) is _DROPPED else p for v in value)
    if isinstance(value, dict):
        return {str(k): p for k, v in value.items() if (p := _plain(v, depth + 1)) is not _DROPPED}
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return _DROPPED


class _Segment:
    """The records appended since one clear, and the entries decoded from them so far.

    ``clear()`` starts a new segment; views taken before it keep reading the old one.
    """

    __slots__ = ("amends", "data", "decoded", "ends", "gaps", "hosts", "shared", "shared_at")

    def __init__(self) -> None:
        self.data = bytearray()
        # How many records were amended: a reader that decoded across an amend decodes again.
        self.amends = 0
        # End offset of each record in ``data``.
        self.ends = array("q")
        # One number per unparsed (malformed) request: how many parsed ones came before it.
        # It maps a position among parsed requests to a record index in O(log n).
        self.gaps = array("q")
        # Record index -> its entry, filled as readers ask: a record is decoded once. Only
        # what was read is here, so an unread log still holds no objects.
        self.decoded: dict[int, LogEntry] = {}
        # The bodies of static replies, each kept once (a reference, never a copy): a record
        # of such a reply holds its index here instead of the bytes. ``shared_at`` maps
        # ``id(body)`` to that index; the ids stay valid since ``shared`` holds the bodies.
        self.shared: list[bytes] = []
        self.shared_at: dict[int, int] = {}
        # Requests meant for other hosts: host -> [requests, of them unmatched].
        self.hosts: dict[str, list[int]] = {}


_UNMATCHED = frozenset(
    o.value for o in (Outcome.NO_HANDLER, Outcome.OUT_OF_ORDER, Outcome.REFUSED)
)
_CHUNK = 512  # records decoded per locked copy when a reader walks the log


class RequestLog:
    """Append-only, locked log of requests, decoded lazily and once.

    Records are marshalled into one growing ``bytearray``, their end offsets into an
    ``array``: neither holds Python objects, so an unread log is invisible to the collector.
    A record becomes a :class:`LogEntry` the first time it is read, and that entry is kept
    (until :meth:`clear`), so reading the log costs what was not read before.
    """

    def __init__(self) -> None:
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
        if shared and len(record[_BODY]) >= SHARED_BODY_BYTES:
            return self._append_shared(record)
        try:
            blob = marshal.dumps(record)
        except ValueError:  # an object in the environ or a header: keep what is text
            blob = marshal.dumps(_plain(record))
        with self._lock:
            return self._append(blob, record[0] is None)

    def _append_shared(self, record: _Record) -> LogHandle:
        body = record[_BODY]
        with self._lock:  # the index belongs to the segment the record goes to
            segment = self._segment
            index = segment.shared_at.get(id(body))
            if index is None:
                index = segment.shared_at[id(body)] = len(segment.shared)
                segment.shared.append(body)
            slim = (*record[:_BODY], index, *record[_BODY + 1 :])
            try:
                blob = marshal.dumps(slim)
            except ValueError:  # an object in the environ or a header: keep what is text
                blob = marshal.dumps(_plain(slim))
            return self._append(blob, record[0] is None)

    def _append(self, blob: bytes, unparsed: bool) -> LogHandle:
        """Append one marshalled record; the caller holds the lock."""
        segment = self._segment
        if unparsed:  # no request: it has no place among the parsed ones
            segment.gaps.append(len(segment.ends) - len(segment.gaps))
        segment.data += blob
        segment.ends.append(len(segment.data))
        self.total += 1
        return segment, len(segment.ends) - 1

    def _count_host(self, host: str, unmatched: bool) -> None:
        with self._lock:
            counts = self._segment.hosts.setdefault(host, [0, 0])
            counts[0] += 1
            counts[1] += unmatched

    def hosts(self) -> dict[str, list[int]]:
        """Return ``{host: [requests, unmatched]}`` of the requests meant for other hosts."""
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
            start = segment.ends[index - 1] if index else 0
            end = segment.ends[index]
            record = list(marshal.loads(segment.data[start:end]))
            record[_OUTCOME] = outcome.value
            if response is not None:
                record[_RESPONSE] = response
            blob = marshal.dumps(_plain(tuple(record)))
            segment.data[start:end] = blob
            shift = len(blob) - (end - start)
            if shift:
                for i in range(index, len(segment.ends)):
                    segment.ends[i] += shift
            segment.decoded.pop(index, None)  # read again, it is decoded from the new record
            segment.amends += 1
        return True

    def entries(self) -> LogView[LogEntry]:
        """Return a view of the entries logged so far, oldest first."""
        with self._lock:
            segment = self._segment
            size = len(segment.ends)
        return _EntriesView(self, segment, size, size)

    def pairs(self) -> LogView[tuple[Request, Response]]:
        """Return a view of ``(request, response)`` for every parsed request so far."""
        with self._lock:
            segment = self._segment
            size = len(segment.ends)
            parsed = size - len(segment.gaps)
        return _PairsView(self, segment, parsed, size)

    def clear(self) -> None:
        """Forget every record and every decoded entry (views taken before keep theirs)."""
        with self._lock:
            self._segment = _Segment()

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._segment.ends)

    def _decoded(self, segment: _Segment, start: int, stop: int) -> list[LogEntry]:
        """Return entries ``start`` to ``stop`` of ``segment``, decoding those never read."""
        cache = segment.decoded
        missing = [index for index in range(start, stop) if index not in cache]
        fresh: dict[int, LogEntry] = {}
        for _ in range(100):  # amends are rare: one pass but for a reader racing one
            if not missing:
                break
            first, last = missing[0], missing[-1]
            with self._lock:  # an append may grow (move) the buffer: copy the span under lock
                amends = segment.amends
                base = segment.ends[first - 1] if first else 0
                span = memoryview(segment.data[base : segment.ends[last]])
                ends = segment.ends[first : last + 1]
            fresh = {}
            shared = segment.shared  # appended to, never changed: no lock to read it
            for index in missing:  # decoded outside the lock: the server keeps appending
                begin = ends[index - first - 1] - base if index > first else 0
                record = marshal.loads(span[begin : ends[index - first] - base])
                if type(record[_BODY]) is int:  # a static reply's body, kept once
                    record = (*record[:_BODY], shared[record[_BODY]], *record[_BODY + 1 :])
                fresh[index] = _unpack(record)
            with self._lock:  # two readers may decode one record: every reader gets the first
                if segment.amends == amends:  # else a record changed meanwhile: decode again
                    for index, decoded in fresh.items():
                        cache.setdefault(index, decoded)
                    break
        out: list[LogEntry] = []
        for index in range(start, stop):
            found = cache.get(index) or fresh.get(index)
            if found is None:  # dropped by an amend after this read began: decode it anew
                found = self._decoded(segment, index, index + 1)[0]
            out.append(found)
        return out

    def _entry(self, segment: _Segment, index: int) -> LogEntry:
        """Return entry ``index`` of ``segment``: :meth:`_decoded` for one, the short way
        (``log[-1]`` after each request is the common read)."""
        found = segment.decoded.get(index)
        if found is not None:
            return found
        with self._lock:  # an append may grow (move) the buffer: copy the record under lock
            amends = segment.amends
            blob = segment.data[segment.ends[index - 1] if index else 0 : segment.ends[index]]
        record = marshal.loads(blob)  # outside the lock: the server keeps appending
        if type(record[_BODY]) is int:  # a static reply's body, kept once
            record = (*record[:_BODY], segment.shared[record[_BODY]], *record[_BODY + 1 :])
        entry = _unpack(record)
        with self._lock:  # two readers may decode one record: every reader gets the first
            if segment.amends == amends:
                return segment.decoded.setdefault(index, entry)
        return self._decoded(segment, index, index + 1)[0]  # amended meanwhile: that way

    def _record_index(self, segment: _Segment, position: int) -> int:
        """Return the record index of the parsed request at ``position``."""
        if not segment.gaps:
            return position
        with self._lock:
            return position + bisect.bisect_right(segment.gaps, position)


_T = TypeVar("_T")


class LogView(Sequence[_T]):
    """A read-only snapshot of the log, as a ``collections.abc.Sequence``.

    It holds what was logged when it was taken and nothing after; it supports ``len``,
    indexing (negative too), slicing (which returns a ``list``), iteration, ``bool`` and
    ``==`` with a ``list`` or another view. An entry is decoded when it is first read, from
    this view or any other, and the same objects are returned after that.
    """

    __slots__ = ("_log", "_records", "_segment", "_size")

    def __init__(self, log: RequestLog, segment: _Segment, size: int, records: int) -> None:
        self._log = log
        self._segment = segment
        self._size = size
        self._records = records  # records covered: more than size when some are unparsed

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, index: int) -> _T: ...

    @overload
    def __getitem__(self, index: slice) -> list[_T]: ...

    def __getitem__(self, index: int | slice) -> _T | list[_T]:
        if isinstance(index, slice):
            return [self._at(position) for position in range(*index.indices(self._size))]
        position = operator.index(index)
        if position < 0:
            position += self._size
        if not 0 <= position < self._size:
            raise IndexError(f"log index {index} out of range (the log has {self._size})")
        return self._at(position)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LogView | list):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __repr__(self) -> str:
        return repr(list(self))

    def _walk(self) -> Iterator[LogEntry]:
        for start in range(0, self._records, _CHUNK):
            yield from self._log._decoded(self._segment, start, min(start + _CHUNK, self._records))

    def _at(self, position: int) -> _T:
        raise NotImplementedError


class _EntriesView(LogView[LogEntry]):
    __slots__ = ()

    def __iter__(self) -> Iterator[LogEntry]:
        return self._walk()

    def _at(self, position: int) -> LogEntry:
        return self._log._entry(self._segment, position)


class _PairsView(LogView[tuple[Request, Response]]):
    __slots__ = ()

    def __iter__(self) -> Iterator[tuple[Request, Response]]:
        return ((e.request, e.response) for e in self._walk() if e.request is not None)

    def _at(self, position: int) -> tuple[Request, Response]:
        index = self._log._record_index(self._segment, position)
        entry = self._log._entry(self._segment, index)
        assert entry.request is not None  # the index skips unparsed requests
        return entry.request, entry.response
