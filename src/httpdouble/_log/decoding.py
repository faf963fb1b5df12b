"""Turning a logged record back into what a reader gets: the ``(request, response)`` pair
(werkzeug objects built on first use, ``lazy.py``), and what keeps that cheap."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from werkzeug.wrappers import Response

from .lazy import LazyRequest, LazyResponse, _new, _set

if TYPE_CHECKING:
    from werkzeug.wrappers import Request


_Record = tuple[Any, ...]


class _Segment(Protocol):
    """What decoding reads and sets in a segment of the log (``request_log._Segment``)."""

    shared: list[Any]
    headers: tuple[tuple[str, str], ...]


BODY = 4  # the response body's place in a record


Pair = tuple["Request | None", Response]
"""A decoded entry as a reader of ``log`` gets it: ``(request, response)``, ``None`` for a
request too malformed to parse. Only this is kept once read: three objects and what the
record itself decodes to (a ``LogEntry`` and its ``Stamp`` are made when asked for)."""


def pair_of(record: _Record, segment: _Segment, request: Request | None = None) -> Pair:
    """Return the pair of ``record`` (with ``request``, if one was made from it already).

    The lazy request and response are made as ``lazy.logged_request`` makes one, here in
    line: this runs for each entry read (``log[-1]`` after each request among them), and
    the two calls and the record's slice were a third of it.
    """
    items = record[0]
    headers = record[3]
    response_body = record[4]
    if type(response_body) is int:  # a static reply's body, kept once
        response_body = segment.shared[response_body]
    if type(items) is int:  # a request answered again: its head kept once in the segment
        items = segment.shared[items]
    if type(headers) is int:  # and its reply's headers
        headers = segment.shared[headers]
    # Entries in a row from one reply have equal headers: they share one tuple (three
    # objects fewer an entry). Compared, not hashed: a new str has no hash yet.
    elif headers == segment.headers:
        headers = segment.headers
    else:
        segment.headers = headers
    if request is None and items is not None:
        request = _new(LazyRequest)
        _set(request, "_logged", items)
        _set(request, "_logged_body", record[1])
    response = _new(LazyResponse)
    _set(response, "_logged", headers)
    _set(response, "_logged_status", record[2])
    _set(response, "_logged_body", response_body)
    return request, response


@contextlib.contextmanager
def collector_paused(records: int) -> Iterator[None]:
    """Keep the garbage collector from running while ``records`` records (a block of a
    full read, at most ``CHUNK``) are decoded, if it runs and there are enough to pay.

    Every object a block makes survives (the entries are kept), so each collection the
    allocations trigger finds nothing to free: it only walks the young entries and, every
    tenth time, the older generation. Paused, the block's objects are collected once, by
    the first collection after it. The pause is bounded by one block (about a millisecond)
    and undone in ``finally``; a collector some other code disabled is left alone.
    """
    if records < PAUSE_FROM or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


PAUSE_FROM = 32  # records: below this (``log[-1]``, a few entries) the pause is not worth it
