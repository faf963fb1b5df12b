"""Two ready-to-use lines for a request no handler took: the registration that would
match it, and a ``curl`` command that sends it again.

Both are built from the :class:`~httpdouble._findings.RequestSummary` only, so they
show exactly the header values the rest of the report shows (never raw secrets), and
they survive the trip to the xdist controller with the finding.
"""

from __future__ import annotations

import json
import shlex
import urllib.parse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._findings import RequestSummary

CURL_PLACEHOLDER = "$HTTPSERVER"
"""Stands for the server's base URL when the finding does not know it."""

# Headers every client sends on its own, or that a registration never needs.
_USUAL_HEADERS = frozenset(
    {
        "accept",
        "accept-charset",
        "accept-encoding",
        "accept-language",
        "cache-control",
        "connection",
        "content-length",
        "content-type",
        "cookie",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "pragma",
        "referer",
        "te",
        "traceparent",
        "tracestate",
        "transfer-encoding",
        "upgrade",
        "user-agent",
    }
)
# Shown masked in the summary: a registration with the masked text would never match.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_SHORT_BODY = 200


def _body_was_cut(summary: RequestSummary) -> bool:
    from ._findings import BODY_LIMIT  # here: _findings imports this module

    return len(summary.body) >= BODY_LIMIT and summary.body.endswith("...")


def _query_argument(query: str) -> Any:
    """A dict when the query string decodes and encodes back to itself, else the raw text."""
    try:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return query
    if urllib.parse.urlencode(pairs) != query:
        return query
    parsed: dict[str, Any] = {}
    for key, value in pairs:
        if key in parsed:
            previous = parsed[key]
            parsed[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            parsed[key] = value
    return parsed


def _json_body(summary: RequestSummary) -> tuple[bool, Any]:
    if not summary.body or _body_was_cut(summary):
        return False, None
    try:
        return True, json.loads(summary.body)
    except (ValueError, RecursionError):
        return False, None


def expect_request_line(summary: RequestSummary) -> str:
    """Return ``httpserver.expect_request(...)`` with what the request had, as Python."""
    args = [repr(summary.path), f"method={summary.method!r}"]
    if summary.query:
        args.append(f"query_string={_query_argument(summary.query)!r}")
    headers = {
        name: value
        for name, value in summary.headers
        if name.lower() not in _USUAL_HEADERS | _SECRET_HEADERS
    }
    if headers:
        args.append(f"headers={headers!r}")
    is_json, decoded = _json_body(summary)
    if is_json:
        args.append(f"json={decoded!r}")
    elif (
        summary.body
        and len(summary.body) <= _SHORT_BODY
        and "\ufffd" not in summary.body  # not text: the summary could not show its bytes
    ):
        args.append(f"data={summary.body!r}")
    line = f"httpserver.expect_request({', '.join(args)})"
    if _body_was_cut(summary):
        line += "  # body left out: too long to show here"
    return line


def curl_line(summary: RequestSummary, base_url: str = "") -> str:
    """Return a ``curl`` command that sends the request again, shell-quoted.

    :param base_url: ``scheme://host:port`` of the server; ``$HTTPSERVER`` when empty.
    """
    target = summary.path + (f"?{summary.query}" if summary.query else "")
    # The placeholder must expand in the shell, so it stays outside the quotes.
    quoted_url = (
        shlex.quote(base_url.rstrip("/") + target)
        if base_url
        else CURL_PLACEHOLDER + shlex.quote(target)
    )
    parts = ["curl", "-X", shlex.quote(summary.method), quoted_url]
    for name, value in summary.headers:
        parts.extend(["-H", shlex.quote(f"{name}: {value}")])
    if summary.body and not _body_was_cut(summary):
        parts.extend(["--data-raw", shlex.quote(summary.body)])
    line = " ".join(parts)
    if summary.body and _body_was_cut(summary):
        line += "  # body left out: too long to show here"
    return line
