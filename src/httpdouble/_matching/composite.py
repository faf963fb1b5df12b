"""Matchers made of matchers: ``a & b``, ``a | b`` and ``~a``.

Each is a :class:`RequestMatcher` (so ``expect()``, ``assert_request_made()`` and
the log queries take it) that leaves every field of its own free and asks its
parts instead. Explained part by part: ``&`` lists what each part missed, ``|``
what the closer alternative missed, ``~`` that the request matched what it must not.
"""

from __future__ import annotations

from werkzeug.wrappers import Request

from .._errors import HTTPDoubleUsageError
from .mismatch import Mismatch
from .request_matcher import URI_DEFAULT, RequestMatcher


def _checked(parts: tuple[object, ...], operator: str) -> tuple[RequestMatcher, ...]:
    for part in parts:
        if not isinstance(part, RequestMatcher):
            raise HTTPDoubleUsageError(
                "matcher",
                expected=f"a RequestMatcher on each side of {operator!r}",
                got=part,
                remedy="build one with RequestMatcher('/path', method='GET')",
            )
    return parts  # type: ignore[return-value]


class _Composite(RequestMatcher):
    """The shared part of :class:`AllOf` and :class:`AnyOf`."""

    _operator = ""

    def __init__(self, *parts: RequestMatcher) -> None:
        super().__init__(URI_DEFAULT)
        flat: list[RequestMatcher] = []
        for part in _checked(parts, self._operator):
            # (a & b) & c is a & b & c: one level, numbered in reading order.
            flat.extend(part.parts if type(part) is type(self) else (part,))
        self.parts: tuple[RequestMatcher, ...] = tuple(flat)

    @property
    def exact_path(self) -> str | None:
        """Always ``None``: a composite is scanned, never indexed by path."""
        return None

    @property
    def exact_method(self) -> str | None:
        """Always ``None``: a composite is scanned, never indexed by method."""
        return None

    def describe(self) -> str:
        """Return the parts' summaries, joined by the operator."""
        return f" {self._operator} ".join(f"({part.describe()})" for part in self.parts)

    def __repr__(self) -> str:
        return f" {self._operator} ".join(repr(part) for part in self.parts)


class AllOf(_Composite):
    """``a & b``: matches a request every part matches.

    Its difference lists each part's differences, in order.

    .. versionadded:: 0.2
    """

    _operator = "&"

    def match(self, request: Request) -> bool:
        """Return whether every part matches ``request``."""
        return all(part.match(request) for part in self.parts)

    def difference(self, request: Request) -> list[Mismatch]:
        """Return every part's differences, each once."""
        found: list[Mismatch] = []
        for part in self.parts:
            found.extend(m for m in part.difference(request) if m not in found)
        return found


class AnyOf(_Composite):
    """``a | b``: matches a request at least one part matches.

    Its difference is the closer alternative's, each line marked
    ``(alternative N of M)``.

    .. versionadded:: 0.2
    """

    _operator = "|"

    def match(self, request: Request) -> bool:
        """Return whether some part matches ``request``."""
        return any(part.match(request) for part in self.parts)

    def difference(self, request: Request) -> list[Mismatch]:
        """Return the differences of the alternative closest to ``request``."""
        from .ranking import closest  # late: _ranking imports _matching

        if self.match(request):
            return []
        nearest = closest(self.parts, request)
        assert nearest is not None  # a composite has at least one part
        chosen, found = nearest
        place = f"(alternative {self.parts.index(chosen) + 1} of {len(self.parts)})"
        return [Mismatch(f"{m.field} {place}", m.expected, m.actual) for m in found]


class Not(RequestMatcher):
    """``~a``: matches a request ``a`` does not match.

    .. versionadded:: 0.2
    """

    def __init__(self, part: RequestMatcher) -> None:
        super().__init__(URI_DEFAULT)
        self.part: RequestMatcher = _checked((part,), "~")[0]

    @property
    def exact_path(self) -> str | None:
        """Always ``None``: a negation is scanned, never indexed by path."""
        return None

    @property
    def exact_method(self) -> str | None:
        """Always ``None``: a negation is scanned, never indexed by method."""
        return None

    def match(self, request: Request) -> bool:
        """Return whether the part does not match ``request``."""
        return not self.part.match(request)

    def difference(self, request: Request) -> list[Mismatch]:
        """One line when the part matches: the request was expected not to."""
        if not self.part.match(request):
            return []
        return [Mismatch("not", f"not to match {self.part.describe()}", "a request that matches")]

    def describe(self) -> str:
        """Return ``not (...)`` around the part's summary."""
        return f"not ({self.part.describe()})"

    def __invert__(self) -> RequestMatcher:
        """``~~a`` is ``a``."""
        return self.part

    def __repr__(self) -> str:
        return f"~{self.part!r}"
