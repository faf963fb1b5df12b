"""The verification views: the log, the findings, ``check_*``, ``assert_*`` and waiting.

:class:`Verification` is one object the dispatcher composes and hands its lock, registry,
log and findings lists to; it reads them, takes findings out of the unraised list, and owns
only the wait that is running. The dispatcher's (and the server's) public methods of the
same names hand on to it in a line.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from .._errors import HTTPDoubleFailure, HTTPDoubleUsageError
from .._log.request_log import LogEntry, Outcome, RequestLog, Stamp
from .._matching.request_matcher import RequestMatcher
from .._report.findings import HANDLER_KINDS, Finding, Kind
from .expectations import HandlerType, RequestHandler
from .registry import Registry
from .waiting import (
    Waiting,
    WaitingSettings,
    WaitState,
    check_settings,
    fail_wait,
    running_loop,
    wake_future,
)

# Masking, ranking and the failure texts are imported where a check fails or a log is
# shown; asyncio where wait_async() runs (issue 27: a plain test loads none of them).
if TYPE_CHECKING:
    import asyncio

    from .._matching.mismatch import Mismatch


def closest_request(
    matcher: RequestMatcher, requests: Sequence[Request]
) -> tuple[Request, list[Mismatch]] | None:
    """Return the logged request most like what ``matcher`` wants (the first of equals)."""
    from .._matching.ranking import similarity

    best: tuple[float, Request, list[Mismatch]] | None = None
    for request in requests:
        diff = matcher.difference(request)
        score = similarity(matcher, request, diff)
        if best is None or score > best[0]:
            best = (score, request, diff)
    return None if best is None else (best[1], best[2])


def _describe(handler: RequestHandler | None) -> str:
    return "" if handler is None else handler.matcher.describe()


# Findings about a request no handler took: they end a wait() with stop_on_nohandler.
_UNEXPECTED = frozenset({Kind.NO_HANDLER, Kind.OUT_OF_ORDER, Kind.REFUSED})

_NOT_ANSWERED = frozenset(
    {Outcome.NO_HANDLER, Outcome.OUT_OF_ORDER, Outcome.REFUSED, Outcome.MALFORMED}
)


def _taken_by(handler: RequestHandler, registry: Registry, entries: Sequence[LogEntry]) -> str:
    """Say which other handler answered a request ``handler`` was meant for, if one did."""
    for entry in entries:
        request = entry.request
        if request is None or entry.outcome in _NOT_ANSWERED:
            continue
        try:
            taker = registry.taker(request, handler) if handler.matcher.match(request) else None
        except Exception:  # a matcher of the user's raised: it explains nothing here
            continue
        if taker is not None:
            from .._report.request_summary import RequestSummary

            when = "registered earlier" if taker.seq < handler.seq else "looked up first"
            return (
                f"taken by: {taker.handler_type.value} {taker.matcher.describe()} ({when})"
                f" answered {RequestSummary.of(request).line()}, a request this one matches"
            )
    return ""


def _unused(
    handler: RequestHandler, stamp: Stamp, registry: Registry, entries: Sequence[LogEntry] = ()
) -> Finding:
    """The finding for a handler not used up at the end: never used, or used too few times."""
    if handler.times is not None:
        ordered = "ordered " if handler.handler_type is HandlerType.ORDERED else ""
        return Finding(
            Kind.SHORTFALL,
            stamp,
            expected=f"{handler.usage()}: {ordered}{handler.matcher.describe()}",
        )
    return Finding(
        Kind.UNUSED,
        stamp,
        expected=f"{handler.handler_type.value} {handler.matcher.describe()}",
        shadowed_by=_describe(registry.shadowed_by(handler)),
        detail=_taken_by(handler, registry, entries),
    )


def check_matcher(matcher: object) -> None:
    """Raise a usage error unless ``matcher`` is a :class:`RequestMatcher`."""
    if not isinstance(matcher, RequestMatcher):
        raise HTTPDoubleUsageError(
            "matcher",
            expected="a RequestMatcher",
            got=matcher,
            remedy="build one with RequestMatcher('/path', method='GET')",
        )


class Verification:
    """What a test reads and checks after the requests were sent, and what it waits for.

    :param lock: the application's lock, held while findings are read or taken.
    :param registry: the handlers, read to list them and the ones never used.
    :param log: the request log, read only.
    :param findings: every finding since the last clear (the application appends to it).
    :param unraised: the findings not raised yet; the ``check_*`` methods take from it.

    :meth:`wait` and :meth:`wait_async` take the application's waiting defaults and its
    ``check_assertions`` (called when a wait fails) before the public parameters; their
    docstrings describe the public methods, whose reference (on the server) shows them.
    """

    def __init__(
        self,
        lock: threading.RLock,
        registry: Registry,
        log: RequestLog,
        findings: list[Finding],
        unraised: list[Finding],
    ) -> None:
        self._lock = lock
        self._registry = registry
        self._log = log
        self._findings = findings
        self._unraised = unraised
        # The wait() running now, if one is: the application's settle() wakes it.
        self._wait_state: WaitState | None = None

    @property
    def log(self) -> Sequence[tuple[Request, Response]]:
        """``(request, response)`` for every parsed request since the last clear, oldest first.

        A read-only ``collections.abc.Sequence`` (``len``, indexing, slicing,
        iteration, ``==`` with a list), not a ``list``: a snapshot of the log as it is now.
        Each request is rebuilt once, when it is first read, and the same ``Request`` and
        ``Response`` objects are returned after that, until the log is cleared.
        """
        return self._log.pairs()

    @property
    def log_pairs(self) -> Callable[[], Sequence[tuple[Request, Response]]]:
        """What :attr:`log` calls (the log's own method, for a reader to call directly)."""
        return self._log.pairs

    @property
    def logged_requests(self) -> int:
        """How many requests the log holds now (since the last clear)."""
        return len(self._log)

    @property
    def total_requests(self) -> int:
        """How many requests this server answered since it was created (clearing keeps it)."""
        return self._log.total

    @property
    def hosts(self) -> dict[str, list[int]]:
        """``{host: [requests, unmatched]}`` of the requests meant for other hosts (since the
        last clear): through a proxy, or with a ``Host`` of their own."""
        return self._log.hosts()

    @property
    def log_entries(self) -> Sequence[LogEntry]:
        """Every log entry, with its outcome and stamp (test, worker, time).

        A read-only sequence like :attr:`log`, decoded on access and once.
        """
        return self._log.entries()

    @property
    def findings(self) -> list[Finding]:
        """Every finding since the last clear, raised or not."""
        with self._lock:
            return list(self._findings)

    @property
    def assertions(self) -> list[str]:
        """Text of the findings :meth:`check_assertions` would raise."""
        with self._lock:
            return [f.render() for f in self._unraised if f.kind not in HANDLER_KINDS]

    @property
    def handler_errors(self) -> list[BaseException]:
        """Exceptions from handler functions that :meth:`check_handler_errors` would raise."""
        with self._lock:
            return [
                f.cause for f in self._unraised if f.kind in HANDLER_KINDS and f.cause is not None
            ]

    @property
    def permanently_failed(self) -> bool:
        """Whether an ordered request came out of order (every request is refused)."""
        return self._registry.permanently_failed

    def format_matchers(self) -> str:
        """Return every registered matcher, by kind, in lookup order (secrets masked)."""
        from .._matching import masking as _masking

        with self._lock:
            return _masking.text(self._registry.format())

    def _take(self, handler_errors: bool) -> list[Finding]:
        with self._lock:
            taken = [f for f in self._unraised if (f.kind in HANDLER_KINDS) == handler_errors]
            self._unraised[:] = [f for f in self._unraised if f not in taken]
            return taken

    def check_assertions(self) -> None:
        """Raise one ``AssertionError`` listing every request that went wrong.

        What it raised is not raised again (neither here nor at teardown).
        """
        __tracebackhide__ = True
        taken = self._take(handler_errors=False)
        if taken:
            from .._report.findings import failure_message

            cause = next((f.cause for f in taken if f.cause is not None), None)
            message = failure_message(taken, at_teardown=False)
            unmatched = [f for f in taken if f.kind is Kind.NO_HANDLER and f.request is not None]
            if unmatched:
                # pytest-httpserver's words first: suites match on them (pytest.raises(match=)).
                assert unmatched[0].request is not None
                message = f"No handler found for request {unmatched[0].request.line()}\n{message}"
            raise HTTPDoubleFailure(message) from cause

    def check_handler_errors(self) -> None:
        """Raise the first exception a handler function raised (each one once)."""
        __tracebackhide__ = True
        with self._lock:
            for finding in self._unraised:
                if finding.kind in HANDLER_KINDS and finding.cause is not None:
                    self._unraised.remove(finding)
                    raise finding.cause

    def take_findings(self, include_unused: bool = True) -> list[Finding]:
        """Return every finding not raised yet and mark them raised.

        With ``include_unused``, also the oneshot and ordered handlers never used, and the
        counted ones (``times=N``) used fewer times.
        """
        with self._lock:
            taken = list(self._unraised)
            self._unraised.clear()
            pending = () if not include_unused else self._registry.pending()
            if pending and not self._registry.permanently_failed:
                stamp = Stamp.now()  # only when there is a finding to stamp (issue 27)
                entries = self._log.entries()
                taken.extend(_unused(h, stamp, self._registry, entries) for h in pending)
            return taken

    def iter_matching_requests(
        self, matcher: RequestMatcher
    ) -> Iterator[tuple[Request, Response]]:
        """Yield ``(request, response)`` from the log for requests that ``matcher`` matches."""
        check_matcher(matcher)
        # Entries never read are matched without being kept: only what is yielded is.
        yield from self._log.pairs().matching(matcher.match)

    def get_matching_requests_count(self, matcher: RequestMatcher) -> int:
        """Return how many logged requests ``matcher`` matches."""
        check_matcher(matcher)
        return self._log.pairs().count_matching(matcher.match)

    def assert_request_made(self, matcher: RequestMatcher, count: int = 1) -> None:
        """Raise ``AssertionError`` unless exactly ``count`` logged requests match ``matcher``."""
        __tracebackhide__ = True
        check_matcher(matcher)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise HTTPDoubleUsageError(
                "count",
                expected="an int of 0 or more",
                got=count,
                remedy="pass how many matching requests the log must hold, e.g. count=2",
            )
        logged = self._log.pairs()  # one snapshot for count and report
        found = logged.count_matching(matcher.match)  # keeps none of the entries it looks at
        if found == count:
            return
        requests = [req for req, _ in logged]
        from .._matching import masking as _masking
        from .._report.request_summary import RequestSummary

        lines = [
            f"expected {count} request(s) matching {_masking.text(matcher.describe())}",
            f"got {found}, among {len(requests)} logged request(s)",
        ]
        nearest = closest_request(matcher, requests)
        if nearest is not None and nearest[1]:
            lines.append(f"closest logged request: {RequestSummary.of(nearest[0]).line()}")
            lines.extend(f"  - {_masking.mismatch(m)}" for m in nearest[1])
        lines.append("to do: check the request your code sends, or the count you expect")
        raise HTTPDoubleFailure("\n".join(lines))

    def settled(self, finding: Finding | None, last_in_flight: bool) -> None:
        """Wake the running wait if ``finding`` or a request's answer ends it (lock held).

        :param last_in_flight: the answer just logged was the last one a used-up handler
            owed; the wait ends if no oneshot or ordered handler is left.
        """
        state = self._wait_state
        if state is None:
            return
        if finding is not None and finding.kind in _UNEXPECTED and state.stop_on_nohandler:
            summary = finding.request
            state.settle(False, "" if summary is None else summary.line())
        elif last_in_flight and not self._registry.pending():
            state.settle(True)

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
            remaining = self._registry.format()
        from .._matching import masking as _masking

        return _masking.text(remaining)

    @contextmanager
    def wait(
        self,
        defaults: WaitingSettings,
        check_assertions: Callable[[], None],
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
        if running_loop() is not None:
            raise HTTPDoubleUsageError(
                "wait() in a running event loop",
                expected="wait() from synchronous code; in async code, wait_async()",
                got="wait() called on the thread of a running asyncio event loop",
                remedy="write 'async with httpserver.wait_async(...) as waiting:' instead:"
                " wait() would block the loop, so a request sent from it could never go out",
            )
        raise_assertions, stop_on_nohandler, timeout = check_settings(
            defaults, raise_assertions, stop_on_nohandler, timeout
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
            fail_wait(state, timeout, remaining, check_assertions)

    @asynccontextmanager
    async def wait_async(
        self,
        defaults: WaitingSettings,
        check_assertions: Callable[[], None],
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
        loop = running_loop()
        if loop is None:
            raise HTTPDoubleUsageError(
                "wait_async() outside asyncio",
                expected="'async with httpserver.wait_async():' in code run by an asyncio loop",
                got="no running asyncio event loop (trio is not supported)",
                remedy="use 'with httpserver.wait():' in synchronous code",
            )
        raise_assertions, stop_on_nohandler, timeout = check_settings(
            defaults, raise_assertions, stop_on_nohandler, timeout
        )
        waiting = Waiting()
        import asyncio  # already imported: a loop of it is running

        woken: asyncio.Future[None] = loop.create_future()
        state = WaitState(stop_on_nohandler, wake=lambda: wake_future(loop, woken))
        started = self._start_wait(state)
        try:
            yield waiting
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await woken
        finally:
            remaining = self._end_wait(state, waiting, started)
        if raise_assertions and not waiting.result:
            fail_wait(state, timeout, remaining, check_assertions)
