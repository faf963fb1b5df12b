"""Waiting for the requests a test expects: its settings, its state, its failure.

``wait()`` and ``wait_async()`` are the verification views' (:mod:`.verification`); the
dispatcher's settle wakes them through :class:`WaitState`, never polled.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._errors import HTTPDoubleFailure, HTTPDoubleUsageError
from .._values import Value

# asyncio (about 20 ms to import) is for wait_async() only, whose caller has imported it.
if TYPE_CHECKING:
    import asyncio


class WaitingSettings(Value):
    """Defaults for :meth:`~httpdouble.HTTPServer.wait`. Immutable; equal when every field is."""

    __slots__ = __match_args__ = ("raise_assertions", "stop_on_nohandler", "timeout")
    raise_assertions: bool
    stop_on_nohandler: bool
    timeout: float

    def __init__(
        self, raise_assertions: bool = True, stop_on_nohandler: bool = True, timeout: float = 5.0
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "raise_assertions", raise_assertions)
        set_field(self, "stop_on_nohandler", stop_on_nohandler)
        set_field(self, "timeout", timeout)


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
    settled: how :meth:`~httpdouble.HTTPServer.wait_async` learns of it without blocking
    its event loop.
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


def running_loop() -> asyncio.AbstractEventLoop | None:
    # No asyncio in the process: no loop can be running, and there is none to import.
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    try:
        return asyncio.get_running_loop()  # type: ignore[no-any-return]
    except RuntimeError:
        return None


def wake_future(loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> None:
    """Resolve ``future`` from the dispatcher's thread, on its loop's own thread."""

    def resolve() -> None:
        if not future.done():
            future.set_result(None)

    # A loop closed meanwhile has nobody left to wake.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(resolve)


def check_settings(
    defaults: WaitingSettings,
    raise_assertions: bool | None,
    stop_on_nohandler: bool | None,
    timeout: float | None,
) -> tuple[bool, bool, float]:
    """The wait's settings: each one given, else its default; a bad timeout is refused."""
    raise_assertions = defaults.raise_assertions if raise_assertions is None else raise_assertions
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


def fail_wait(
    state: WaitState, timeout: float, remaining: str, check_assertions: Callable[[], None]
) -> None:
    """Raise the failure of a wait that ended without its last handler used."""
    __tracebackhide__ = True
    if state.outcome is None:
        raise HTTPDoubleFailure(
            "Wait timeout occurred, but some handlers left:\n"
            f"  wait() ended {timeout:g}s after its block with handlers never used\n"
            f"{remaining}\n"
            "to do: make the code under test send them, or raise the timeout"
        )
    try:
        check_assertions()
    except HTTPDoubleFailure as exc:
        raise HTTPDoubleFailure(
            f"No handler found for request {state.unexpected}: wait() stopped on it"
            f" (stop_on_nohandler=True)\n{exc}"
        ) from exc.__cause__
    raise HTTPDoubleFailure(
        f"No handler found for request {state.unexpected}: wait() stopped on it"
        " (stop_on_nohandler=True)"
    )
