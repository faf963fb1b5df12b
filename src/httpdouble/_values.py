"""The base of our small immutable values (log entries, stamps, mismatches, findings, limits).

They were frozen dataclasses. A dataclass writes and compiles its ``__init__``, ``__repr__``,
``__eq__`` and ``__hash__`` when its module is imported, and ``slots=True`` builds the class
twice: 0.2 to 0.5 ms each, in every process that imports the server (issue 27). A
:class:`Value` subclass writes its own ``__init__`` and names its fields once, in
``__match_args__``; this base gives what the dataclass gave: equality and hash over the
fields, the same ``repr``, no assignment after ``__init__`` (``dataclasses.FrozenInstanceError``,
as before), pickling and :meth:`Value.replace`.

The bottom layer, beside ``_errors``: it imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any, ClassVar, Self


class Value:
    """Equality, hash, ``repr``, immutability and pickling from the fields in ``__match_args__``.

    A subclass sets ``__slots__ = __match_args__ = (field, ...)`` (in ``__init__``'s order:
    the ``repr``'s order too), takes each field by name in ``__init__`` and sets it with
    ``object.__setattr__``. Fields in ``_not_compared`` are left out of equality and hash (a
    dataclass field's ``compare=False``), those in ``_not_shown`` out of ``repr``
    (``repr=False``).
    """

    __slots__ = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()
    _not_compared: ClassVar[frozenset[str]] = frozenset()
    _not_shown: ClassVar[frozenset[str]] = frozenset()

    def _compared(self) -> tuple[Any, ...]:
        skip = self._not_compared
        return tuple(getattr(self, name) for name in self.__match_args__ if name not in skip)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash(self._compared())

    def __repr__(self) -> str:
        skip = self._not_shown
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}" for name in self.__match_args__ if name not in skip
        )
        return f"{type(self).__qualname__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), {n: getattr(self, n) for n in self.__match_args__}))

    def replace(self, **changes: Any) -> Self:
        """Return a copy with ``changes`` (field names and new values), as
        ``dataclasses.replace`` did."""
        fields = {name: getattr(self, name) for name in self.__match_args__}
        unknown = sorted(set(changes) - set(fields))
        if unknown:
            raise TypeError(
                f"{type(self).__name__} has no field {', '.join(unknown)};"
                f" its fields: {', '.join(self.__match_args__)}"
            )
        fields.update(changes)
        return type(self)(**fields)


def _rebuild(cls: type[Value], fields: dict[str, Any]) -> Value:
    return cls(**fields)
