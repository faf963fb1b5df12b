"""What a matcher's ``uri`` may be: a path, a regex, a :class:`URIPattern` of the user's."""

from __future__ import annotations

import abc
import re


class URIPattern(abc.ABC):
    """Subclass to match paths with your own rule.

    Implement :meth:`match`; it gets the request path (without query string).
    """

    @abc.abstractmethod
    def match(self, uri: str) -> bool:
        """Return whether ``uri`` (the request path) matches."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


# No typing.Union of a string: that compiles the string at every import (issue 27).
URIType = str | URIPattern | re.Pattern[str]

# Values that can never stand for a path: rejected at registration instead of never matching.
_NOT_A_URI = (bytes, bytearray, int, float, list, tuple, dict, set, frozenset, type(None))


def is_uri(uri: object) -> bool:
    """A path, a pattern, a regex, or (as upstream) an object with its own ``__eq__``."""
    if isinstance(uri, (str, URIPattern, re.Pattern)):
        return True
    return not isinstance(uri, _NOT_A_URI) and type(uri).__eq__ is not object.__eq__


def is_url(uri: object) -> bool:
    """Return whether ``uri`` is a full ``http://`` or ``https://`` URL, not a path."""
    return isinstance(uri, str) and uri[:8].lower().startswith(("http://", "https://"))
