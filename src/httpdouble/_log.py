"""The request log: every request the server saw, stamped with its test, worker and time."""

from __future__ import annotations

import enum
import io
import marshal
import sys
import threading
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response


class Outcome(enum.Enum):
    """What the server did with a request."""

    MATCHED = "matched"
    NO_HANDLER = "no handler"
    OUT_OF_ORDER = "out of order"
    REFUSED = "refused after an ordered violation"
    HANDLER_ERROR = "handler raised"
    MALFORMED = "malformed request"
    NOT_DELIVERED = "answered, but the answer could not be sent"


class _Context:
    """Which test is running in this process, read by every server when a request arrives.

    The pytest plugin writes it around each test; a server used outside pytest
    sees no test at all. Writes replace one tuple, so readers on server threads
    always see a consistent pair without a lock.
    """

    __slots__ = ("state", "worker")

    def __init__(self) -> None:
        self.state: tuple[str | None, str | None] = (None, None)
        self.worker = "main"

    def enter_test(self, nodeid: str) -> None:
        self.state = (nodeid, None)

    def leave_test(self, nodeid: str) -> None:
        self.state = (None, nodeid)


CONTEXT = _Context()


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


def _unpack_request(items: dict[str, Any], body: bytes) -> Request:
    environ = dict(items)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["wsgi.errors"] = sys.stderr
    return Request(environ, populate_request=False)


PackedResponse = tuple[int, tuple[tuple[str, str], ...], bytes]
LogHandle = tuple[int, int]
"""Where a record is in a :class:`RequestLog`: (generation, index)."""
_RESPONSE = slice(2, 5)  # status, headers, body in a record
_OUTCOME = 5


def pack_response(response: Response) -> PackedResponse:
    """Return the status, headers and body of ``response`` as the log keeps them."""
    try:
        body = response.get_data()
    except RuntimeError:  # a direct-passthrough response: its body is not kept
        body = b""
    return response.status_code, tuple(response.headers.to_wsgi_list()), body


def pack(
    request: Request | None, response: PackedResponse, outcome: Outcome, stamp: Stamp | None
) -> _Record:
    """Return the record of one request; ``stamp=None`` stamps it now."""
    request_part = (None, b"") if request is None else _pack_request(request)
    if stamp is None:
        test, after = CONTEXT.state
        return (*request_part, *response, outcome.value, test, after, CONTEXT.worker, time.time())
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
        None if items is None else _unpack_request(items, body),
        Response(response_body, status=status, headers=list(headers)),
        Outcome(outcome),
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


class RequestLog:
    """Append-only, locked log of requests; reading it builds fresh :class:`LogEntry` objects.

    Records are marshalled into one growing ``bytearray``, their end offsets into an
    ``array``: neither holds Python objects, so the log is invisible to the collector.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data = bytearray()
        self._ends = array("q")
        self.total = 0
        self._generation = 0  # changed by clear(): a handle from before it points nowhere

    def append_record(self, record: _Record) -> LogHandle:
        """Append ``record``; return a handle for :meth:`amend`."""
        try:
            blob = marshal.dumps(record)
        except ValueError:  # an object in the environ or a header: keep what is text
            blob = marshal.dumps(_plain(record))
        with self._lock:
            self._data += blob
            self._ends.append(len(self._data))
            self.total += 1
            return self._generation, len(self._ends) - 1

    def amend(
        self, handle: LogHandle, outcome: Outcome, response: PackedResponse | None = None
    ) -> bool:
        """Change the outcome (and the response) of a record; return whether it still exists.

        For what only the connection learns after the dispatcher logged the request: the
        answer could not be sent, or the handler's response could not be put on the wire.
        """
        generation, index = handle
        with self._lock:
            if generation != self._generation or index >= len(self._ends):
                return False
            start = self._ends[index - 1] if index else 0
            end = self._ends[index]
            record = list(marshal.loads(self._data[start:end]))
            record[_OUTCOME] = outcome.value
            if response is not None:
                record[_RESPONSE] = response
            blob = marshal.dumps(_plain(tuple(record)))
            self._data[start:end] = blob
            shift = len(blob) - (end - start)
            if shift:
                for i in range(index, len(self._ends)):
                    self._ends[i] += shift
        return True

    def records(self) -> list[_Record]:
        with self._lock:
            data = bytes(self._data)
            ends = self._ends.tolist()
        view = memoryview(data)
        start = 0
        out = []
        for end in ends:
            out.append(marshal.loads(view[start:end]))
            start = end
        return out

    def entries(self) -> list[LogEntry]:
        """Return the entries, oldest first (new objects on each call)."""
        return [_unpack(r) for r in self.records()]

    def pairs(self) -> list[tuple[Request, Response]]:
        """Return ``(request, response)`` for every parsed request, oldest first."""
        return [(e.request, e.response) for e in self.entries() if e.request is not None]

    def clear(self) -> None:
        with self._lock:
            self._data = bytearray()
            self._ends = array("q")
            self._generation += 1

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._ends)
