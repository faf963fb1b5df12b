"""Differences inside a field: JSON values, raw bodies, forms and query arguments.

A matcher says *that* a field differs; this module says *where*, as short
``(where, expected, actual)`` triples the matcher turns into mismatches. It runs
only when something went wrong, never while matching.
"""

from __future__ import annotations

import enum
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

MAX_DIFFERENCES = 10
"""How many differences of one field are listed before "and N more"."""

VALUE_LIMIT = 80
"""How many characters of a value are shown; longer ones are cut around the difference."""

BYTES_CONTEXT = 24
"""How many bytes are shown on each side of the first differing byte."""

Difference = tuple[str, str, str]
"""``(where, expected, actual)``: ``where`` is appended to the field name (may be empty)."""

# Diffs only: compiled on first use, by re's own cache (issue 27).
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_-]*"


def elide_pair(expected: str, actual: str, limit: int = VALUE_LIMIT) -> tuple[str, str]:
    """Cut two texts to ``limit`` characters each, keeping the place where they first differ.

    A text that fits is returned whole; a longer one keeps a window that starts a
    little before the first differing character, with ``...`` where text was left out.
    """
    if len(expected) <= limit and len(actual) <= limit:
        return expected, actual
    at = next(
        (i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b),
        min(len(expected), len(actual)),
    )
    return _window(expected, at, limit), _window(actual, at, limit)


def _window(text: str, at: int, limit: int) -> str:
    if len(text) <= limit:
        return text
    start = max(0, min(at - limit // 3, len(text) - limit))
    end = start + limit
    return ("..." if start else "") + text[start:end] + ("..." if end < len(text) else "")


def _typed(value: Any) -> str:
    if value is None:
        return "None (null)"
    return f"{value!r} ({type(value).__name__})"


def _typed_pair(expected: Any, actual: Any) -> tuple[str, str]:
    shown_expected, shown_actual = elide_pair(repr(expected), repr(actual))
    return (
        _typed(expected)
        if shown_expected == repr(expected)
        else _with_type(shown_expected, expected),
        _typed(actual) if shown_actual == repr(actual) else _with_type(shown_actual, actual),
    )


def _with_type(shown: str, value: Any) -> str:
    return f"{shown} ({type(value).__name__}, {len(repr(value))} chars)"


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if re.fullmatch(_IDENTIFIER, key) else f"{path}[{key!r}]"


def _plain(value: Any) -> Any:
    """An expected value as ``json.dumps`` writes it: enum members by value, tuples as lists."""
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _json_walk(
    expected: Any, actual: Any, path: str, subset: bool = False
) -> Iterator[Difference]:
    # Same rules as json_equal: bool is not a number, 1 equals 1.0. With ``subset``,
    # keys ``actual`` has beyond ``expected`` are free, at every depth.
    expected = _plain(expected)
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in expected:
            where = _key_path(path, str(key))
            if key not in actual:
                yield where, _typed_pair(expected[key], None)[0], f"missing key {key!r}"
            else:
                yield from _json_walk(expected[key], actual[key], where, subset)
        if subset:
            return
        for key in actual:
            if key not in expected:
                yield (
                    _key_path(path, str(key)),
                    f"no key {key!r}",
                    f"extra key {key!r}: {_typed_pair(None, actual[key])[1]}",
                )
        return
    if isinstance(expected, list) and isinstance(actual, list):
        for index, (e, a) in enumerate(zip(expected, actual, strict=False)):
            yield from _json_walk(e, a, f"{path}[{index}]", subset)
        for index in range(len(actual), len(expected)):
            yield (
                f"{path}[{index}]",
                _typed_pair(expected[index], None)[0],
                f"missing item (the list has {len(actual)})",
            )
        for index in range(len(expected), len(actual)):
            yield (
                f"{path}[{index}]",
                f"no item (the list has {len(expected)})",
                f"extra item {_typed_pair(None, actual[index])[1]}",
            )
        return
    if _same_json(expected, actual):
        return
    yield (path, *_typed_pair(expected, actual))


def _same_json(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return expected == actual
    return type(expected) is type(actual) and bool(expected == actual)


def json_differences(expected: Any, actual: Any) -> list[Difference]:
    """Every place where the decoded JSON ``actual`` differs from ``expected``.

    ``where`` is a path such as ``items[9].qty`` (empty for the whole document).
    """
    return [(where.lstrip("."), e, a) for where, e, a in _json_walk(expected, actual, "")]


def json_subset_differences(expected: Any, actual: Any) -> list[Difference]:
    """As :func:`json_differences`, but keys of objects that ``expected`` lacks are free.

    Lists still compare item by item, by position, and must have the same length.
    """
    return [
        (where.lstrip("."), e, a) for where, e, a in _json_walk(expected, actual, "", subset=True)
    ]


def bytes_difference(expected: bytes, actual: bytes) -> Difference:
    """Where two bodies first differ: the offset, and a few bytes of each around it."""
    at = next(
        (i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b),
        min(len(expected), len(actual)),
    )

    def around(data: bytes) -> str:
        start = max(0, at - BYTES_CONTEXT)
        end = at + BYTES_CONTEXT
        shown = repr(data[start:end])
        if start:
            shown = "..." + shown
        if end < len(data):
            shown += "..."
        return f"{shown} ({len(data)} bytes)"

    return f"at byte {at}", around(expected), around(actual)


def _values(values: list[str]) -> str:
    return repr(values[0]) if len(values) == 1 else repr(values)


def _name(key: str) -> str:
    return key if re.fullmatch(_IDENTIFIER, key) else repr(key)


def mapping_differences(
    expected: Mapping[str, list[str]], actual: Mapping[str, list[str]]
) -> list[Difference]:
    """Field by field: missing, extra and different fields of a form or a query string."""
    found: list[Difference] = []
    for key, values in expected.items():
        if key not in actual:
            found.append((_name(key), _values(values), f"missing field {key!r}"))
        elif actual[key] != values:
            found.append((_name(key), *elide_pair(_values(values), _values(actual[key]))))
    found.extend(
        (_name(key), f"no field {key!r}", f"extra field {key!r} = {_values(values)}")
        for key, values in actual.items()
        if key not in expected
    )
    return found


def mapping_subset_differences(
    expected: Mapping[str, list[str]], actual: Mapping[str, list[str]]
) -> list[Difference]:
    """As :func:`mapping_differences`, but fields ``expected`` does not name are free."""
    return [d for d in mapping_differences(expected, actual) if not d[1].startswith("no field ")]


def parse_form(body: bytes) -> dict[str, list[str]] | None:
    """Decode an ``application/x-www-form-urlencoded`` body, or ``None`` when it is not one."""
    try:
        text = body.decode("utf-8")
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    parsed: dict[str, list[str]] = {}
    for key, value in pairs:
        parsed.setdefault(key, []).append(value)
    return parsed


def bounded(found: list[Difference], limit: int = MAX_DIFFERENCES) -> list[Difference]:
    """The first ``limit`` differences, then one line saying how many more there are."""
    if len(found) <= limit:
        return found
    rest = len(found) - limit
    # Expected and actual both empty: the mismatch renders as its field alone.
    return [*found[:limit], (f"... and {rest} more difference{'s' * (rest > 1)}", "", "")]
