"""Two ready-to-use lines for a request no handler took: the registration that would
match it, and a ``curl`` command that sends it again.

Both are built from the :class:`~httpdouble._report.request_summary.RequestSummary` only, so they
survive the trip to the xdist controller with the finding, and never show a raw secret:
where the summary has a masked value, these lines have a placeholder that says what to
put there (``<your Idempotency-Key>``), since a masked value pasted would never match.
``HTTPDOUBLE_SHOW_SECRETS=1`` shows the real values. A control character in the request
is escaped in both (``$'...'`` quoting in the ``curl`` line), never printed raw.
"""

from __future__ import annotations

import json
import shlex
import unicodedata
import urllib.parse
from typing import TYPE_CHECKING, Any

from .._matching.body_masking import placeholders
from .._matching.secret_names import placeholder

if TYPE_CHECKING:
    from .request_summary import RequestSummary

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
    from .request_summary import BODY_LIMIT  # here: _findings imports this module

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
    """Return ``httpserver.expect_request(...)`` with what the request had, as Python.

    A request meant for another host gets its full URL (``'https://api.example.test/x'``),
    which matches its scheme and host too.
    """
    args = [repr(summary.origin + summary.path), f"method={summary.method!r}"]
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
    line = placeholders(f"httpserver.expect_request({', '.join(args)})")
    if _body_was_cut(summary):
        line += "  # body left out: too long to show here"
    return line


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc"


def _shell_quote(text: str) -> str:
    """Quote for a POSIX shell; a text with control characters as ``$'...'`` with escapes.

    ``$'...'`` (bash, zsh, ksh) turns the escapes back into the same characters, so the
    command still sends what the client sent, and the line never carries a raw ESC, CR
    or BEL that would clear a terminal or forge lines of a CI log.
    """
    if not any(_is_control(char) for char in text):
        return shlex.quote(text)
    out = []
    for char in text:
        if char in "\\'":
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif _is_control(char):
            out.append(f"\\x{ord(char):02x}" if ord(char) < 0x80 else f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "$'" + "".join(out) + "'"


def _url_safe(target: str) -> str:
    """A path and query with control characters percent-encoded, as a client sends them."""
    return "".join(
        urllib.parse.quote(char, safe="") if _is_control(char) else char for char in target
    )


def curl_line(summary: RequestSummary, base_url: str = "") -> str:
    """Return a ``curl`` command that sends the request again, shell-quoted.

    A masked value (a secret) is a placeholder, ``<your NAME>``, to replace before running it.

    :param base_url: ``scheme://host:port`` of the server; ``$HTTPSERVER`` when empty. A
        request meant for another host is sent to its own URL through the server as the
        proxy (``--proxy``; over HTTPS with ``--insecure``: the certificate inside the tunnel
        is the test CA's).
    """
    target = _url_safe(placeholders(summary.path + (f"?{summary.query}" if summary.query else "")))
    # The placeholder must expand in the shell, so it stays outside the quotes.
    server = _shell_quote(base_url.rstrip("/")) if base_url else CURL_PLACEHOLDER
    parts = ["curl", "-X", _shell_quote(summary.method)]
    if summary.origin:
        parts.extend(["--proxy", server])
        if summary.origin.startswith("https:"):
            parts.append("--insecure")
        parts.append(_shell_quote(summary.origin + target))
    elif base_url:
        parts.append(_shell_quote(base_url.rstrip("/") + target))
    else:
        parts.append(CURL_PLACEHOLDER + _shell_quote(target))
    for name, value in summary.headers:
        parts.extend(["-H", _shell_quote(f"{name}: {placeholder(name, value)}")])
    if summary.body and not _body_was_cut(summary):
        parts.extend(["--data-raw", _shell_quote(placeholders(summary.body))])
    line = " ".join(parts)
    if summary.body and _body_was_cut(summary):
        line += "  # body left out: too long to show here"
    return line
