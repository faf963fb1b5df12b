"""What a connection learns about a request after the dispatcher has logged it.

The dispatcher logs a request when it answers; only the connection learns later that the
body never arrived (after ``100 Continue``), that the handler's response cannot be put on
the wire, or that the answer could not be sent. These functions amend the request's log
record (found through ``environ[LOG_HANDLE]``) and keep the finding, so the log says what
the client got.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from .._log.request_log import LOG_HANDLE, Outcome, Stamp, pack, pack_response
from .._report.findings import Finding, Kind, format_exception
from .._wire.framing import error_response
from .connection import Reports

if TYPE_CHECKING:
    from collections.abc import Callable

    from .._app.entry import Application
    from .._wire.request import Limits


def wire_reports(app: Application, limits: Callable[[], Limits]) -> Reports:
    """Return the callbacks through which a connection records into ``app``'s log."""

    def malformed(
        status: int,
        reason: str,
        request_line: str,
        payload: bytes,
        environ: dict[str, Any] | None,
    ) -> None:
        response = Response(payload.split(b"\r\n\r\n", 1)[1], status, mimetype="text/plain")
        from .refusals import limit_detail  # loaded when the server started

        detail = limit_detail(status, reason, limits())
        handle = None if environ is None else environ.get(LOG_HANDLE)
        if handle is not None and app.request_log.amend(
            handle, Outcome.MALFORMED, pack_response(response)
        ):
            # Logged by the dispatcher before its body failed to arrive: that entry says so now.
            finding = Finding(Kind.MALFORMED, Stamp.now(), expected=request_line, detail=detail)
            app.keep_finding(finding)
            return
        app.record_malformed(response, detail, request_line or "(no request line)")

    def streamed(
        environ: dict[str, Any],
        status: str,
        headers: list[tuple[str, str]],
        kept: bytes,
        sent: int,
        error: BaseException | None,
        delivered: bool,
    ) -> None:
        """A streamed body ended: the log gets what was sent (its first part) and how it ended."""
        header_list = [(str(n), str(v)) for n, v in headers]
        if sent > len(kept):
            header_list.append(
                (
                    "X-Httpdouble-Streamed",
                    f"{sent} bytes sent; the log keeps the first {len(kept)}",
                )
            )
        packed = (int(status[:3]), tuple(header_list), kept)
        outcome = Outcome.MATCHED if delivered else Outcome.NOT_DELIVERED
        handle = environ.get(LOG_HANDLE)
        if error is None:
            if handle is not None:
                app.request_log.amend(handle, outcome, packed)
            return
        from .._report.request_summary import RequestSummary  # on a failure only

        request = _request_copy(environ)
        finding = Finding(
            Kind.HANDLER_ERROR,
            Stamp.now(),
            RequestSummary.of(request),
            expected="a streamed body that runs to its end",
            detail=f"the streamed body raised {type(error).__name__} after {sent} bytes"
            f" had been sent; the connection was closed, cutting the body short\n"
            f"{format_exception(error)}",
            cause=error,
        )
        if handle is None or not app.request_log.amend(handle, Outcome.HANDLER_ERROR, packed):
            app.request_log.append_record(
                pack(request, packed, Outcome.HANDLER_ERROR, finding.stamp)
            )
        app.keep_finding(finding)

    def bad_response(environ: dict[str, Any], exc: BaseException, reason: str) -> bytes:
        """The handler's response cannot go on the wire: a handler error, logged as the 500."""
        payload = error_response(500, f"the handler's response cannot be sent: {reason}")
        response = Response(payload.split(b"\r\n\r\n", 1)[1], 500, mimetype="text/plain")
        from .._report.request_summary import RequestSummary  # on a failure only

        request = _request_copy(environ)
        finding = Finding(
            Kind.HANDLER_ERROR,
            Stamp.now(),
            RequestSummary.of(request),
            expected="a response HTTP/1.1 can carry: a 3-digit status, token header names,"
            " latin-1 header values without control characters",
            detail=f"{reason}\n{format_exception(exc)}",
            cause=exc,
        )
        packed = pack_response(response)
        handle = environ.get(LOG_HANDLE)
        if handle is None or not app.request_log.amend(handle, Outcome.HANDLER_ERROR, packed):
            app.request_log.append_record(
                pack(request, packed, Outcome.HANDLER_ERROR, finding.stamp)
            )
        app.keep_finding(finding)
        return payload

    def undelivered(environ: dict[str, Any]) -> None:
        handle = environ.get(LOG_HANDLE)
        if handle is not None:
            app.request_log.amend(handle, Outcome.NOT_DELIVERED)

    return Reports(malformed, bad_response, undelivered, streamed)


def _request_copy(environ: dict[str, Any]) -> Request:
    copy = dict(environ)
    stream = environ.get("wsgi.input")
    copy["wsgi.input"] = io.BytesIO(stream.getvalue() if isinstance(stream, io.BytesIO) else b"")
    return Request(copy, populate_request=False)
