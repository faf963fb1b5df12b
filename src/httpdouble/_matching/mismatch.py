"""A field of a request that missed its expectation: what was expected, what came.

A small value shared by the matchers, the findings, the masking and the reports.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One field of a request that did not meet a matcher's expectation.

    :param field: the part of the request (``uri``, ``method``, ``query_string``,
        ``header:<name>``, ``data``, ``json``).
    :param expected: what the matcher wanted, as readable text.
    :param actual: what the request had, as readable text.
    :param upstream: ``(actual, expected)`` as pytest-httpserver's ``difference()`` gives
        them (the raw values), where that differs from the text; used by ``==`` with a
        tuple and by unpacking. Not compared between two mismatches.
    """

    field: str
    expected: str
    actual: str
    upstream: tuple[Any, Any] | None = dataclasses.field(default=None, compare=False, repr=False)

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
