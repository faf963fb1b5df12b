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
    """What :meth:`~httpdouble.HTTPServer.wait` yields; filled in when the wait ends.

    :ivar result: ``True`` when the last oneshot or ordered handler was used during the
        wait; ``False`` on a timeout or (with ``stop_on_nohandler``) an unexpected request.
    :ivar elapsed_time: seconds from entering the ``with`` block to the end of the wait.
    """

    def __init__(self) -> None:
        self.result = False
        self.elapsed_time = 0.0


class WaitState:
    """What the dispatcher reports to a running wait (read and written under its lock)."""

    __slots__ = ("event", "outcome", "stop_on_nohandler", "unexpected")

    def __init__(self, stop_on_nohandler: bool) -> None:
        self.event = threading.Event()
        self.stop_on_nohandler = stop_on_nohandler
        # None until the first deciding event; the first one wins, as in pytest-httpserver.
        self.outcome: bool | None = None
        self.unexpected = ""

    def settle(self, outcome: bool, unexpected: str = "") -> None:
        if self.outcome is None:
            self.outcome = outcome
            self.unexpected = unexpected
            self.event.set()


class Waiter(Verification):
    """Mixed into the dispatcher: :meth:`wait`."""

    default_waiting_settings: WaitingSettings
    _wait_state: WaitState | None

    @contextmanager
    def wait(
        self,
        raise_assertions: bool | None = None,
        stop_on_nohandler: bool | None = None,
        timeout: float | None = None,
    ) -> Iterator[Waiting]:
        """Wait, after the ``with`` block, until the last oneshot and ordered handler is used.

        The wait ends at the first of: a request uses up the last oneshot or ordered
        handler (``result`` is ``True``; it is woken, never polled); a request no handler
        matched, when ``stop_on_nohandler`` (``result`` is ``False``); ``timeout`` seconds
        after the block (``result`` is ``False``). As in pytest-httpserver, only what
        happens after the block is entered counts: with no oneshot or ordered handler
        used meanwhile, the wait times out.

        :param raise_assertions: raise ``AssertionError`` when ``result`` is ``False``.
        :param stop_on_nohandler: stop waiting at the first unmatched request.
        :param timeout: seconds to wait at most after the block.
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
        state = WaitState(bool(stop_on_nohandler))
        started = time.monotonic()
        with self._lock:
            self._wait_state = state
        try:
            yield waiting
            state.event.wait(timeout)
        finally:
            with self._lock:
                if self._wait_state is state:
                    self._wait_state = None
                waiting.result = bool(state.outcome)
                waiting.elapsed_time = time.monotonic() - started
                remaining = self._registry.format()
        if not raise_assertions or waiting.result:
            return
        if state.outcome is None:
            raise HTTPDoubleFailure(
                "Wait timeout occurred, but some handlers left:\n"
                f"  wait() ended {timeout}s after its block with handlers never used\n"
                f"{remaining}\n"
                "to do: make the code under test send them, or raise the timeout"
            )
        try:
            self.check_assertions()
        except HTTPDoubleFailure as exc:
            raise HTTPDoubleFailure(
                f"No handler found for request {state.unexpected}: wait() stopped on it"
                f" (stop_on_nohandler=True)\n{exc}"
            ) from exc.__cause__
        raise HTTPDoubleFailure(
            f"No handler found for request {state.unexpected}: wait() stopped on it"
            " (stop_on_nohandler=True)"
        )
