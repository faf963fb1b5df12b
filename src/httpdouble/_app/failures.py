"""What the client and the test are told when a request goes wrong.

A handler function or the user's own override raised, or no handler took the request: each
builder returns the finding the test gets and the plain-text response the client gets; the
dispatcher logs both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from .._log.request_log import Stamp
from .._report.findings import Finding, Kind, format_exception
from .._wire.origin import origin_of
from .expectations import NoResponseError, RequestHandler, SequenceUsedUp
from .misses import Miss, base_url

if TYPE_CHECKING:
    from .._report.request_summary import RequestSummary


def load_failure_paths() -> None:
    """Import what a server thread needs to report a failure, before one can happen.

    They are imported late so that importing the package stays light, but a server thread
    may have a failure to report when no file can be opened (out of descriptors, as the
    loop's back-off reports it) and could not import them then: the server calls this when
    it starts (issue 27).
    """
    from .._matching import bodydiff, masking, ranking  # noqa: F401  # a finding; a miss
    from .._report import replay, request_summary, sides  # noqa: F401  # a finding's lines
    from . import misses  # noqa: F401  # what a miss is (this module imports it too)


def first_line(exc: BaseException) -> str:
    """The client gets one short line; the whole exception goes to the test."""
    try:
        text = str(exc)
    except Exception:  # an exception whose __str__ raises is still the handler's error
        return "(its message could not be read)"
    return text.splitlines()[0] if text else ""


def _summary(request: Request) -> RequestSummary:
    # Imported on a failure only: a test with none never loads the report's summaries.
    from .._report.request_summary import RequestSummary

    return RequestSummary.of(request)


def _target(request: Request) -> str:
    """The path, after ``scheme://host`` for a request meant for another host."""
    return origin_of(request.environ) + request.path


def user_code_failure(request: Request, exc: BaseException, what: str) -> tuple[Finding, Response]:
    """A 500 for an exception of the user's code outside a handler, and its finding."""
    finding = Finding(
        Kind.HANDLER_ERROR,
        Stamp.now(),
        _summary(request),
        expected=what,
        detail=format_exception(exc),
        cause=exc,
    )
    text = (
        f"Internal Server Error: {what} for {request.method} {_target(request)}:"
        f" {type(exc).__name__}: {first_line(exc)}\n"
    )
    return finding, Response(text, 500, mimetype="text/plain")


def handler_failure(
    request: Request, handler: RequestHandler, exc: BaseException
) -> tuple[Finding, Response]:
    """A 500 for an exception of ``handler``'s (its function, hooks or body), and its finding."""
    if isinstance(exc, SequenceUsedUp):
        kind = Kind.SEQUENCE_USED_UP
    elif isinstance(exc, AssertionError):
        kind = Kind.HANDLER_ASSERTION
    elif isinstance(exc, NoResponseError):
        kind = Kind.NO_RESPONSE
    else:
        kind = Kind.HANDLER_ERROR
    finding = Finding(
        kind,
        Stamp.now(),
        _summary(request),
        expected=handler.matcher.describe(),
        detail="no respond_with_* was called on it"
        if kind is Kind.NO_RESPONSE
        else format_exception(exc),
        cause=exc,
    )
    text = (
        f"Internal Server Error: the handler for {request.method} {_target(request)}"
        f" raised {type(exc).__name__}: {first_line(exc)}\n"
    )
    return finding, Response(text, 500, mimetype="text/plain")


def no_handler_failure(
    request: Request, kind: Kind, miss: Miss, status: int
) -> tuple[Finding, Response]:
    """The answer (``status``) to a request no handler took, saying why, and its finding."""
    finding = Finding(
        kind,
        Stamp.now(),
        _summary(request),
        expected=miss.expected,
        closest=miss.closest,
        differences=miss.differences,
        shadowed_by=miss.shadowed_by,
        base_url=base_url(request),
        detail=miss.detail,
    )
    text = "\n".join([f"No handler found for this request ({kind.value})", *finding.lines()])
    return finding, Response(text + "\n", status, mimetype="text/plain")
