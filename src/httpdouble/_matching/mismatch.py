"""A field of a request that missed its expectation: what was expected, what came.

A small value shared by the matchers, the findings, the masking and the reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._values import Value


class Mismatch(Value):
    """One field of a request that did not meet a matcher's expectation.

    :param field: the part of the request (``uri``, ``method``, ``query_string``,
        ``header:<name>``, ``data``, ``json``).
    :param expected: what the matcher wanted, as readable text.
    :param actual: what the request had, as readable text.
    :param upstream: ``(actual, expected)`` as pytest-httpserver's ``difference()`` gives
        them (the raw values), where that differs from the text; used by ``==`` with a
        tuple and by unpacking. Not compared between two mismatches.
    """

    __slots__ = __match_args__ = ("field", "expected", "actual", "upstream")
    _not_compared = _not_shown = frozenset({"upstream"})
    field: str
    expected: str
    actual: str
    upstream: tuple[Any, Any] | None

    def __init__(
        self, field: str, expected: str, actual: str, upstream: tuple[Any, Any] | None = None
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "field", field)
        set_field(self, "expected", expected)
        set_field(self, "actual", actual)
        set_field(self, "upstream", upstream)

    def __str__(self) -> str:
        if not self.expected and not self.actual:  # a note, such as "... and 3 more"
            return self.field
        return f"{self.field}: expected {self.expected}, got {self.actual}"

    def __iter__(self) -> Iterator[Any]:
        """Unpack as pytest-httpserver's difference tuples: ``(field, actual, expected)``."""
        if self.upstream is not None:
            return iter((self.field, *self.upstream))
        return iter((self.field, self.actual, self.expected))

    def __eq__(self, other: object) -> bool:
        # A tuple is pytest-httpserver's form of a difference: compare it as one.
        if isinstance(other, tuple):
            return tuple(self) == other
        if not isinstance(other, Mismatch):
            return NotImplemented
        return (self.field, self.expected, self.actual) == (
            other.field,
            other.expected,
            other.actual,
        )

    def __hash__(self) -> int:
        return hash((self.field, self.expected, self.actual))
