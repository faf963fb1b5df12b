"""Request matching: what a request must look like and, field by field, why it did not; the richer
checks, composites, ranking of near misses, query and URI matchers, and the masking of secrets
in what a mismatch shows. It may import _wire and _errors only: no sockets, no report, no app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def typed_kwargs_getattr(owner: str, names: frozenset[str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` handing on ``names`` from ``typed_kwargs`` on first access.

    The ``TypedDict`` types of a matcher's keyword arguments are for typing code only: their
    module loads when one is first read from a path it was public at (issue 27, round 3).
    """

    def __getattr__(name: str) -> Any:
        if name in names:
            from . import typed_kwargs

            return getattr(typed_kwargs, name)
        raise AttributeError(f"module {owner!r} has no attribute {name!r}")

    return __getattr__
