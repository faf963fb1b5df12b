"""Verification: the log, the findings, and the ``check_*`` and ``assert_*`` methods.

Mixed into the dispatcher, which owns the state declared here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Self

from werkzeug.wrappers import Request, Response

from .._errors import HTTPDoubleFailure, HTTPDoubleUsageError
from .._log.request_log import LogEntry, Outcome, RequestLog, Stamp
from .._matching import masking as _masking
from .._matching.mismatch import Mismatch
from .._matching.ranking import similarity
from .._matching.request_matcher import RequestMatcher
from .._report.findings import HANDLER_KINDS, Finding, Kind, failure_message
from .._report.request_summary import RequestSummary
from .expectations import HandlerType, RequestHandler
from .registry import Registry


def closest_request(
    matcher: RequestMatcher, requests: Sequence[Request]
) -> tuple[Request, list[Mismatch]] | None:
    """Return the logged request most like what ``matcher`` wants (the first of equals)."""
    best: tuple[float, Request, list[Mismatch]] | None = None
    for request in requests:
        diff = matcher.difference(request)
        score = similarity(matcher, request, diff)
        if best is None or score > best[0]:
            best = (score, request, diff)
    return None if best is None else (best[1], best[2])


def _describe(handler: RequestHandler | None) -> str:
    return "" if handler is None else handler.matcher.describe()


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
    """What a test reads and checks after the requests were sent."""

    _lock: threading.RLock
    _registry: Registry
    _log: RequestLog
    _findings: list[Finding]
    _unraised: list[Finding]
    _in_flight: int
    no_handler_status_code: int
    _default_no_handler_status_code: int

    def _all_used(self) -> bool:
        """Whether every oneshot and ordered handler has been used and answered (lock held)."""
        return not self._registry.pending() and self._in_flight == 0

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
    def logged_requests(self) -> int:
        """How many requests the log holds now (since the last clear)."""
        return len(self._log)

    @property
    def total_requests(self) -> int:
        """How many requests this server answered since it was created (clearing keeps it)."""
        return self._log.total

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
        with self._lock:
            return _masking.text(self._registry.format())

    def _take(self, handler_errors: bool) -> list[Finding]:
        with self._lock:
            taken = [f for f in self._unraised if (f.kind in HANDLER_KINDS) == handler_errors]
            self._unraised = [f for f in self._unraised if f not in taken]
            return taken

    def check_assertions(self) -> None:
        """Raise one ``AssertionError`` listing every request that went wrong.

        What it raised is not raised again (neither here nor at teardown).
        """
        __tracebackhide__ = True
        taken = self._take(handler_errors=False)
        if taken:
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

    def check(self) -> None:
        """Run :meth:`check_assertions` then :meth:`check_handler_errors`."""
        __tracebackhide__ = True
        self.check_assertions()
        self.check_handler_errors()

    @contextmanager
    def with_check(self) -> Iterator[Self]:
        """Run :meth:`check` when the ``with`` block completes; yield the server.

        A request no handler matched, an ordered one out of order or a handler's
        ``assert`` raise an ``AssertionError``, and then an exception a handler function
        raised is raised as it is, as :meth:`check` does. A request sent after the ordered
        ones were all used is one no handler matched, so it fails the block too. An
        exception raised in the block propagates unchanged, and no check runs then. The
        block neither waits for requests nor stops the server (use :meth:`wait` for that).

        .. versionadded:: 0.3
           As in pytest-httpserver 1.2.1.
        """
        __tracebackhide__ = True
        yield self
        self.check()

    def take_findings(self, include_unused: bool = True, clear: bool = False) -> list[Finding]:
        """Return every finding not raised yet and mark them raised.

        With ``include_unused``, also the oneshot and ordered handlers never
        used, and the counted ones (``times=N``) used fewer times (the teardown
        check uses this). With ``clear``, also :meth:`clear`
        in the same locked step, so no request answered in between is lost.
        """
        with self._lock:
            taken, self._unraised = self._unraised, []
            if include_unused and not self._registry.permanently_failed:
                stamp = Stamp.now()
                pending = self._registry.pending()
                entries = self._log.entries() if pending else ()
                taken.extend(_unused(h, stamp, self._registry, entries) for h in pending)
            if clear:
                self._registry.clear()
                self._findings = []
                self._log.clear()
                self.no_handler_status_code = self._default_no_handler_status_code
            return taken

    def iter_matching_requests(
        self, matcher: RequestMatcher
    ) -> Iterator[tuple[Request, Response]]:
        """Yield ``(request, response)`` from the log for requests that ``matcher`` matches."""
        check_matcher(matcher)
        for request, response in self._log.pairs():
            if matcher.match(request):
                yield request, response

    def get_matching_requests_count(self, matcher: RequestMatcher) -> int:
        """Return how many logged requests ``matcher`` matches."""
        return sum(1 for _ in self.iter_matching_requests(matcher))

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
        requests = [req for req, _ in self._log.pairs()]  # one snapshot for count and report
        found = sum(1 for req in requests if matcher.match(req))
        if found == count:
            return
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
