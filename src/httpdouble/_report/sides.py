"""Which side a difference points to: the request the code sent, or the test's expectation.

A teardown failure's ``to do`` reads the closest handler's differences: something the
expectation asks for and the request lacks is the request's to fix (the pasted handler for
the request as sent would drop that check); a number written as a string is the side that
has the string; any other value that differs could be either side's, and the line says so.
"""

from __future__ import annotations

import ast
import enum
import re

from .._matching.mismatch import Mismatch

_TYPED = re.compile(r"(?P<value>.*) \((?P<type>\w+)(?:, \d+ chars)?\)", re.DOTALL)
_NUMBERS = ("int", "float")


class Side(enum.Enum):
    """Where the fix goes."""

    REQUEST = "request"
    EXPECTATION = "expectation"
    EITHER = "either"


def _part(field: str) -> tuple[str, str]:
    """Split ``json items[9].qty`` into ``("json", "items[9].qty")``."""
    kind, _, where = field.partition(" ")
    return kind, where


def _typed(text: str) -> tuple[object, str] | None:
    """Read ``'-3.5' (str)`` back into ``("-3.5", "str")``; ``None`` when it is not one."""
    found = _TYPED.fullmatch(text)
    if found is None:
        return None
    try:
        return ast.literal_eval(found["value"]), found["type"]
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def _number_in_a_string(text: object) -> bool:
    if not isinstance(text, str):
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


_WHERE_SENT = {
    "host": "host: your code sent the request to {actual}, the handler is for {expected}: if"
    " your code calls that host on purpose, register a handler for it (the 'to match it' line"
    " above), else fix the URL your code calls",
    "scheme": "scheme: your code used {actual} where the handler has {expected} (a URL given"
    " as the uri matches its own scheme only): give the handler the scheme your code uses, or"
    " host= and a path for both",
}


def side_of(found: Mismatch) -> tuple[Side, str]:
    """Return the side a difference points to, and the to-do sentence that says so."""
    kind, where = _part(found.field)
    actual, expected = found.actual, found.expected
    if actual == "no such header":
        return Side.REQUEST, (
            f"your code sent no {where} header; the expectation asks for {expected}:"
            " make your code send it (keep the check: it is what the test is for)"
        )
    missing = re.match(r"missing (key|field|item)\b", actual)
    if missing:
        if kind == "json":
            place = f"JSON {where or 'item'}"
        else:
            place = f"{where} {'query parameter' if kind == 'query_string' else kind + ' field'}"
        return Side.REQUEST, (
            f"your code sent no {place}; the expectation has {expected}: make your code send it"
        )
    if kind == "json":
        typed_expected, typed_actual = _typed(expected), _typed(actual)
        if typed_expected and typed_actual and typed_expected[1] != typed_actual[1]:
            return _json_types(where or "the body", typed_expected, typed_actual)
    if kind in _WHERE_SENT:
        return Side.EITHER, _WHERE_SENT[kind].format(actual=actual, expected=expected)
    place = found.field
    return Side.EITHER, (
        f"{place}: your code sent {actual} where the expectation has {expected}: fix your"
        " code's request if the expectation is right, else the expectation"
    )


def _json_types(
    where: str, expected: tuple[object, str], actual: tuple[object, str]
) -> tuple[Side, str]:
    (want, want_type), (sent, sent_type) = expected, actual
    if _number_in_a_string(want) and sent_type in _NUMBERS:
        return Side.EXPECTATION, (
            f"json {where}: the expectation has the number in quotes ({want!r}); your code"
            f" sent the number {sent!r}: change the expectation to {sent!r}, unless the API"
            " takes a string there (then your code is the one to change)"
        )
    if _number_in_a_string(sent) and want_type in _NUMBERS:
        return Side.REQUEST, (
            f"json {where}: your code sent the number in quotes ({sent!r}); the expectation"
            f" has the number {want!r}: make your code send a number"
        )
    return Side.EITHER, (
        f"json {where}: your code sent a {sent_type} ({sent!r}), the expectation has a"
        f" {want_type} ({want!r}): the API's schema decides the type; change the side"
        " that does not follow it"
    )


def drops_a_check(differences: tuple[Mismatch, ...]) -> bool:
    """Whether a handler pasted for the request as sent would drop a check the test has."""
    return any(side_of(m)[0] is Side.REQUEST for m in differences)
