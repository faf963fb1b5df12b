"""Streamed bodies, server-sent events, wire faults and latency: what a handler asks of the wire.

The dispatcher builds the response as usual; when the handler asked for more than a body sent
in one write, it hands the connection a :class:`~httpdouble._app.entry.WirePlan` as the WSGI
body, and :func:`httpdouble._server.connection.serve_connection` carries it out: sleeps before
the head, streams the body chunk by chunk (``Transfer-Encoding: chunked`` for HTTP/1.1,
close-delimited for HTTP/1.0), or commits the fault. Responses without a plan keep the
one-write fast path.

Imported on first use (``respond_with_stream``, ``respond_with_sse``, ``respond_with_fault``,
``with_latency``, a body that is an iterator): a plain test never loads it (issue 27). Until
then no response of this module's classes can exist, which is how the dispatcher tells
(:func:`httpdouble._app.entry.streaming_loaded`).
"""

from __future__ import annotations

import enum
import random
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Response

from .._errors import HTTPDoubleUsageError
from .._log.request_log import Outcome
from .responses import DEFAULT_STALL_SECONDS, check_status

STREAM_LOG_LIMIT = 64 * 1024
"""Bytes of a streamed body the log keeps; past it the log says how many were streamed."""
DEFAULT_GARBAGE = b"HTTP/1.1 2OO OK\r\nContent-Length: banana\r\n\x00\x01 not a header\r\n\r\n"

Seconds = float | tuple[float, float]
"""A delay: fixed seconds, or ``(low, high)`` for a uniformly random one per use."""


@dataclass(frozen=True, slots=True)
class Delay:
    """A checked delay, fixed (``low == high``) or random in ``[low, high]``."""

    low: float
    high: float

    def draw(self) -> float:
        return self.low if self.low == self.high else random.uniform(self.low, self.high)


@dataclass(frozen=True, slots=True)
class Latency:
    """A handler's waits: before the head, and between two chunks of a streamed body."""

    before: Delay | None
    between: Delay | None


def check_delay(name: str, value: object) -> Delay | None:
    """Return ``value`` (seconds or ``(low, high)``) as a :class:`Delay`, or ``None``."""
    if value is None:
        return None

    def ok(v: object) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 3600

    if ok(value):
        return Delay(float(value), float(value))  # type: ignore[arg-type]
    if (
        isinstance(value, tuple | list)
        and len(value) == 2
        and ok(value[0])
        and ok(value[1])
        and value[0] <= value[1]
    ):
        return Delay(float(value[0]), float(value[1]))
    raise HTTPDoubleUsageError(
        name,
        expected="seconds from 0 to 3600, or a (low, high) pair of them with low <= high",
        got=value,
        remedy=f"pass {name}=0.2 or {name}=(0.1, 0.5)",
    )


class Fault(enum.Enum):
    """A broken answer, sent on purpose: see ``RequestHandler.respond_with_fault``."""

    RESET = "reset"
    """Reset the connection (``SO_LINGER`` 0, then close: the client gets an RST)."""
    CLOSE = "close"
    """Close the connection without answering (a clean FIN, no byte sent)."""
    PARTIAL_BODY = "partial_body"
    """Send the head with the whole body's ``Content-Length`` and only part of the body,
    then close."""
    GARBAGE = "garbage"
    """Send bytes that are not an HTTP response (``HTTP/1.1 2OO OK`` ...), then close."""
    STALL = "stall"
    """Send nothing and hold the connection open until the client gives up, the server
    stops, or ``stall_seconds`` pass; then close."""


_FAULT_OUTCOME = {
    Fault.RESET: Outcome.FAULT_RESET,
    Fault.CLOSE: Outcome.FAULT_CLOSE,
    Fault.PARTIAL_BODY: Outcome.FAULT_PARTIAL_BODY,
    Fault.GARBAGE: Outcome.FAULT_GARBAGE,
    Fault.STALL: Outcome.FAULT_STALL,
}


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """A checked fault: what to send (``data``), and how long a stall lasts at most."""

    fault: Fault
    data: bytes = b""
    sent: int = 0
    stall_seconds: float = DEFAULT_STALL_SECONDS

    @property
    def outcome(self) -> Outcome:
        return _FAULT_OUTCOME[self.fault]


def fault_spec(
    fault: Fault | str, data: bytes | None, sent: int | None, status: int, stall_seconds: float
) -> FaultSpec:
    """What ``respond_with_fault`` asked for, checked (``status`` too, in its turn)."""
    try:
        kind = Fault(fault)
    except ValueError:
        raise HTTPDoubleUsageError(
            "fault",
            expected=f"a Fault or one of {[f.value for f in Fault]}",
            got=fault,
            remedy="pass Fault.RESET",
        ) from None
    check_status(status)
    if data is not None and not isinstance(data, bytes):
        raise HTTPDoubleUsageError(
            "data", expected="bytes or None", got=data, remedy="pass data=b'...'"
        )
    if data is not None and kind not in (Fault.PARTIAL_BODY, Fault.GARBAGE):
        raise HTTPDoubleUsageError(
            "data",
            expected=f"None: {kind} sends nothing",
            got=data,
            remedy="use data only with PARTIAL_BODY or GARBAGE",
        )
    if kind is Fault.GARBAGE:
        data = DEFAULT_GARBAGE if data is None else data
    elif kind is Fault.PARTIAL_BODY:
        data = b"x" * 1000 if data is None else data
    whole = len(data or b"")
    if sent is None:
        sent = whole // 2
    if isinstance(sent, bool) or not isinstance(sent, int) or not 0 <= sent < max(whole, 1):
        raise HTTPDoubleUsageError(
            "sent",
            expected=f"an int from 0 to {max(whole - 1, 0)}: fewer bytes than data has",
            got=sent,
            remedy="pass sent=10",
        )
    stall = check_delay("stall_seconds", stall_seconds)
    assert stall is not None
    return FaultSpec(kind, data or b"", sent, stall.high)


class StreamedResponse(Response):
    """A response whose body is sent chunk by chunk as its iterable produces it.

    A handler function may return one to stream its body; ``chunk_delay`` waits
    between two chunks. The head is sent before the first chunk is asked for.
    """

    def __init__(
        self,
        body: Iterable[bytes] | Iterable[str],
        status: int | str = 200,
        headers: Any = None,
        content_type: str | None = None,
        chunk_delay: Seconds | None = None,
    ) -> None:
        super().__init__(body, status, headers, content_type=content_type)
        self.chunk_delay = check_delay("chunk_delay", chunk_delay)


class FaultResponse(Response):
    """What a faulty handler answers: the dispatcher logs it, the connection commits it."""

    def __init__(self, spec: FaultSpec, status: int = 200, headers: Any = None) -> None:
        super().__init__(b"", status, headers)
        self.spec = spec

    def logged(self) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
        """What the log keeps: only the partial body sends a status; else status 0."""
        spec = self.spec
        if spec.fault is Fault.PARTIAL_BODY:
            headers = [
                (n, v) for n, v in self.headers.to_wsgi_list() if n.lower() != "content-length"
            ]
            headers.append(("Content-Length", str(len(spec.data))))
            return self.status_code, tuple(headers), spec.data[: spec.sent]
        return 0, (), spec.data if spec.fault is Fault.GARBAGE else b""


def streamed_from(response: Response) -> Response:
    """Return ``response`` to be sent as its body is produced, when the body is an iterator.

    A handler function's ``Response(generator)`` is streamed as werkzeug's own server sends
    it: the head goes out with the first chunk, then each chunk as it is made
    (``Transfer-Encoding: chunked`` without a ``Content-Length``), so a client reading
    server-sent events or NDJSON sees each part when it is made. The first chunk is taken
    here, on the handler's thread: a body that fails before it is a handler error answered
    with a 500, as before anything was sent. A list or bytes body, a file sent as it is
    (``direct_passthrough``), a streamed or faulty response are returned unchanged.

    :raises TypeError: when the first chunk is neither bytes nor str.
    """
    if (
        response.is_sequence
        or response.direct_passthrough
        or isinstance(response, StreamedResponse | FaultResponse)
    ):
        return response
    chunks = iter(response.response)
    try:
        first = next(chunks)
    except StopIteration:
        first = b""
    except BaseException:
        _close(chunks)
        raise
    if not isinstance(first, bytes | bytearray | str):
        _close(chunks)
        raise TypeError(f"a streamed body yields bytes or str, not {type(first).__name__}")
    return StreamedResponse(_Resumed(first, chunks), response.status, response.headers)


def _close(chunks: Iterator[Any]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


class _Resumed:
    """A body whose first chunk was taken already: that chunk, then the rest."""

    __slots__ = ("chunks", "first")

    def __init__(self, first: bytes | bytearray | str, chunks: Iterator[Any]) -> None:
        self.first = first
        self.chunks = chunks

    def __iter__(self) -> Iterator[Any]:
        yield self.first
        yield from self.chunks

    def close(self) -> None:
        _close(self.chunks)


# ------------------------------------------------------------------ server-sent events

_LINES = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class ServerSentEvent:
    """One server-sent event; every field is optional.

    :ivar data: the data; several lines become several ``data:`` lines.
    :ivar event: the event type (one line).
    :ivar id: the event id (one line, no NUL).
    :ivar retry: the reconnection time in milliseconds.
    :ivar comment: a comment line (``: ...``), ignored by clients; a keep-alive.
    """

    data: str | None = None
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    comment: str | None = None


_FIELDS = frozenset(("data", "event", "id", "retry", "comment"))


def _one_line(name: str, value: object) -> str:
    if not isinstance(value, str) or _LINES.search(value) or "\x00" in value:
        raise HTTPDoubleUsageError(
            f"event {name}",
            expected="a str on one line (no CR, LF or NUL)",
            got=value,
            remedy=f"pass {name}='update'",
        )
    return value


def encode_event(item: object) -> bytes:
    """Return the wire form of one event: a ``ServerSentEvent``, a dict of its fields, or
    a ``str`` (the data).

    :raises HTTPDoubleUsageError: for anything else, an unknown field or a bad value.
    """
    if isinstance(item, str):
        item = ServerSentEvent(data=item)
    elif isinstance(item, Mapping):
        unknown = set(item) - _FIELDS
        if unknown:
            raise HTTPDoubleUsageError(
                "event",
                expected=f"a dict with keys among {sorted(_FIELDS)}",
                got=dict(item),
                remedy=f"remove {sorted(map(str, unknown))}",
            )
        item = ServerSentEvent(**item)
    if not isinstance(item, ServerSentEvent):
        raise HTTPDoubleUsageError(
            "event",
            expected="a ServerSentEvent, a dict of its fields, or a str (the data)",
            got=item,
            remedy="yield {'data': 'text', 'event': 'update'}",
        )
    out: list[str] = []
    if item.comment is not None:
        if not isinstance(item.comment, str):
            raise HTTPDoubleUsageError(
                "event comment", expected="a str", got=item.comment, remedy="pass comment='ping'"
            )
        out.extend(f": {line}\n" for line in _LINES.split(item.comment))
    if item.event is not None:
        out.append(f"event: {_one_line('event', item.event)}\n")
    if item.id is not None:
        out.append(f"id: {_one_line('id', item.id)}\n")
    if item.retry is not None:
        if not isinstance(item.retry, int) or isinstance(item.retry, bool) or item.retry < 0:
            raise HTTPDoubleUsageError(
                "event retry",
                expected="milliseconds as an int >= 0",
                got=item.retry,
                remedy="pass retry=3000",
            )
        out.append(f"retry: {item.retry}\n")
    if item.data is not None:
        if not isinstance(item.data, str):
            raise HTTPDoubleUsageError(
                "event data",
                expected="a str",
                got=item.data,
                remedy="encode objects first, e.g. data=json.dumps(obj)",
            )
        out.extend(f"data: {line}\n" for line in _LINES.split(item.data))
    if not out:
        raise HTTPDoubleUsageError(
            "event", expected="at least one field", got=item, remedy="give it data='...'"
        )
    out.append("\n")
    return "".join(out).encode("utf-8")


def encode_events(events: Iterable[object]) -> Iterator[bytes]:
    """Encode ``events`` one at a time, as they come."""
    for item in events:
        yield encode_event(item)


# --------------------------------------------------------------------- one-use iterables


def fresh_body(
    body: Iterable[Any] | Callable[[], Iterable[Any]], what: str
) -> Callable[[], Iterable[Any]]:
    """Return a function giving the body's iterable for each request.

    A callable is called per request; a list or tuple is replayed; any other iterable
    (a generator, say) serves one request, and a second request is the handler's error.
    """
    if callable(body) and not isinstance(body, Iterable):
        return body
    if isinstance(body, list | tuple):
        items = tuple(body)
        return lambda: items
    if not isinstance(body, Iterable) or isinstance(body, str | bytes):
        raise HTTPDoubleUsageError(
            what,
            expected="an iterable of chunks, or a callable returning a fresh one per request",
            got=body,
            remedy=f"pass {what}=lambda: iter([b'one', b'two'])",
        )
    tokens = [True]  # list.pop() is atomic: two requests racing cannot both take it

    def once() -> Iterable[Any]:
        try:
            tokens.pop()
        except IndexError:
            raise RuntimeError(
                f"this handler's {what} is a one-use iterable and was consumed by an earlier"
                " request\n  to fix: pass a callable that returns a fresh iterable per request,"
                " or a list"
            ) from None
        return body

    return once


def sse_source(events: Iterable[Any] | Callable[[], Iterable[Any]]) -> Callable[[], Iterable[Any]]:
    """The encoded events of ``respond_with_sse``, fresh per request (a list is checked now)."""
    if isinstance(events, list | tuple):
        encoded = [encode_event(item) for item in events]  # a bad event fails here
        make_events: Callable[[], Iterable[Any]] = lambda: encoded  # noqa: E731
    else:
        source = fresh_body(events, "events")

        def make_events() -> Iterable[Any]:
            return encode_events(source())

    return make_events
