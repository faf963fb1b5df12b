"""Waiting for the requests a test expects: ``wait()``, ``wait_async()``; woken, never polled."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from .._errors import HTTPDoubleFailure, HTTPDoubleUsageError
from .._matching import masking as _masking
from .verification import Verification


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
    """What the dispatcher reports to a running wait (read and written under its lock).

    ``wake``, when given, is called (once, on the dispatcher's thread) when the wait is
    settled: how :meth:`~Waiter.wait_async` learns of it without blocking its event loop.
    """

    __slots__ = ("event", "outcome", "stop_on_nohandler", "unexpected", "wake")

    def __init__(self, stop_on_nohandler: bool, wake: Callable[[], None] | None = None) -> None:
        self.event = threading.Event()
        self.stop_on_nohandler = stop_on_nohandler
        # None until the first deciding event; the first one wins, as in pytest-httpserver.
        self.outcome: bool | None = None
        self.unexpected = ""
        self.wake = wake

    def settle(self, outcome: bool, unexpected: str = "") -> None:
        if self.outcome is None:
            self.outcome = outcome
            self.unexpected = unexpected
            self.event.set()
            if self.wake is not None:
                self.wake()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _wake_future(loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> None:
    """Resolve ``future`` from the dispatcher's thread, on its loop's own thread."""

    def resolve() -> None:
        if not future.done():
            future.set_result(None)

    # A loop closed meanwhile has nobody left to wake.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(resolve)


class Waiter(Verification):
    """Mixed into the dispatcher: :meth:`wait` and :meth:`wait_async`."""

    default_waiting_settings: WaitingSettings
    _wait_state: WaitState | None

    def _settings(
        self,
        raise_assertions: bool | None,
        stop_on_nohandler: bool | None,
        timeout: float | None,
    ) -> tuple[bool, bool, float]:
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
        return bool(raise_assertions), bool(stop_on_nohandler), float(timeout)

    def _start_wait(self, state: WaitState) -> float:
        with self._lock:
            self._wait_state = state
        return time.monotonic()

    def _end_wait(self, state: WaitState, waiting: Waiting, started: float) -> str:
        """Stop listening; fill in ``waiting``; return the handlers left, as text."""
        with self._lock:
            if self._wait_state is state:
                self._wait_state = None
            waiting.result = bool(state.outcome)
            waiting.elapsed_time = time.monotonic() - started
            return _masking.text(self._registry.format())

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

        In an ``async`` test use :meth:`wait_async`: this method would block the event
        loop, and with it the client that should send the requests.

        :param raise_assertions: raise ``AssertionError`` when ``result`` is ``False``.
        :param stop_on_nohandler: stop waiting at the first unmatched request.
        :param timeout: seconds to wait at most after the block.
        :raises HTTPDoubleUsageError: when called in a running ``asyncio`` event loop.
        """
        __tracebackhide__ = True
        if _running_loop() is not None:
            raise HTTPDoubleUsageError(
                "wait() in a running event loop",
                expected="wait() from synchronous code; in async code, wait_async()",
                got="wait() called on the thread of a running asyncio event loop",
                remedy="write 'async with httpserver.wait_async(...) as waiting:' instead:"
                " wait() would block the loop, so a request sent from it could never go out",
            )
        raise_assertions, stop_on_nohandler, timeout = self._settings(
            raise_assertions, stop_on_nohandler, timeout
        )
        waiting = Waiting()
        state = WaitState(stop_on_nohandler)
        started = self._start_wait(state)
        try:
            yield waiting
            state.event.wait(timeout)
        finally:
            remaining = self._end_wait(state, waiting, started)
        if raise_assertions and not waiting.result:
            self._fail_wait(state, timeout, remaining)

    @asynccontextmanager
    async def wait_async(
        self,
        raise_assertions: bool | None = None,
        stop_on_nohandler: bool | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[Waiting]:
        """:meth:`wait` for ``async`` tests: ``async with server.wait_async() as waiting:``.

        Same parameters, defaults and outcome as :meth:`wait`, but the wait after the
        block awaits: the event loop keeps running, so requests sent by async clients
        in the block (or in tasks) go out and are answered. It is woken by the server's
        thread through the loop (``call_soon_threadsafe``), never polled. Runs on any
        ``asyncio`` loop, under pytest-asyncio or anyio's asyncio backend.

        :raises HTTPDoubleUsageError: when no ``asyncio`` event loop is running.

        .. versionadded:: 0.1
        """
        __tracebackhide__ = True
        loop = _running_loop()
        if loop is None:
            raise HTTPDoubleUsageError(
                "wait_async() outside asyncio",
                expected="'async with httpserver.wait_async():' in code run by an asyncio loop",
                got="no running asyncio event loop (trio is not supported)",
                remedy="use 'with httpserver.wait():' in synchronous code",
            )
        raise_assertions, stop_on_nohandler, timeout = self._settings(
            raise_assertions, stop_on_nohandler, timeout
        )
        waiting = Waiting()
        woken: asyncio.Future[None] = loop.create_future()
        state = WaitState(stop_on_nohandler, wake=lambda: _wake_future(loop, woken))
        started = self._start_wait(state)
        try:
            yield waiting
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await woken
        finally:
            remaining = self._end_wait(state, waiting, started)
        if raise_assertions and not waiting.result:
            self._fail_wait(state, timeout, remaining)

    def _fail_wait(self, state: WaitState, timeout: float, remaining: str) -> None:
        __tracebackhide__ = True
        if state.outcome is None:
            raise HTTPDoubleFailure(
                "Wait timeout occurred, but some handlers left:\n"
                f"  wait() ended {timeout:g}s after its block with handlers never used\n"
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
