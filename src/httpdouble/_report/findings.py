"""Findings: what went wrong with a test's HTTP traffic, as small values.

A finding renders itself as the multi-line text users read (no-handler
response, teardown failure, end-of-run report) and converts to and from plain
builtins, the only form that crosses an xdist process boundary.
"""

from __future__ import annotations

import enum
import os
import traceback
from typing import TYPE_CHECKING, Any

from .._log.context import NO_CHECK_MARKER, TEARDOWN_CHECK_INI
from .._log.request_log import Stamp
from .._matching.mismatch import Mismatch
from .._values import Value

# Masking, rendering and replay lines are imported where a finding is made or shown: a test
# with no problem makes none, and pays nothing for them (issue 27).
if TYPE_CHECKING:
    from .request_summary import RequestSummary


class Kind(enum.Enum):
    """The kinds of finding, with the words the report uses."""

    NO_HANDLER = "no handler matched"
    OUT_OF_ORDER = "ordered request out of order"
    REFUSED = "refused: an ordered request was out of order earlier"
    HANDLER_ERROR = "handler raised"
    NO_RESPONSE = "handler has no response"
    HANDLER_ASSERTION = "handler assertion failed"
    UNUSED = "expectation never used"
    SHORTFALL = "expectation used too few times"
    SEQUENCE_USED_UP = "response sequence used up"
    MALFORMED = "malformed request"
    LEFT_RUNNING = "server left running"
    ASSERTION = "assertion added by the test"


HANDLER_KINDS = frozenset({Kind.HANDLER_ERROR, Kind.NO_RESPONSE})
"""The findings ``check_handler_errors`` raises (their cause), and ``check_assertions`` not."""


class Finding(Value):
    """One thing that went wrong. Immutable; equal when every field but ``cause`` is.

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

    __slots__ = __match_args__ = (
        "kind",
        "stamp",
        "request",
        "expected",
        "closest",
        "differences",
        "detail",
        "cause",
        "shadowed_by",
        "base_url",
    )
    _not_compared = frozenset({"cause"})
    kind: Kind
    stamp: Stamp
    request: RequestSummary | None
    expected: str
    closest: str
    differences: tuple[Mismatch, ...]
    detail: str
    cause: BaseException | None
    shadowed_by: str
    base_url: str

    def __init__(
        self,
        kind: Kind,
        stamp: Stamp,
        request: RequestSummary | None = None,
        expected: str = "",
        closest: str = "",
        differences: tuple[Mismatch, ...] = (),
        detail: str = "",
        cause: BaseException | None = None,
        shadowed_by: str = "",
        base_url: str = "",
    ) -> None:
        # The one place where the expected side is masked, whoever builds the finding.
        # An assertion's text is the test's own words, but it often echoes what was sent.
        from .._matching import masking as _masking

        if not _masking.showing_secrets():
            expected = _masking.text(expected)
            closest = _masking.text(closest)
            shadowed_by = _masking.text(shadowed_by)
            differences = tuple(_masking.mismatch(m) for m in differences)
        set_field = object.__setattr__
        set_field(self, "kind", kind)
        set_field(self, "stamp", stamp)
        set_field(self, "request", request)
        set_field(self, "expected", expected)
        set_field(self, "closest", closest)
        set_field(self, "differences", differences)
        set_field(self, "detail", detail)
        set_field(self, "cause", cause)
        set_field(self, "shadowed_by", shadowed_by)
        set_field(self, "base_url", base_url)

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
        from .replay import curl_line, expect_request_line
        from .request_summary import printable
        from .sides import drops_a_check

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
        # A handler pasted for the request as sent would drop a check the test has (a
        # header the code did not send, say): the to-do says to fix the request instead.
        if (
            self.request is not None
            and self.kind is Kind.NO_HANDLER
            and not drops_a_check(self.differences)
        ):
            out.append(f"  to match it: {expect_request_line(self.request)}")
        if self.request is not None and self.kind is Kind.NO_HANDLER:
            out.append(f"  to replay it: {curl_line(self.request, self.base_url)}")
        if self.detail:
            out.extend(f"  {line}" for line in self.detail.rstrip().splitlines())
        return [printable(line) for line in out]

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
                "origin": self.request.origin,
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
        from .request_summary import RequestSummary

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
                origin=req.get("origin", ""),
            ),
            expected=data["expected"],
            closest=data["closest"],
            differences=tuple(Mismatch(*d) for d in data["differences"]),
            detail=data["detail"],
            shadowed_by=data.get("shadowed_by", ""),
            base_url=data.get("base_url", ""),
        )


_OUR_DIR = os.path.dirname(os.path.dirname(__file__))  # os.path: cheaper than pathlib


def missing_key(exc: BaseException) -> str:
    """Return what a handler's werkzeug ``BadRequestKeyError`` hides: the key it missed.

    werkzeug's message names the key only in debug mode; the finding always does. Also
    sets the exception's ``show_exception``, so its own message (in the cause's traceback
    pytest prints) ends with ``KeyError: 'the key'``. ``""`` for any other exception.
    """
    from werkzeug.exceptions import BadRequestKeyError

    if not isinstance(exc, BadRequestKeyError) or not exc.args:
        return ""
    exc.show_exception = True
    key = exc.args[0]
    return (
        f"the request has no {key!r} (request.args[{key!r}], .form or .files raise it for"
        f" a key the request lacks; .get({key!r}) returns None instead)"
    )


def out_of_order_words(came: str | None, due: str) -> str:
    """Say what came in which order, for an ordered request out of order.

    :param came: the later ordered handler the request matched, or ``None`` for none.
    :param due: the ordered handler whose request was due first.
    """
    if came is None:
        return (
            f"order:    this request matches no ordered handler, and came while {due} was due;"
            " while ordered handlers wait, each request must be the next one"
            " (ordered_fall_through=True lets other requests reach the other handlers)"
        )
    return f"order:    {came} came before {due}; they were registered in the other order"


def format_exception(exc: BaseException) -> str:
    """Return the traceback of a user's exception without our own frames, for ``detail``."""
    key = missing_key(exc)
    tb = traceback.TracebackException.from_exception(exc)
    tb.stack = traceback.StackSummary.from_list(
        [frame for frame in tb.stack if not frame.filename.startswith(_OUR_DIR)]
    )
    text = "".join(tb.format()).rstrip()
    return f"{text}\n{key}" if key else text


def repeat_key(finding: Finding) -> tuple[Any, ...]:
    """Return what makes two findings the same problem: everything but their time."""
    req = finding.request
    request = None if req is None else (req.method, req.origin, req.path, req.query, req.body)
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
            key = missing_key(cause)
            if key:
                note = f"{type(cause).__name__}: {key}; its traceback is above, as the cause"
            finding = finding.replace(detail=note)
        body = finding.lines()
        times = f"{count}x " if count > 1 else ""
        lines.append(f"{indent}{number}. {times}{body[0]}")
        pad = " " * (len(str(number)) + 2)
        lines.extend(f"{indent}{pad}{line}" for line in body[1:])
    return lines


def chained_cause(findings: list[Finding]) -> BaseException | None:
    """Return the user's exception that a failure for ``findings`` chains as its cause."""
    # A handler with no response is said in full by its finding: no traceback to show.
    causes = (f.cause for f in findings if f.kind is not Kind.NO_RESPONSE)
    return next((cause for cause in causes if cause is not None), None)


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
    from .sides import side_of

    count = len(findings)
    noun = "problem" if count == 1 else "problems"
    lines = [f"httpserver: {count} HTTP {noun} in this test"]
    lines.extend(numbered_lines(findings, cause=chained_cause(findings)))
    lines.append("to do:")
    kinds = {f.kind for f in findings}
    no_handler = [f for f in findings if f.kind is Kind.NO_HANDLER]
    sides = dict.fromkeys(side_of(m)[1] for f in no_handler for m in f.differences if m.actual)
    lines.extend(f"  - {sentence}" for sentence in sides)
    if any(not f.differences for f in no_handler) or kinds == {Kind.REFUSED}:
        lines.append(
            "  - register a handler for the request, or fix the request your code sends;"
            " httpserver.format_matchers() lists what is registered"
        )
    out_of_order = [f for f in findings if f.kind is Kind.OUT_OF_ORDER]
    if any(f.closest for f in out_of_order):  # matched no ordered handler: a wrong request
        lines.append(
            "  - the request matches no ordered handler: fix the request your code sends"
            " (the closest above says how it differs from the one due), or register it"
        )
    if any(not f.closest for f in out_of_order):
        lines.append(
            "  - send the requests in the order their expect_ordered_request calls were made,"
            " or make those calls in the order your code sends them"
            + (
                "; the refused requests came after the out-of-order one and follow from it"
                if Kind.REFUSED in kinds
                else ""
            )
        )
    if any(f.kind is Kind.UNUSED and f.detail.startswith("taken by:") for f in findings):
        lines.append(
            "  - another handler answered the request an unused expectation was meant for:"
            " register the narrower one first, or narrow the broader one"
        )
    if any(f.kind is Kind.UNUSED and not f.detail for f in findings):
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
    lines.extend(
        f"  - call respond_with_data, respond_with_json, respond_with_response or"
        f" respond_with_handler on the handler for {described}: it was registered without one"
        for described in dict.fromkeys(f.expected for f in findings if f.kind is Kind.NO_RESPONSE)
    )
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
