"""A segment of the request log: the records appended since one clear, the entries decoded
from them, and the empty segments made ahead for the next clears."""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .decoding import Pair
    from .entry import LogEntry

_Record = tuple[Any, ...]


_NO_NEWEST: tuple[int, _Record, Pair | None] = (-1, (), None)


class _Segment:
    """The records appended since one clear, and the entries decoded from them so far.

    ``clear()`` starts a new segment; views taken before it keep reading the old one.
    """

    __slots__ = (
        "amends",
        "data",
        "decoded",
        "ends",
        "entries",
        "gaps",
        "headers",
        "hosts",
        "newest",
        "read",
        "shared",
        "shared_at",
    )

    def __init__(self) -> None:
        self.data = bytearray()
        # Two for each amend (odd while one is under way): a reader that decoded across an
        # amend decodes again.
        self.amends = 0
        # End offset of each record in ``data``.
        self.ends = array("q")
        # One number per unparsed (malformed) request: how many parsed ones came before it.
        # It maps a position among parsed requests to a record index in O(log n).
        self.gaps = array("q")
        # Record index -> its ``(request, response)``, filled as readers ask: a record is
        # decoded once. Only what was read is here, so an unread log still holds no objects;
        # what a matcher looked at and passed over is not kept either.
        self.decoded: dict[int, Pair] = {}
        # Record index -> its LogEntry (the same request and response, with outcome and
        # stamp), for the readers of ``entries()`` only: most never ask for one.
        self.entries: dict[int, LogEntry] = {}
        # The bodies of static replies, each kept once (a reference, never a copy): a record
        # of such a reply holds its index here instead of the bytes. ``shared_at`` maps
        # ``id(body)`` to that index; the ids stay valid since ``shared`` holds the bodies.
        # A request answered again keeps its head (``raw``) and its reply's headers here too.
        self.shared: list[Any] = []
        self.shared_at: dict[int, int] = {}
        # The response headers of the entry decoded last, shared by the next if equal (see
        # _pair_of). Read and set without the lock: either value is right to share.
        self.headers: tuple[tuple[str, str], ...] = ()
        # (index, record, pair) of the newest record if newest_kept() took it, else
        # (-1, (), None). ``pair`` is its (request, response), made by the appender when
        # ``read`` is set, else None (the reader makes it).
        self.newest: tuple[int, _Record, Pair | None] = _NO_NEWEST
        # Set by the first read of one entry (``log[-1]``): this test reads its log, most
        # likely after each request, so each append makes the newest pair (see _pair).
        self.read = False
        # Requests meant for other hosts: host -> [requests, of them unmatched].
        self.hosts: dict[str, list[int]] = {}


_SPARES: list[_Segment] = []
SPARES_MADE_AT_ONCE = 32


def _new_segment() -> _Segment:
    """Return an empty segment, made ahead with others (each test's teardown needs one).

    Made one at a time, at each teardown, a segment cost 4.7 to 5.3 us inside pytest (its
    code and its containers cold); taken from ones made 32 at a time, about 1.2 (issue 27).
    Empty segments, shared by every log of the process: a ``pop`` and an ``extend`` are
    each one step under the GIL, so two logs never get the same one.
    """
    while True:  # other threads may take a new batch before this one gets its own
        try:
            return _SPARES.pop()
        except IndexError:
            _SPARES.extend([_Segment() for _ in range(SPARES_MADE_AT_ONCE)])


def _kept_once(segment: _Segment, value: Any) -> int:
    """Return the index of ``value`` (an immutable object many records repeat) among the
    segment's shared values, adding it the first time; the caller holds the log's lock."""
    index = segment.shared_at.get(id(value))
    if index is None:  # the id stays this object's: ``shared`` keeps it alive
        index = segment.shared_at[id(value)] = len(segment.shared)
        segment.shared.append(value)
    return index
