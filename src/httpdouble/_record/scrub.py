"""Secrets out of cassettes: values of secret headers, parameters, form fields and JSON keys
replaced by a placeholder before anything is written.

The names come from the same rules as the reports' masking
(:mod:`httpdouble._matching.secret_names`: ``Authorization``, ``Cookie``, ``Set-Cookie``,
``Proxy-Authorization``, every name containing password, token, secret, key or session, and
the names added with ``httpserver_secret_names``). Unlike a report's mask, a cassette keeps
nothing of the value (no prefix, no length), and ``HTTPDOUBLE_SHOW_SECRETS`` does not apply:
a cassette is committed to a repository.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from .._matching.secret_names import is_secret_header, is_secret_name

SCRUBBED = "<scrubbed>"
"""What a cassette holds instead of a secret value."""


def header(name: str, value: str) -> str:
    """Return a header's value for the cassette: scrubbed when it holds a credential.

    An auth scheme stays in front (``Bearer <scrubbed>``), so the cassette still says how
    the client authenticated.
    """
    if not is_secret_header(name):
        return value
    scheme, space, rest = value.partition(" ")
    if space and scheme.isalpha() and rest:
        return f"{scheme} {SCRUBBED}"
    return SCRUBBED


def headers(pairs: list[tuple[str, str]], leave_out: frozenset[str] = frozenset()) -> list[str]:
    """Return headers, in order, as ``"Name: value"`` lines with credentials scrubbed.

    :param leave_out: lower-case names not kept (what changes on every run, hop-by-hop).
    """
    return [f"{n}: {header(n, v)}" for n, v in pairs if n.lower() not in leave_out]


def query(query_string: str) -> str:
    """Return a query string with the values of secret parameters scrubbed (order kept)."""
    if not query_string:
        return query_string
    out = []
    for part in query_string.split("&"):
        name, equals, _ = part.partition("=")
        if equals and is_secret_name(urllib.parse.unquote_plus(name)):
            part = f"{name}={SCRUBBED}"
        out.append(part)
    return "&".join(out)


def scrubbed_params(query_string: str) -> set[str]:
    """Return the names of the parameters whose value a cassette's query scrubbed."""
    return {
        urllib.parse.unquote_plus(name)
        for name, _, value in (p.partition("=") for p in query_string.split("&"))
        if value == SCRUBBED
    }


def json_value(value: Any, secret: bool = False) -> Any:
    """Return a decoded JSON value with every value under a secret key scrubbed (a copy)."""
    if isinstance(value, dict):
        return {
            key: json_value(item, secret or is_secret_name(str(key)))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [json_value(item, secret) for item in value]
    if secret and value is not None:
        return SCRUBBED
    return value


def form(pairs: list[tuple[str, str]]) -> list[list[str]]:
    """Return form fields, in order, with the values of secret fields scrubbed."""
    return [[name, SCRUBBED if is_secret_name(name) else value] for name, value in pairs]


def without_scrubbed(value: Any) -> Any:
    """Return a decoded JSON value without the keys whose value was scrubbed (a copy).

    Replay matches the rest: the real secret a client sends can never equal the placeholder.
    """
    if isinstance(value, dict):
        return {k: without_scrubbed(v) for k, v in value.items() if v != SCRUBBED}
    if isinstance(value, list):
        return [without_scrubbed(item) for item in value]
    return value


def holds_scrubbed(value: Any) -> bool:
    """Return whether a decoded JSON value holds a scrubbed value anywhere."""
    if isinstance(value, dict):
        return any(holds_scrubbed(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_scrubbed(v) for v in value)
    return bool(value == SCRUBBED)
