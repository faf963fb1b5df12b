"""Header value comparison: which comparator decides whether a header's value matches.

Two matchers, as in pytest-httpserver 1.2.1:

* :class:`HeaderValueMatcher` looks the comparator up by the header name exactly as it was
  written in ``headers=``; the mapping it was given is used as it is (a ``defaultdict``
  supplies comparators for the names it lacks).
* :class:`CaseInsensitiveHeaderValueMatcher` looks it up by name without regard to case, from
  a copy taken at construction (opt-in: pass it as ``header_value_matcher``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, MutableMapping
from typing import ClassVar

from werkzeug.datastructures import Authorization

from .._errors import NoMethodFoundForMatchingHeaderValueError

HeaderComparator = Callable[[str | None, str], bool]
"""A comparator: ``(actual value or None when the header is missing, expected) -> bool``."""


def _authorization(actual: str | None, expected: str) -> bool:
    if actual is None:
        return False
    parsed_actual = Authorization.from_header(actual)
    parsed_expected = Authorization.from_header(expected)
    if parsed_actual is None or parsed_expected is None:
        return actual == expected
    return bool(parsed_actual == parsed_expected)


def _exact(actual: str | None, expected: str) -> bool:
    return actual == expected


class _DefaultComparators(defaultdict[str, HeaderComparator]):
    """The default comparators: ``Authorization`` by meaning, every other header as a string.

    A name missing in any case (``authorization``) finds its comparator case-insensitively,
    so ``headers={"authorization": ...}`` is compared by meaning too; other missing names get
    the string comparison. Neither is stored, so the mapping does not grow per header name.
    """

    def __missing__(self, key: str) -> HeaderComparator:
        lower = key.lower()
        for name, comparator in self.items():
            if name.lower() == lower:
                return comparator
        return super().__missing__(key) if self.default_factory is None else self.default_factory()


def _missing(name: str, known: list[str], case_insensitive: bool) -> Exception:
    how = "without regard to case" if case_insensitive else "exactly as written"
    remedy = (
        "add a comparator for it, or pass a collections.defaultdict whose factory"
        " returns the comparator for the other names"
    )
    if not case_insensitive:
        remedy += "; CaseInsensitiveHeaderValueMatcher looks names up without regard to case"
    return NoMethodFoundForMatchingHeaderValueError(
        f"No method found for matching header value: {name}\n"
        f"  expected: a comparator for header {name!r} (names looked up {how})\n"
        f"  got:      comparators for {sorted(known)!r}\n"
        f"  to fix:   {remedy}"
    )


class HeaderValueMatcher:
    """Compares one header's value with the expected one, as pytest-httpserver does.

    The comparator is looked up in ``matchers`` by the header name exactly as written in
    ``headers=``. Without ``matchers`` the class's ``DEFAULT_MATCHERS`` are used:
    ``Authorization`` compared by meaning (scheme case-insensitive, parameters parsed, in
    any order) and every other header as a string. A mapping you pass replaces the defaults
    and is used as it is (not copied); a name it lacks raises
    :class:`~httpdouble.NoMethodFoundForMatchingHeaderValueError`, unless it is a
    ``collections.defaultdict``. For lookups without regard to case, use
    :class:`CaseInsensitiveHeaderValueMatcher`.

    :param matchers: header name to comparator ``(actual or None, expected) -> bool``.

    .. versionchanged:: 0.3
       A mapping passed in replaces the defaults and names are looked up exactly, as in
       pytest-httpserver (before, names were case-insensitive and merged with the defaults).
    """

    DEFAULT_MATCHERS: ClassVar[MutableMapping[str, HeaderComparator]]

    def __init__(self, matchers: Mapping[str, HeaderComparator] | None = None) -> None:
        # Read at construction, as pytest-httpserver does: a changed DEFAULT_MATCHERS
        # reaches the matchers made after the change.
        self.matchers: Mapping[str, HeaderComparator] = (
            type(self).DEFAULT_MATCHERS if matchers is None else matchers
        )

    @staticmethod
    def authorization_header_value_matcher(actual: str | None, expected: str) -> bool:
        """Compare two ``Authorization`` values by meaning, not by spelling."""
        return _authorization(actual, expected)

    @staticmethod
    def default_header_value_matcher(actual: str | None, expected: str) -> bool:
        """Compare two header values as strings."""
        return _exact(actual, expected)

    def __call__(self, header_name: str, actual: str | None, expected: str) -> bool:
        try:
            comparator = self.matchers[header_name]
        except KeyError:
            raise _missing(header_name, list(self.matchers), case_insensitive=False) from None
        return comparator(actual, expected)


HeaderValueMatcher.DEFAULT_MATCHERS = _DefaultComparators(
    lambda: HeaderValueMatcher.default_header_value_matcher,
    {"Authorization": HeaderValueMatcher.authorization_header_value_matcher},
)


class CaseInsensitiveHeaderValueMatcher:
    """Compares header values, finding the comparator by name without regard to case.

    Opt in by passing it as ``header_value_matcher`` (or to ``bake``). Without ``matchers``
    it compares ``Authorization`` by meaning and every other header as a string, whatever
    ``HeaderValueMatcher.DEFAULT_MATCHERS`` holds.

    :param matchers: header name to comparator, replacing the built-in ones. The names are
        lower-cased into a copy taken now (when two differ only in case, the later wins);
        later changes to the mapping do not reach this matcher. A ``defaultdict``'s factory
        supplies the comparator for a name it lacks (nothing is stored); otherwise such a
        name raises :class:`~httpdouble.NoMethodFoundForMatchingHeaderValueError`.

    .. versionadded:: 0.3
    """

    def __init__(self, matchers: Mapping[str, HeaderComparator] | None = None) -> None:
        if matchers is None:
            matchers = defaultdict(lambda: _exact, {"Authorization": _authorization})
        self._matchers = {name.lower(): comparator for name, comparator in matchers.items()}
        self._default_factory: Callable[[], HeaderComparator] | None = (
            matchers.default_factory if isinstance(matchers, defaultdict) else None
        )

    def __call__(self, header_name: str, actual: str | None, expected: str) -> bool:
        comparator = self._matchers.get(header_name.lower())
        if comparator is None:
            if self._default_factory is None:
                raise _missing(header_name, list(self._matchers), case_insensitive=True)
            comparator = self._default_factory()
        return comparator(actual, expected)

    def __repr__(self) -> str:
        return f"<CaseInsensitiveHeaderValueMatcher for {sorted(self._matchers)!r}>"
