"""Secrets kept out of what we print: credentials in headers, query strings, bodies and
differences, masked.

Reports, no-handler bodies, teardown failures, JSON and JUnit output are read in CI logs
that many people see, so a credential a test sends (or expects) is shown masked there:
its scheme, a short prefix and its length, enough to tell two values apart, and, for an
expected and actual pair, the position where they first differ. Setting the environment
variable ``HTTPDOUBLE_SHOW_SECRETS=1`` shows them in full.

Which names are secrets is decided in one place, :mod:`httpdouble._matching.secret_names`; bodies
are masked by :mod:`httpdouble._matching.body_masking`. Findings are masked where they are built
(:class:`~httpdouble.RequestSummary` and :class:`~httpdouble.Finding`), and logged
exchanges where they become builtins (:mod:`httpdouble._report.exchanges`), so every output
made from them (terminal, JSON, HTML, JUnit, pytest-html) is masked alike.
"""

from __future__ import annotations

import ast
import re

from .body_masking import PAIR, mask_form, mask_multipart, mask_pairs, masked_value, value_end
from .mismatch import Mismatch
from .secret_names import (
    MASKED,
    SHOW_SECRETS_ENV,
    first_difference,
    is_secret_header,
    is_secret_name,
    mask,
    showing_secrets,
)

__all__ = [
    "SHOW_SECRETS_ENV",
    "first_difference",
    "header_value",
    "is_secret_header",
    "is_secret_name",
    "is_secret_param",
    "mask",
    "mismatch",
    "query",
    "showing_secrets",
    "text",
]

_MASKED = MASKED
is_secret_param = is_secret_name  # one rule for every name (kept for its callers)

# ``header Name='value'`` in a matcher's description.
_DESCRIBED_HEADER = re.compile(r"header ([^=\s]+)=('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")")
# The names inside a difference's field: ``user.password``, ``items[0]``, ``['a b']``.
_FIELD_NAME = re.compile(r"\['((?:[^'\\]|\\.)*)'\]|[A-Za-z_][\w-]*")
# Words that start a shown value which is a description, not a value.
_EXTRA = re.compile(
    r"^(extra key '(?:[^'\\]|\\.)*': |extra field '(?:[^'\\]|\\.)*' = |extra item )"
)


def header_value(name: str, value: str) -> str:
    """Return a request header's value as shown: masked when it is a credential."""
    if showing_secrets() or not is_secret_header(name):
        return value
    return mask(value)


def query(query_string: str) -> str:
    """Return a query string with the values of credential-like parameters masked."""
    if showing_secrets():
        return query_string
    return mask_form(query_string)


def _mask_header(match: re.Match[str]) -> str:
    name = match.group(1)
    if not is_secret_header(name) or "…" in match.group(2):
        return match.group(0)
    value = _unquote(match.group(2))
    return f"header {name}={'…' if value is None else repr(mask(value))}"


def text(described: str) -> str:
    """Return a text that shows values by name (a matcher's description, a difference, a
    body shown in part) with the values of secret names masked.

    Covers ``header Name='value'`` for credential headers, ``'name': value`` and
    ``"name": value`` pairs at any depth (a repr, a JSON text), ``name=value`` pairs (a
    query string, a form body) and the parts of a multipart body.
    """
    if showing_secrets() or not described:
        return described
    masked = _DESCRIBED_HEADER.sub(_mask_header, described)
    masked = mask_pairs(masked)
    if "name=" in masked:
        masked = mask_multipart(masked)
    return PAIR.sub(_mask_query_pair, masked)


def _mask_query_pair(match: re.Match[str]) -> str:
    name, value = match.group(1), match.group(2)
    if not is_secret_name(name) or "…" in value:
        return match.group(0)
    return f"{name}={mask(value)}"


def _unquote(shown: str) -> str | None:
    try:
        value = ast.literal_eval(shown)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _secret_field(field: str) -> bool:
    """Whether a difference's field names a secret: ``json user.password``, ``form token``.

    Any field whose words after the first (``json``, ``json_contains``, ``form``,
    ``query_string``, and a new body argument such as ``data_form`` alike) name a key,
    field or parameter is checked the same way, by :func:`is_secret_name`.
    """
    kind, _, where = field.partition(" ")
    if kind == "multipart":  # ``multipart NAME content``: only the content is secret
        name, _, part = where.rpartition(" ")
        return part == "content" and is_secret_name(name)
    if kind in ("header", "cookie") or where.startswith("at byte "):
        return False  # headers have their own rule; cookies are masked where they are built
    return any(
        is_secret_name(found.group(1) if found.group(1) is not None else found.group(0))
        for found in _FIELD_NAME.finditer(where)
    )


def _leading_value(shown: str) -> tuple[str, str, str]:
    """Split a shown value into ``(words before it, the value as shown, what follows)``."""
    extra = _EXTRA.match(shown)
    before = extra.group(0) if extra else ""
    rest = shown[len(before) :]
    if not rest or not (rest[0] in "'\"[{(-" or rest[0].isdigit() or rest[:2] in ("b'", 'b"')):
        return before, "", rest  # a description: "missing key 'x'", "no such part"
    end = value_end(rest, 0)
    return before, rest[:end], rest[end:]


def _literal_or_none(shown: str) -> object:
    try:
        return ast.literal_eval(shown)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def _masked_values(found: Mismatch) -> Mismatch:
    """Both sides of a difference under a secret name, masked; the actual side says where
    the two first differ, so a wrong password is still told from a right one."""
    e_before, e_value, e_after = _leading_value(found.expected)
    a_before, a_value, a_after = _leading_value(found.actual)
    expected = e_before + masked_value(e_value) + text(e_after)
    actual = a_before + masked_value(a_value) + text(a_after)
    one, other = _literal_or_none(e_value), _literal_or_none(a_value)
    if (
        isinstance(one, (str, bytes))
        and type(one) is type(other)
        and not MASKED.search(e_value + a_value)
    ):
        assert isinstance(other, (str, bytes))
        position = first_difference(one, other)
        if position is not None:
            actual += f" (differ at char {position})"
    return Mismatch(found.field, expected, actual)


def mismatch(found: Mismatch) -> Mismatch:
    """Return a difference with credentials masked.

    For a credential header, and for a value under a secret name (``json user.password``,
    ``form client_secret``...), both sides are masked and the actual side says where the
    two values first differ (``differ at char 8``), so the difference stays visible.
    """
    if showing_secrets():
        return found
    kind, _, name = found.field.partition(" ")
    if _secret_field(found.field):
        return _masked_values(found)
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
