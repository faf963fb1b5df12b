"""Waiting for the requests a test expects: ``wait()``, woken by an event, never polled."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ._errors import HTTPDoubleFailure, HTTPDoubleUsageError
from ._verification import Verification


@dataclass(frozen=True)
class WaitingSettings:
    """Defaults for :meth:`~httpdouble.HTTPServer.wait`."""

    raise_assertions: bool = True
    stop_on_nohandler: bool = True
    timeout: float = 5.0


class Waiting:
    """What :meth:`~httpdouble.HTTPServer.wait` yields; filled in when the block ends.

    :ivar result: ``True`` when every oneshot and ordered handler was used in time.
    :ivar elapsed_time: seconds spent waiting after the block.
    """

    def __init__(self) -> None:
        self.result = False
        self.elapsed_time = 0.0


class Waiter(Verification):
    """Mixed into the dispatcher: :meth:`wait`."""

    default_waiting_settings: WaitingSettings
    _wake: threading.Event | None
    _wake_on_nohandler: bool

    @contextmanager
    def wait(
        self,
        raise_assertions: bool | None = None,
        stop_on_nohandler: bool | None = None,
        timeout: float | None = None,
    ) -> Iterator[Waiting]:
        """Wait, after the ``with`` block, until every oneshot and ordered handler is used.

        Wakes the moment the last one is used (no polling), or on a request no
        handler matched when ``stop_on_nohandler``, or after ``timeout`` seconds.

        :param raise_assertions: raise ``AssertionError`` when the wait failed.
        :param stop_on_nohandler: stop waiting at the first unmatched request.
        :param timeout: seconds to wait at most.
        """
        __tracebackhide__ = True
        defaults = self.default_waiting_settings
        raise_assertions = (
            defaults.raise_assertions if raise_assertions is None else raise_assertions
        )
        stop_on_nohandler = (
            defaults.stop_on_nohandler if stop_on_nohandler is None else stop_on_nohandler
        )
        timeout = defaults.timeout if timeout is None else timeout
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout >= 0:
            raise HTTPDoubleUsageError(
                "timeout",
                expected="a number of seconds, 0 or more",
                got=timeout,
                remedy="pass e.g. timeout=2.0",
            )
        waiting = Waiting()
        event = threading.Event()
        with self._lock:
            self._wake = event
            self._wake_on_nohandler = stop_on_nohandler
        try:
            yield waiting
            started = time.monotonic()
            with self._lock:
                if self._all_used():
                    event.set()
            event.wait(timeout)
            waiting.elapsed_time = time.monotonic() - started
        finally:
            with self._lock:
                self._wake = None
                waiting.result = self._all_used()
                remaining = self._registry.format()
        if raise_assertions and not waiting.result:
            self.check_assertions()
            raise HTTPDoubleFailure(
                f"wait() ended after {waiting.elapsed_time:.3f}s (timeout {timeout}s)"
                " with handlers never used\n"
                f"{remaining}\n"
                "to do: make the code under test send them, or raise the timeout"
            )
