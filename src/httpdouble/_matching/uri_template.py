"""Path templates: ``URITemplate("/users/{id}")`` matches ``/users/42``, and names the 42."""

from __future__ import annotations

import re
from typing import Final

from werkzeug.wrappers import Request

from .._errors import HTTPDoubleUsageError
from .uri import URIPattern

# Each converter: the regex of what it accepts, and how the text becomes the value.
_CONVERTERS: Final = {
    "": r"[^/]+",
    "int": r"[0-9]+",
    "path": r".+",
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class URITemplate(URIPattern):
    """A path with named parts: ``URITemplate("/users/{id}/posts/{post:int}")``.

    ``{name}`` matches one path segment (no ``/``), ``{name:int}`` digits (read as an
    ``int``), ``{name:path}`` the rest of the path, slashes included. Everything else
    must equal the request path (decoded, as ``request.path`` is), and the whole path
    must match. ``{{`` and ``}}`` stand for literal braces.

    A plain ``str`` uri stays an exact path, as in pytest-httpserver: ``"/a/{id}"``
    matches only the path with those braces. Pass a ``URITemplate`` to use the names.

    A handler function reads the values with :meth:`params`::

        users = URITemplate("/users/{id:int}")
        httpserver.expect_request(users).respond_with_handler(
            lambda request: Response(f"user {users.params(request)['id']}")
        )

    :raises HTTPDoubleUsageError: for a template not starting with ``/``, a name used
        twice, an empty or invalid name, or an unknown converter.

    .. versionadded:: 0.2
    """

    def __init__(self, template: str) -> None:
        if not isinstance(template, str) or not template.startswith("/"):
            raise HTTPDoubleUsageError(
                "template",
                expected="a path template starting with '/'",
                got=template,
                remedy="pass e.g. URITemplate('/users/{id}')",
            )
        self.template = template
        self._ints: frozenset[str] = frozenset()
        self._regex = self._compile(template)

    def _compile(self, template: str) -> re.Pattern[str]:
        pieces: list[str] = []
        names: list[str] = []
        ints: set[str] = set()
        position = 0
        literal = template.replace("{{", "\0").replace("}}", "\1")
        for found in _PLACEHOLDER.finditer(literal):
            pieces.append(_literal(literal[position : found.start()]))
            name, _, converter = found.group(1).partition(":")
            if not _NAME.fullmatch(name) or name in names or converter not in _CONVERTERS:
                raise HTTPDoubleUsageError(
                    "template",
                    expected="placeholders {name}, {name:int} or {name:path},"
                    " each name a Python identifier, used once",
                    got=f"{{{found.group(1)}}} in {template!r}",
                    remedy="rename or fix the placeholder; write {{ and }} for literal braces",
                )
            names.append(name)
            if converter == "int":
                ints.add(name)
            pieces.append(f"(?P<{name}>{_CONVERTERS[converter]})")
            position = found.end()
        rest = literal[position:]
        if "{" in rest or "}" in rest:
            raise HTTPDoubleUsageError(
                "template",
                expected="balanced braces",
                got=template,
                remedy="write {{ and }} for literal braces",
            )
        pieces.append(_literal(rest))
        self._ints = frozenset(ints)
        return re.compile("".join(pieces))

    def match(self, uri: str) -> bool:
        """Return whether the whole path ``uri`` fits the template."""
        return self._regex.fullmatch(uri) is not None

    def params(self, request: Request | str) -> dict[str, str | int]:
        """Return the named parts of a request's path (or of a path), by name.

        :raises ValueError: when the path does not fit the template.
        """
        path = request if isinstance(request, str) else request.path
        found = self._regex.fullmatch(path)
        if found is None:
            raise ValueError(f"path {path!r} does not fit {self!r}")
        return {
            name: int(value) if name in self._ints else value
            for name, value in found.groupdict().items()
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, URITemplate) and other.template == self.template

    def __hash__(self) -> int:
        return hash((URITemplate, self.template))

    def __repr__(self) -> str:
        return f"URITemplate({self.template!r})"


def _literal(text: str) -> str:
    return re.escape(text.replace("\0", "{").replace("\1", "}"))
