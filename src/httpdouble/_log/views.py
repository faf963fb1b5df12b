"""Read-only views of the request log: ``log`` (``(request, response)`` pairs) and
``log_entries`` (:class:`~httpdouble.LogEntry`), snapshots that decode what they are asked
for through their :class:`~httpdouble._log.request_log.RequestLog`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

if TYPE_CHECKING:
    from werkzeug.wrappers import Request, Response

    from .decoding import Pair
    from .entry import LogEntry


class _Reader(Protocol):
    """What a view asks of its log (``RequestLog``; named here, not imported: the log
    module imports this one). ``segment`` is the log's ``_Segment`` the view was taken on."""

    def _decoded(self, segment: Any, start: int, stop: int) -> list[Pair]: ...

    def _entries(self, segment: Any, start: int, stop: int) -> list[LogEntry]: ...

    def _pair(self, segment: Any, index: int) -> Pair: ...

    def _record_index(self, segment: Any, position: int) -> int: ...

    def _matching(
        self, segment: Any, records: int, predicate: Callable[[Request], bool], keep: bool
    ) -> Iterator[Pair | None]: ...


CHUNK = 512  # records decoded per locked copy when a reader walks the log

_T = TypeVar("_T")


class LogView(Sequence[_T]):
    """A read-only snapshot of the log, as a ``collections.abc.Sequence``.

    It holds what was logged when it was taken and nothing after; it supports ``len``,
    indexing (negative too), slicing (which returns a ``list``), iteration, ``bool`` and
    ``==`` with a ``list`` or another view. An entry is decoded when it is first read, from
    this view or any other, and the same objects are returned after that.
    """

    __slots__ = ("_log", "_records", "_segment", "_size")

    def __init__(self, log: _Reader, segment: Any, size: int, records: int) -> None:
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
        if type(index) is int:  # ``log[-1]``: the common read, without the checks below
            position = index
        elif isinstance(index, slice):
            return [self._at(position) for position in range(*index.indices(self._size))]
        else:
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

    def _walk(self) -> Iterator[Pair]:
        for start in range(0, self._records, CHUNK):
            yield from self._log._decoded(self._segment, start, min(start + CHUNK, self._records))

    def _at(self, position: int) -> _T:
        raise NotImplementedError


class _EntriesView(LogView["LogEntry"]):
    __slots__ = ()

    def __iter__(self) -> Iterator[LogEntry]:
        for start in range(0, self._records, CHUNK):
            yield from self._log._entries(self._segment, start, min(start + CHUNK, self._records))

    def _at(self, position: int) -> LogEntry:
        return self._log._entries(self._segment, position, position + 1)[0]


class _PairsView(LogView["tuple[Request, Response]"]):
    __slots__ = ()

    def __getitem__(self, index: Any) -> Any:
        # ``log[-1]`` (after each request, the common read): the fewest steps
        size = self._size
        if type(index) is int and -size <= index < size:
            segment = self._segment
            if not segment.gaps:
                position = index + size if index < 0 else index
                return self._log._pair(segment, position)  # its first step: the decoded one
        return super().__getitem__(index)

    def __iter__(self) -> Iterator[tuple[Request, Response]]:
        return (pair for pair in self._walk() if pair[0] is not None)  # type: ignore[misc]

    def _at(self, position: int) -> tuple[Request, Response]:
        segment = self._segment
        index = self._log._record_index(segment, position) if segment.gaps else position
        pair = self._log._pair(segment, index)
        assert pair[0] is not None  # the index skips unparsed requests
        return pair  # type: ignore[return-value]

    def matching(self, predicate: Callable[[Request], bool]) -> Iterator[tuple[Request, Response]]:
        """Yield the pairs of this view whose request ``predicate`` takes, oldest first.

        Entries nobody read are matched without being kept (see ``RequestLog._matching``);
        the ones yielded are kept, and are the objects a read returns.
        """
        return self._log._matching(self._segment, self._records, predicate, True)  # type: ignore[return-value]

    def count_matching(self, predicate: Callable[[Request], bool]) -> int:
        """Return how many requests of this view ``predicate`` takes (nothing is kept)."""
        return sum(1 for _ in self._log._matching(self._segment, self._records, predicate, False))
