"""The one rule for what is a secret: names whose values are masked, and how they are masked.

The same names count for headers, query parameters, cookies, form fields, multipart
fields and JSON keys at any depth, in requests, responses and expectations: a name that
contains one of :data:`SECRET_WORDS` (any case), or one the user added with the
``httpserver_secret_names`` ini option or :func:`add_secret_names`. A few headers are
secrets by their whole name (``Authorization``, ``Cookie``...).

This module imports nothing of ours, so every layer may ask it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

SHOW_SECRETS_ENV = "HTTPDOUBLE_SHOW_SECRETS"

SECRET_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "key",  # api_key, apikey, private_key, X-Api-Key, Idempotency-Key
    "session",
)
"""A name that contains one of these (any case) holds a secret."""

NOT_SECRET = frozenset({"token_type", "token_type_hint"})
"""Names that contain a secret word but never hold a secret (OAuth's ``token_type: Bearer``)."""

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
"""Headers that are secrets by their whole name."""

_PREFIX = 2  # characters of a credential shown, at most a quarter of it
MASKED = re.compile(r"…\(len \d+\)")
"""What a masked value ends with; a value that has it is masked already."""

_configured: tuple[str, ...] = ()  # from the ini option, set again at each pytest start
_added: set[str] = set()  # from add_secret_names(), for the life of the process


def showing_secrets() -> bool:
    """Return whether ``HTTPDOUBLE_SHOW_SECRETS`` asks for secrets in full."""
    return os.environ.get(SHOW_SECRETS_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _checked(names: Iterable[object], where: str) -> tuple[str, ...]:
    from .._errors import HTTPDoubleUsageError  # late: only a mistake needs it

    out = []
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise HTTPDoubleUsageError(
                where,
                expected="names of keys, fields or headers, as non-empty strings",
                got=name,
                remedy="pass each name as a string, e.g. add_secret_names('pin', 'otp')",
            )
        out.append(name.strip().lower())
    return tuple(out)


def add_secret_names(*names: str) -> None:
    """Mask the values of these names too, in every report, for the rest of the process.

    A name counts as the built-in ones do: any header, query parameter, cookie, form or
    multipart field, or JSON key (at any depth) whose name contains it, in any case.
    Call it from a ``conftest.py`` (it runs in every xdist worker too); the
    ``httpserver_secret_names`` ini option does the same for a whole project.

    :param names: the extra names, e.g. ``"pin"``, ``"otp"``, ``"ssn"``.
    :raises HTTPDoubleUsageError: a name that is not a non-empty string.

    .. versionadded:: 0.2
    """
    _added.update(_checked(names, "add_secret_names"))


def configure_names(names: Iterable[str]) -> None:
    """Set the names from the ini option (replacing those of an earlier pytest start)."""
    global _configured
    _configured = _checked(names, "httpserver_secret_names")


def secret_names() -> tuple[str, ...]:
    """Return every word that makes a name secret: the built-in ones, then the added ones."""
    return SECRET_WORDS + _configured + tuple(sorted(_added - set(_configured)))


def is_secret_name(name: str) -> bool:
    """Return whether a key, field, parameter or cookie of this name holds a secret."""
    lower = name.lower()
    if lower in NOT_SECRET:
        return False
    return any(word in lower for word in SECRET_WORDS + _configured) or any(
        word in lower for word in _added
    )


def is_secret_header(name: str) -> bool:
    """Return whether a header's value is a credential (case-insensitive name)."""
    return name.lower() in SECRET_HEADERS or is_secret_name(name)


def mask(value: str) -> str:
    """Return ``value`` masked: ``'Bearer s3cr3t-token'`` becomes ``'Bearer s3…(len 19)'``.

    An auth scheme (a first word of letters) stays; of the rest, at most two characters
    and never more than a quarter of it are shown. The length is the whole value's.
    """
    if MASKED.search(value):
        return value  # masked already (a finding rebuilt from JSON)
    scheme, space, credential = value.partition(" ")
    if not (space and scheme.isalpha() and credential):
        scheme, space, credential = "", "", value
    shown = credential[: min(_PREFIX, len(credential) // 4)]
    return f"{scheme}{space}{shown}…(len {len(value)})"


def first_difference(expected: str | bytes, actual: str | bytes) -> int | None:
    """Return the 1-based position where two values first differ, ``None`` if equal."""
    if expected == actual:
        return None
    for position, (one, other) in enumerate(zip(expected, actual, strict=False), 1):
        if one != other:
            return position
    return min(len(expected), len(actual)) + 1


_SCHEME_MASKED = re.compile(r"^(?:([A-Za-z]+) )?\S*…\(len \d+\)$")


def placeholder(name: str, shown: str) -> str:
    """Return what a paste-ready line shows for a masked value: ``<your NAME>``.

    An auth scheme the masked value kept stays in front (``Bearer <your Authorization>``).
    A value that is not masked is returned as it is.
    """
    found = _SCHEME_MASKED.match(shown)
    if found is None:
        return shown
    scheme = found.group(1)
    return (f"{scheme} " if scheme else "") + f"<your {name}>"
