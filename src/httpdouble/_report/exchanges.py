"""One logged request and its response as plain builtins, for the HTML and JSON reports.

The worker (or the single process) converts each log entry of a test once, here; the
controller renders what arrives and never sees a log entry. Every exchange has a bounded
size: at most :data:`HEADERS_KEPT` headers a side, each value cut to :data:`HEADER_LIMIT`
characters, bodies cut to :data:`BODY_LIMIT` characters with their full size kept, and
credentials masked as the terminal report masks them (see :mod:`httpdouble._matching.masking`).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import TYPE_CHECKING, Any

from .._matching import body_masking as _body_masking
from .._matching import masking as _masking
from .._wire.origin import origin_of

if TYPE_CHECKING:
    from .._log.request_log import LogEntry

EXCHANGES_PER_TEST = 500
BODY_LIMIT = 2048
HEADER_LIMIT = 300
HEADERS_KEPT = 30
FAULT_PREFIX = "fault on purpose"
MATCHED = "matched"
NOT_DELIVERED = "answered, but the answer could not be sent"  # Outcome.NOT_DELIVERED


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _headers(pairs: Iterable[tuple[str, str]]) -> list[list[str]]:
    show = _masking.showing_secrets()  # read once: it is asked for every header otherwise
    kept: list[list[str]] = []
    for name, value in pairs:
        if len(kept) == HEADERS_KEPT:
            break
        if not show and _masking.is_secret_header(name):
            value = _masking.mask(value)
        kept.append([name, _cut(value, HEADER_LIMIT)])
    return kept


def body_data(raw: bytes, content_type: str) -> dict[str, Any]:
    """Return a body as builtins: its text (cut, secrets masked), its size in bytes, and
    whether it is binary.

    :param raw: the body as received or sent.
    :param content_type: the ``Content-Type`` header's value, or ``""``.
    """
    head = raw[: BODY_LIMIT * 4]  # enough bytes for BODY_LIMIT characters of UTF-8
    text = head.decode("utf-8", "replace")
    binary = "\x00" in text or text.count("\ufffd") > len(text) // 10
    if binary:
        return {"text": "", "size": len(raw), "cut": True, "binary": True, "type": content_type}
    # Secrets are masked in the whole body (up to a bound), then it is cut: a JSON
    # body cut first would no longer decode.
    whole = raw[: _body_masking.STRUCTURE_LIMIT]
    masked = _body_masking.body(whole, content_type)
    shown = masked[:BODY_LIMIT]
    cut = len(shown) < len(masked) or len(whole) < len(raw)
    return {"text": shown, "size": len(raw), "cut": cut, "binary": binary, "type": content_type}


def outcome_class(outcome: str) -> str:
    """Return the class of an outcome: ``ok``, ``fault``, ``gone`` or ``problem``.

    ``fault``: a fault the test asked for. ``gone``: the client left before the answer
    (its own timeout, often against ``with_latency``). Neither is a problem: the terminal
    and JSON report count none, so the HTML report does not either.
    """
    if outcome == MATCHED:
        return "ok"
    if outcome == NOT_DELIVERED:
        return "gone"
    return "fault" if outcome.startswith(FAULT_PREFIX) else "problem"


def exchange_data(entry: LogEntry) -> dict[str, Any]:
    """Return one log entry as builtins: time, request line, status, outcome, both sides."""
    response = entry.response
    try:
        sent = response.get_data()
    except RuntimeError:  # a streamed (direct passthrough) response: its body is not kept
        sent = b""
    answer = {
        "headers": _headers(response.headers.items()),
        "body": body_data(sent, response.headers.get("Content-Type", "")),
    }
    common = {
        "time": entry.stamp.time,
        "status": response.status_code,
        "outcome": entry.outcome.value,
        "response": answer,
    }
    request = entry.request
    if request is None:
        return {"method": "", "target": "(malformed request)", "request": None, **common}
    query = _masking.query(request.query_string.decode("latin-1"))
    received = request.get_data()  # a logged request's body is in memory: this cannot fail
    return {
        "method": request.method,
        "target": origin_of(request.environ) + request.path + (f"?{query}" if query else ""),
        "request": {
            "headers": _headers(request.headers.items()),
            "body": body_data(received, request.headers.get("Content-Type", "")),
        },
        **common,
    }


def exchanges_data(entries: Iterable[LogEntry]) -> list[dict[str, Any]]:
    """Return the first :data:`EXCHANGES_PER_TEST` entries as builtins."""
    return [exchange_data(entry) for entry in islice(entries, EXCHANGES_PER_TEST)]
