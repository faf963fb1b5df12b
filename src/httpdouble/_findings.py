"""Findings: what went wrong with a test's HTTP traffic, as small values.

A finding renders itself as the multi-line text users read (no-handler
response, teardown failure, end-of-run report) and converts to and from plain
builtins, the only form that crosses an xdist process boundary.
"""

from __future__ import annotations

import enum
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request

from . import _masking
from ._context import NO_CHECK_MARKER, TEARDOWN_CHECK_INI
from ._log import Stamp
from ._mismatch import Mismatch
from ._replay import curl_line, expect_request_line

BODY_LIMIT = 300
HEADER_VALUE_LIMIT = 120
MAX_HEADERS_SHOWN = 10
_BORING_HEADERS = frozenset(
    {"host", "user-agent", "accept-encoding", "connection", "accept", "content-length"}
)


class Kind(enum.Enum):
    """The kinds of finding, with the words the report uses."""

    NO_HANDLER = "no handler matched"
    OUT_OF_ORDER = "ordered request out of order"
    REFUSED = "refused: an ordered request was out of order earlier"
    HANDLER_ERROR = "handler raised"
    HANDLER_ASSERTION = "handler assertion failed"
    UNUSED = "expectation never used"
    SHORTFALL = "expectation used too few times"
    SEQUENCE_USED_UP = "response sequence used up"
    MALFORMED = "malformed request"
    LEFT_RUNNING = "server left running"
    ASSERTION = "assertion added by the test"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True, slots=True)
class RequestSummary:
    """The parts of a request a person needs to recognise it, cut to a readable size.

    Credentials are masked (see :ref:`secrets`): the values of ``Authorization``,
    ``Cookie`` and similar headers, and of query parameters such as ``token``.
    """

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""

    @classmethod
    def of(cls, request: Request) -> RequestSummary:
        headers = tuple(
            (name, _cut(_masking.header_value(name, value), HEADER_VALUE_LIMIT))
            for name, value in request.headers.items()
            if name.lower() not in _BORING_HEADERS
        )[:MAX_HEADERS_SHOWN]
        try:
            raw = request.get_data()
        except Exception as exc:  # a body that never arrived: describing it must not fail
            raw = f"(the body did not arrive: {exc})".encode()
        body = _cut(raw.decode("utf-8", "replace"), BODY_LIMIT) if raw else ""
        return cls(
            method=request.method,
            path=request.path,
            query=_masking.query(request.query_string.decode("latin-1")),
            headers=headers,
            body=body,
        )

    def line(self) -> str:
        """Return ``METHOD /path?query``."""
        return f"{self.method} {self.path}" + (f"?{self.query}" if self.query else "")

    def lines(self) -> list[str]:
        out = [self.line()]
        out.extend(f"  {name}: {value}" for name, value in self.headers)
        if self.body:
            out.append(f"  body: {self.body!r}")
        return out


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing that went wrong.

    :ivar kind: what happened.
    :ivar stamp: when, in which test, on which worker.
    :ivar request: the request, when there was one.
    :ivar expected: what was expected (a matcher's summary or a rule), as text.
    :ivar closest: the closest registered matcher, as text, if any.
    :ivar differences: that matcher's fields that differ from the request.
    :ivar detail: anything else (a traceback, a parse error).
    :ivar shadowed_by: the earlier handler that answers every request the closest (or
        the unused) one would match, as text, if any.
    :ivar base_url: ``scheme://host:port`` of the server that got the request, for the
        ``curl`` line; empty when unknown.
    :ivar cause: the user's exception, in the process where it happened (never
        sent across processes).
    """

    kind: Kind
    stamp: Stamp
    request: RequestSummary | None = None
    expected: str = ""
    closest: str = ""
    differences: tuple[Mismatch, ...] = ()
    detail: str = ""
    cause: BaseException | None = field(default=None, compare=False)
    shadowed_by: str = ""
    base_url: str = ""

    def __post_init__(self) -> None:
        # The one place where the expected side is masked, whoever builds the finding.
        if self.kind is Kind.ASSERTION or _masking.showing_secrets():
            return  # an assertion's text is the test's own words
        object.__setattr__(self, "expected", _masking.text(self.expected))
        object.__setattr__(self, "closest", _masking.text(self.closest))
        object.__setattr__(
            self, "differences", tuple(_masking.mismatch(m) for m in self.differences)
        )

    # -- rendering

    def headline(self) -> str:
        if self.kind is Kind.SHORTFALL and self.request is None:
            return f"expectation {self.expected}"  # "expectation used 2 of 3 times: GET '/x'"
        what = self.kind.value
        if self.request is not None:
            return f"{what}: {self.request.line()}"
        return f"{what}: {self.expected}" if self.expected else what

    def lines(self) -> list[str]:
        """Return the finding as indented lines: request, expected, closest, differences."""
        out = [self.headline()]
        if self.request is not None:
            req = self.request.lines()
            out.append(f"  request:  {req[0]}")
            out.extend(f"          {line}" for line in req[1:])
        if self.expected and (
            self.request is not None or self.kind not in (Kind.UNUSED, Kind.SHORTFALL)
        ):
            out.append(f"  expected: {self.expected}")
        if self.closest:
            out.append(f"  closest:  {self.closest}")
            out.extend(f"    - {m}" for m in self.differences)
        elif self.request is not None and self.kind is Kind.NO_HANDLER:
            out.append("  closest:  none (no handler was registered)")
        if self.shadowed_by:
            out.append(
                f"  shadowed by: {self.shadowed_by}"
                " (registered earlier, matches every request this one would)"
            )
        if self.request is not None and self.kind is Kind.NO_HANDLER:
            out.append(f"  to match it: {expect_request_line(self.request)}")
            out.append(f"  to replay it: {curl_line(self.request, self.base_url)}")
        if self.detail:
            out.extend(f"  {line}" for line in self.detail.rstrip().splitlines())
        return out

    def render(self) -> str:
        return "\n".join(self.lines())

    # -- plain builtins (the one place where conversion happens)

    def to_builtins(self) -> dict[str, Any]:
        """Return the finding as a dict of str, float, list and None only."""
        return {
            "kind": self.kind.name,
            "test": self.stamp.test,
            "after_test": self.stamp.after_test,
            "worker": self.stamp.worker,
            "time": self.stamp.time,
            "request": None
            if self.request is None
            else {
                "method": self.request.method,
                "path": self.request.path,
                "query": self.request.query,
                "headers": [[k, v] for k, v in self.request.headers],
                "body": self.request.body,
            },
            "expected": self.expected,
            "closest": self.closest,
            "differences": [[m.field, m.expected, m.actual] for m in self.differences],
            "detail": self.detail,
            "shadowed_by": self.shadowed_by,
            "base_url": self.base_url,
        }

    @classmethod
    def from_builtins(cls, data: dict[str, Any]) -> Finding:
        """Rebuild a finding from :meth:`to_builtins` output (``cause`` is not carried)."""
        req = data["request"]
        return cls(
            kind=Kind[data["kind"]],
            stamp=Stamp(data["test"], data["after_test"], data["worker"], data["time"]),
            request=None
            if req is None
            else RequestSummary(
                method=req["method"],
                path=req["path"],
                query=req["query"],
                headers=tuple((k, v) for k, v in req["headers"]),
                body=req["body"],
            ),
            expected=data["expected"],
            closest=data["closest"],
            differences=tuple(Mismatch(*d) for d in data["differences"]),
            detail=data["detail"],
            shadowed_by=data.get("shadowed_by", ""),
            base_url=data.get("base_url", ""),
        )


_OUR_DIR = str(Path(__file__).parent)


def format_exception(exc: BaseException) -> str:
    """Return the traceback of a user's exception without our own frames, for ``detail``."""
    tb = traceback.TracebackException.from_exception(exc)
    tb.stack = traceback.StackSummary.from_list(
        [frame for frame in tb.stack if not frame.filename.startswith(_OUR_DIR)]
    )
    return "".join(tb.format()).rstrip()


def repeat_key(finding: Finding) -> tuple[Any, ...]:
    """Return what makes two findings the same problem: everything but their time."""
    req = finding.request
    request = None if req is None else (req.method, req.path, req.query, req.body)
    return (
        finding.kind,
        finding.stamp.test,
        request,
        finding.expected,
        finding.closest,
        finding.differences,
        finding.detail,
    )


def collapse(findings: list[Finding]) -> list[tuple[int, Finding]]:
    """Return ``(count, first finding)`` for each distinct problem, in order of first sight.

    A retry loop sends the same request again and again: it is one problem, seen ``count``
    times, and it is shown once.
    """
    seen: dict[tuple[Any, ...], int] = {}
    out: list[tuple[int, Finding]] = []
    for finding in findings:
        key = repeat_key(finding)
        if key in seen:
            count, first = out[seen[key]]
            out[seen[key]] = (count + 1, first)
        else:
            seen[key] = len(out)
            out.append((1, finding))
    return out


def numbered_lines(
    findings: list[Finding], indent: str = "", cause: BaseException | None = None
) -> list[str]:
    """Return the findings as a numbered list, repeats collapsed into one entry (``4x``).

    The finding whose exception is ``cause`` (chained, so pytest prints its traceback)
    says so instead of repeating the traceback.
    """
    lines = []
    for number, (count, finding) in enumerate(collapse(findings), 1):
        if cause is not None and finding.cause is cause:
            note = f"{type(cause).__name__}: its traceback is above, as the cause"
            finding = replace(finding, detail=note)
        body = finding.lines()
        times = f"{count}x " if count > 1 else ""
        lines.append(f"{indent}{number}. {times}{body[0]}")
        pad = " " * (len(str(number)) + 2)
        lines.extend(f"{indent}{pad}{line}" for line in body[1:])
    return lines


def chained_cause(findings: list[Finding]) -> BaseException | None:
    """Return the user's exception that a failure for ``findings`` chains as its cause."""
    return next((f.cause for f in findings if f.cause is not None), None)


TURN_OFF_HINT = (
    f"to turn the teardown check off: @pytest.mark.{NO_CHECK_MARKER} on a test,"
    f" or '{TEARDOWN_CHECK_INI} = false' in the pytest ini file"
)


def failure_message(findings: list[Finding], *, at_teardown: bool) -> str:
    """Return one multi-line message for several findings: what went wrong, then what to do.

    Identical repeated problems (a retry loop) are one entry with a count. The chained
    cause's traceback is not repeated: pytest prints it above the message.

    :param at_teardown: add the line that says how to turn the teardown check off (the
        end-of-run report says it once per run; the plugin passes ``True`` only when no
        report is printed, for the first teardown failure).
    """
    count = len(findings)
    noun = "problem" if count == 1 else "problems"
    lines = [f"httpserver: {count} HTTP {noun} in this test"]
    lines.extend(numbered_lines(findings, cause=chained_cause(findings)))
    lines.append("to do:")
    kinds = {f.kind for f in findings}
    if kinds & {Kind.NO_HANDLER, Kind.OUT_OF_ORDER, Kind.REFUSED}:
        lines.append(
            "  - register a handler for the request, or fix the request your code sends;"
            " httpserver.format_matchers() lists what is registered"
        )
    if Kind.UNUSED in kinds:
        lines.append(
            "  - send the expected request, or remove the expectation"
            " (or make it permanent with expect_request)"
        )
    if Kind.SHORTFALL in kinds:
        lines.append(
            "  - send the expected number of requests, or lower times= on the expectation"
        )
    if Kind.HANDLER_ERROR in kinds:
        lines.append("  - fix the handler function: its exception is chained above as the cause")
    if Kind.HANDLER_ASSERTION in kinds:
        lines.append(
            "  - an assert in a handler function failed: its AssertionError is chained above"
        )
    if Kind.SEQUENCE_USED_UP in kinds:
        lines.append(
            "  - a respond_with_sequence(then='fail') handler got more requests than it has"
            " responses: add responses, pass then='repeat', or send fewer requests"
        )
    if Kind.MALFORMED in kinds:
        lines.append(
            "  - the server refused a request before any handler saw it (not valid HTTP,"
            " over a limit, or a failed TLS handshake): the detail above says why and what to do"
        )
    if at_teardown:
        lines.append(f"  - {TURN_OFF_HINT}")
    return "\n".join(lines)
