"""Strict equality of decoded JSON values: what ``json=`` compares, on every request.

Apart from the richer checks (:mod:`.checks`) so that a matcher with ``json=`` and nothing
richer does not load them (issue 27).
"""

from __future__ import annotations

import enum
from typing import Any


def json_equal(expected: Any, actual: Any) -> bool:
    """Compare decoded JSON values strictly: ``true`` is not ``1``, ``1`` is ``1.0``.

    An :class:`enum.Enum` member in ``expected`` stands for its value, as ``json.dumps``
    writes it: ``Color.RED`` (a ``StrEnum`` of ``"red"``) equals ``"red"`` on the wire.
    """
    if isinstance(expected, enum.Enum):
        expected = expected.value
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return expected == actual
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(json_equal(expected[k], actual[k]) for k in expected)
        )
    if isinstance(expected, (list, tuple)):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(json_equal(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return type(expected) is type(actual) and bool(expected == actual)
