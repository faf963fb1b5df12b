"""What a reader of the log gets besides ``(request, response)``: the outcome of a request,
its stamp (test, worker, time) and the :class:`LogEntry` that holds them all."""

from __future__ import annotations

import enum
import time

from werkzeug.wrappers import Request, Response  # at run time: the docs resolve them

from .._values import Value
from .context import CONTEXT


class Outcome(enum.Enum):
    """What the server did with a request."""

    MATCHED = "matched"
    NO_HANDLER = "no handler"
    OUT_OF_ORDER = "out of order"
    REFUSED = "refused after an ordered violation"
    HANDLER_ERROR = "handler raised"
    MALFORMED = "malformed request"
    NOT_DELIVERED = "answered, but the answer could not be sent"
    FAULT_RESET = "fault on purpose: connection reset"
    FAULT_CLOSE = "fault on purpose: closed without answering"
    FAULT_PARTIAL_BODY = "fault on purpose: body cut short, then closed"
    FAULT_GARBAGE = "fault on purpose: malformed response bytes, then closed"
    FAULT_STALL = "fault on purpose: stalled without answering, then closed"


_OUTCOMES = {outcome.value: outcome for outcome in Outcome}


class Stamp(Value):
    """When and where a request arrived. Immutable; equal when every field is.

    :ivar test: node id of the test running at the time, or ``None`` between tests.
    :ivar after_test: when ``test`` is ``None``: the test that ran last, if any.
    :ivar worker: the xdist worker id (``"main"`` without xdist).
    :ivar time: seconds since the epoch.
    """

    __slots__ = __match_args__ = ("test", "after_test", "worker", "time")
    test: str | None
    after_test: str | None
    worker: str
    time: float

    def __init__(self, test: str | None, after_test: str | None, worker: str, time: float) -> None:
        set_field = object.__setattr__
        set_field(self, "test", test)
        set_field(self, "after_test", after_test)
        set_field(self, "worker", worker)
        set_field(self, "time", time)

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


class LogEntry(Value):
    """One request and what the server answered. Immutable; equal when every field is.

    ``request`` is ``None`` for a request too malformed to parse.
    """

    __slots__ = __match_args__ = ("request", "response", "outcome", "stamp")
    request: Request | None
    response: Response
    outcome: Outcome
    stamp: Stamp

    def __init__(
        self, request: Request | None, response: Response, outcome: Outcome, stamp: Stamp
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "request", request)
        set_field(self, "response", response)
        set_field(self, "outcome", outcome)
        set_field(self, "stamp", stamp)
