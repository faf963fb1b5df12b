"""The request log: every request the server saw, stamped with its test, worker and time."""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from werkzeug.wrappers import Request, Response


class Outcome(enum.Enum):
    """What the server did with a request."""

    MATCHED = "matched"
    NO_HANDLER = "no handler"
    OUT_OF_ORDER = "out of order"
    REFUSED = "refused after an ordered violation"
    HANDLER_ERROR = "handler raised"
    MALFORMED = "malformed request"


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


class RequestLog:
    """Append-only, locked list of :class:`LogEntry`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LogEntry] = []
        self.total = 0

    def append(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)
            self.total += 1

    def entries(self) -> list[LogEntry]:
        """Return a snapshot of the entries, oldest first."""
        with self._lock:
            return list(self._entries)

    def pairs(self) -> list[tuple[Request, Response]]:
        """Return ``(request, response)`` for every parsed request, oldest first."""
        with self._lock:
            return [(e.request, e.response) for e in self._entries if e.request is not None]

    def clear(self) -> None:
        with self._lock:
            self._entries = []

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)
