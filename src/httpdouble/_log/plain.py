"""Records with only the types ``marshal`` takes, for a request whose environ or headers
hold other objects (rare: loaded when first needed)."""

from __future__ import annotations

from typing import Any

_EXACT = frozenset((str, bytes, int, float, bool, type(None)))
_DROPPED = object()


def plain(value: Any, depth: int = 0) -> Any:
    """Return ``value`` with only types ``marshal`` takes: exact str, bytes, int, float, bool,
    None, tuples and dicts. Subclasses (a ``str`` enum, say) become their base type; in a dict,
    other objects are dropped, in a tuple they become their ``repr``.
    """
    kind = type(value)
    if kind in _EXACT:
        return value
    if depth > 20:  # deeper than any record: a container that holds itself
        return _DROPPED
    if isinstance(value, tuple | list):
        return tuple(repr(v) if (p := plain(v, depth + 1)) is _DROPPED else p for v in value)
    if isinstance(value, dict):
        return {str(k): p for k, v in value.items() if (p := plain(v, depth + 1)) is not _DROPPED}
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return _DROPPED
