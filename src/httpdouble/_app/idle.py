"""Threads that wait for their next piece of work instead of ending.

Starting a thread costs about 50 us here. Connection threads and the threads that run
handler functions both park here between pieces of work, for a while, and end when none
comes, when they are no longer wanted, or when their owner closes the pool.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class IdleThreads(Generic[T]):
    """Parked threads, each with an inbox; ``None`` in an inbox tells its thread to end.

    :param idle_seconds: how long a parked thread waits for its next item.
    """

    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._parked: list[tuple[threading.Thread, queue.SimpleQueue[T | None]]] = []

    def __len__(self) -> int:
        """How many threads are parked now."""
        with self._lock:
            return len(self._parked)

    def take(self) -> tuple[threading.Thread, queue.SimpleQueue[T | None]] | None:
        """Unpark a thread and return it with its inbox; ``None`` when none is parked.

        The caller puts the item into the inbox (after any bookkeeping of its own).
        """
        with self._lock:
            return self._parked.pop() if self._parked else None

    def next_item(
        self, inbox: queue.SimpleQueue[T | None], still_wanted: Callable[[], bool]
    ) -> T | None:
        """Park the calling thread until its next item; ``None``: the thread should end.

        ``still_wanted`` is asked under the pool's lock, so an owner that changes what it
        answers before calling :meth:`close` never leaves a thread parked.
        """
        entry = (threading.current_thread(), inbox)
        with self._lock:
            if not still_wanted():
                return None
            self._parked.append(entry)
        try:
            return inbox.get(timeout=self.idle_seconds)
        except queue.Empty:
            with self._lock:
                if entry in self._parked:
                    self._parked.remove(entry)
                    return None
            return inbox.get()  # taken just now: the item (or None) is on its way

    def close(self) -> None:
        """Tell every parked thread to end (their owner joins them if it needs to)."""
        with self._lock:
            parked, self._parked = self._parked, []
        for _, inbox in parked:
            inbox.put(None)
