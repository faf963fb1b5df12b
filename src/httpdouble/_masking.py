"""Secrets kept out of what we print: credentials in headers and query strings, masked.

Reports, no-handler bodies, teardown failures, JSON and JUnit output are read in CI logs
that many people see, so a credential a test sends (or expects) is shown masked there:
its scheme, a short prefix and its length, enough to tell two values apart, and, for an
expected and actual pair, the position where they first differ. Setting the environment
variable ``HTTPDOUBLE_SHOW_SECRETS=1`` shows them in full.

Findings are masked where they are built (:class:`~httpdouble.RequestSummary` and
:class:`~httpdouble.Finding`), so every output made from them is masked alike.
"""

from __future__ import annotations

import ast
import os
import re

from ._mismatch import Mismatch

SHOW_SECRETS_ENV = "HTTPDOUBLE_SHOW_SECRETS"

_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_SECRET_HEADER_WORDS = ("token", "key", "secret")
_SECRET_PARAM_WORDS = ("token", "key", "secret", "password", "passwd")
_PREFIX = 2  # characters of a credential shown, at most a quarter of it
_MASKED = re.compile(r"…\(len \d+\)")

# ``name=value`` in a query string (raw, or quoted as a matcher shows it).
_QUERY_PAIR = re.compile(r"(?:(?<=^)|(?<=[?&'\"\s]))([^=&'\"\s]+)=([^&'\"\s#]+)")
# ``'name': 'value'`` or ``'name': ['a', 'b']`` in a mapping's repr.
_MAPPING_ITEM = re.compile(r"'([^'\\]*)': ('(?:[^'\\]|\\.)*'|\[[^\]]*\])")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'")
# ``header Name='value'`` in a matcher's description.
_DESCRIBED_HEADER = re.compile(r"header ([^=\s]+)=('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")")


def showing_secrets() -> bool:
    """Return whether ``HTTPDOUBLE_SHOW_SECRETS`` asks for secrets in full."""
    return os.environ.get(SHOW_SECRETS_ENV, "").strip().lower() not in ("", "0", "false", "no")


def is_secret_header(name: str) -> bool:
    """Return whether a header's value is a credential (case-insensitive name)."""
    lower = name.lower()
    return lower in _SECRET_HEADERS or any(word in lower for word in _SECRET_HEADER_WORDS)


def is_secret_param(name: str) -> bool:
    """Return whether a query parameter's value is a credential (case-insensitive name)."""
    lower = name.lower()
    return any(word in lower for word in _SECRET_PARAM_WORDS)


def mask(value: str) -> str:
    """Return ``value`` masked: ``'Bearer s3cr3t-token'`` becomes ``'Bearer s3…(len 19)'``.

    An auth scheme (a first word of letters) stays; of the rest, at most two characters
    and never more than a quarter of it are shown. The length is the whole value's.
    """
    if _MASKED.search(value):
        return value  # masked already (a finding rebuilt from JSON)
    scheme, space, credential = value.partition(" ")
    if not (space and scheme.isalpha() and credential):
        scheme, space, credential = "", "", value
    shown = credential[: min(_PREFIX, len(credential) // 4)]
    return f"{scheme}{space}{shown}…(len {len(value)})"


def first_difference(expected: str, actual: str) -> int | None:
    """Return the 1-based position where two strings first differ, ``None`` if equal."""
    if expected == actual:
        return None
    for position, (one, other) in enumerate(zip(expected, actual, strict=False), 1):
        if one != other:
            return position
    return min(len(expected), len(actual)) + 1


def header_value(name: str, value: str) -> str:
    """Return a request header's value as shown: masked when it is a credential."""
    if showing_secrets() or not is_secret_header(name):
        return value
    return mask(value)


def query(query_string: str) -> str:
    """Return a query string with the values of credential-like parameters masked."""
    if showing_secrets():
        return query_string
    return _QUERY_PAIR.sub(_mask_pair, query_string)


def _mask_pair(match: re.Match[str]) -> str:
    name, value = match.group(1), match.group(2)
    if not is_secret_param(name) or "…" in value:
        return match.group(0)
    return f"{name}={mask(value)}"


def _mask_quoted(match: re.Match[str]) -> str:
    try:
        value = ast.literal_eval(match.group(0))
    except (ValueError, SyntaxError):
        return "'…'"
    return repr(mask(value)) if isinstance(value, str) else match.group(0)


def _mask_item(match: re.Match[str]) -> str:
    name, value = match.group(1), match.group(2)
    if not is_secret_param(name) or "…" in value:
        return match.group(0)
    return f"'{name}': {_QUOTED.sub(_mask_quoted, value)}"


def _mask_header(match: re.Match[str]) -> str:
    name = match.group(1)
    if not is_secret_header(name) or "…" in match.group(2):
        return match.group(0)
    value = _unquote(match.group(2))
    return f"header {name}={'…' if value is None else repr(mask(value))}"


def text(described: str) -> str:
    """Return a matcher's description (or a query shown as text) with its credentials masked.

    Covers ``header Name='value'`` for credential headers, and credential-like parameters
    in a query string (``token=...``) or a mapping (``{'token': '...'}``).
    """
    if showing_secrets() or not described:
        return described
    masked = _DESCRIBED_HEADER.sub(_mask_header, described)
    masked = _MAPPING_ITEM.sub(_mask_item, masked)
    return _QUERY_PAIR.sub(_mask_pair, masked)


def _unquote(shown: str) -> str | None:
    try:
        value = ast.literal_eval(shown)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def mismatch(found: Mismatch) -> Mismatch:
    """Return a difference with credentials masked.

    For a credential header, both sides are masked and the actual side says where the
    two values first differ (``differ at char 8``), so the difference stays visible.
    """
    if showing_secrets():
        return found
    kind, _, name = found.field.partition(" ")
    if kind != "header" or not is_secret_header(name):
        return Mismatch(found.field, text(found.expected), text(found.actual))
    expected = _unquote(found.expected)
    actual = _unquote(found.actual)
    shown_expected = found.expected if expected is None else repr(mask(expected))
    if actual is None:  # "no such header", or masked already
        return Mismatch(found.field, shown_expected, found.actual)
    shown_actual = repr(mask(actual))
    if expected is not None and not _MASKED.search(expected):
        position = first_difference(expected, actual)
        if position is not None:
            shown_actual += f" (differ at char {position})"
    return Mismatch(found.field, shown_expected, shown_actual)
