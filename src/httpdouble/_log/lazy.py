"""The werkzeug objects of a log entry, and of a request being looked up, built when first used.

Reading an entry used to rebuild a werkzeug ``Request`` (its environ parsed again from the
head the log kept) and a ``Response``: about 40 us an entry, paid by every ``log[-1]`` and
by every entry a matcher looked at. :class:`LazyRequest` and :class:`LazyResponse` are
those classes (``isinstance`` holds, every attribute and method works) whose ``__init__``
only keeps what the log stored; the first attribute the instance lacks builds it, once.

A request's ``method``, ``path`` and ``query_string`` come from the request line alone,
without the environ: a matcher that checks only those (most do, and they are checked
first) never builds the rest. They are the values werkzeug computes from the environ, by
the same steps (``tests/unit/test_log_lazy.py`` compares the two). The server looks each
request up through a :class:`LazyRequest` of its environ too (``_app/entry.py``).
"""

from __future__ import annotations

import io
import re
import sys
import threading
import urllib.parse
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from collections.abc import Callable

RawRequest = tuple[bytes, str, int, str, int, str]
"""A request the I/O loop served, as it arrived: its head (without the blank line), the
peer's address and port, the server's name and port, and the scheme. Packing it costs a
fraction of an environ's; the environ is rebuilt from it, the same one, when it is read."""

# One lock for every build: two threads reading one entry must not build it twice (they
# would see two environs). A build takes microseconds and happens once per entry.
_BUILDING = threading.RLock()


def _environ(items: dict[str, Any] | RawRequest, body: bytes | None) -> dict[str, Any]:
    if body is None:  # a live request's own environ: used as it is, never changed
        return items  # type: ignore[return-value]
    if type(items) is tuple:
        from .._wire.head import environ_of

        environ = environ_of(items, body)
    else:
        # ``items`` is a fresh dict from ``marshal.loads``, this entry's own: no copy needed
        environ = items  # type: ignore[assignment]
    environ["wsgi.input"] = io.BytesIO(body)
    environ["wsgi.errors"] = sys.stderr
    return environ


# An upper-case method, then a path of one leading slash and no escape, then maybe a query,
# then the version: what most requests send. For it, the steps of ``line_parts`` give the
# path and query as they are and the method unchanged; any other line takes those steps.
# Compiled at the first read of a line, not at import (issue 27: about 60 us an import).
_SIMPLE_LINE = rb"([A-Z]+) (/(?!/)[^?% \r\n]*)(?:\?(\S*))? "
_simple_match: Callable[[bytes], re.Match[bytes] | None] | None = None


def line_parts(items: dict[str, Any] | RawRequest) -> tuple[str, str, bytes]:
    """Return the ``method``, ``path`` and ``query_string`` werkzeug's ``Request`` has for
    a logged request, computed from its request line (or its environ) alone."""
    if type(items) is tuple:
        head: bytes = items[0]
        global _simple_match
        match = _simple_match
        if match is None:
            match = _simple_match = re.compile(_SIMPLE_LINE).match
        simple = match(head)
        if simple is not None:  # the common line: one regex call instead of the steps below
            method, raw_path, query = simple.groups()
            return method.decode("ascii"), raw_path.decode(errors="replace"), query or b""
        end = head.find(b"\r\n")
        method, target, _ = (head if end < 0 else head[:end]).split(b" ")
        raw_path, _, query = target.partition(b"?")
        if b"%" in raw_path:  # as the loop's parser did for PATH_INFO
            raw_path = urllib.parse.unquote_to_bytes(raw_path)
        # werkzeug: PATH_INFO (latin-1) encoded back to bytes and decoded as UTF-8
        path = raw_path.decode(errors="replace")
        return method.decode("ascii").upper(), "/" + path.lstrip("/"), query
    environ: dict[str, Any] = items  # type: ignore[assignment]
    path = (environ.get("PATH_INFO") or "").encode("latin1").decode(errors="replace")
    return (
        environ.get("REQUEST_METHOD", "GET").upper(),
        "/" + path.lstrip("/"),
        environ.get("QUERY_STRING", "").encode("latin1"),
    )


class _FromRequestLine:
    """``method``, ``path`` or ``query_string`` of a :class:`LazyRequest` not built yet, read
    from its request line when first asked for and kept in the instance (which then answers
    before this descriptor: it has no ``__set__``)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, request: LazyRequest | None, owner: type | None = None) -> Any:
        if request is None:
            return self
        try:  # not through ``__dict__``: asking for it makes the instance a dict of its own
            kept = _get(request, "_logged")
        except AttributeError:  # built, then deleted by its user
            raise AttributeError(self.name) from None
        method, path, query = line_parts(kept)
        _set(request, "method", method)
        _set(request, "path", path)
        _set(request, "query_string", query)
        return _get(request, self.name)


# Attributes set and read past the classes' own hooks. An instance whose ``__dict__`` was
# never asked for keeps its attributes inline, without a dict object: a log entry read and
# kept is then a few objects fewer for the collector to walk.
_set = object.__setattr__
_get = object.__getattribute__


class LazyRequest(Request):
    """A werkzeug ``Request`` built on first use (its environ too, for a logged one).

    :param items: the environ the log kept, or the request as the I/O loop read it.
    :param body: the request's body; ``None``: ``items`` is the environ of a request being
        served, which becomes ``environ`` as it is (the server looks requests up through
        these too: most lookups read the request line only).
    """

    def __init__(self, items: dict[str, Any] | RawRequest, body: bytes | None = None) -> None:
        # No Request.__init__ here: that is the build, on first use. Two attributes, not
        # a tuple: one object fewer an entry (``_logged`` is the marker of "not built").
        _set(self, "_logged", items)
        _set(self, "_logged_body", body)
        if body is None:  # looked up now: the request line's parts are read at once
            method, path, query = line_parts(items)
            _set(self, "environ", items)
            _set(self, "method", method)
            _set(self, "path", path)
            _set(self, "query_string", query)

    # A logged request reads them when first asked (``log[-1]`` alone needs none of them).
    method = _FromRequestLine()
    path = _FromRequestLine()
    query_string = _FromRequestLine()

    def _build(self) -> None:
        with _BUILDING:
            attributes = self.__dict__
            kept = attributes.get("_logged")
            if kept is None:  # built meanwhile by another thread
                return
            # Built apart, then moved in: __init__'s own assignments must not come back
            # here through __setattr__, and the marker goes last, once all is in place.
            built = Request(_environ(kept, attributes["_logged_body"]), populate_request=False)
            attributes.update(vars(built))
            del attributes["_logged_body"]
            del attributes["_logged"]

    def __setattr__(self, name: str, value: Any) -> None:
        # A change before the build would be overwritten by it: build first.
        if "_logged" in self.__dict__:
            self._build()
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if "_logged" in self.__dict__:
            self._build()
        super().__delattr__(name)

    def __getattr__(self, name: str) -> Any:
        # Only for what the instance lacks: once built, a missing name is really missing.
        if "_logged" not in self.__dict__ or name.startswith("__"):
            raise AttributeError(name)
        self._build()
        return object.__getattribute__(self, name)

    def __repr__(self) -> str:
        # werkzeug's words under werkzeug's name: a printed log reads as it always did
        return "<Request " + super().__repr__().partition(" ")[2]


class LazyResponse(Response):
    """A logged response: a werkzeug ``Response`` built on first use.

    :param status: the status code.
    :param headers: the header fields, as the log kept them.
    :param body: the body (a static reply's is shared by its entries: ``bytes`` is
        immutable, and ``set_data`` replaces it rather than changing it).
    """

    def __init__(self, status: int, headers: tuple[tuple[str, str], ...], body: bytes) -> None:
        # Three attributes, not a tuple (see LazyRequest); ``_logged`` is the marker.
        _set(self, "_logged", headers)
        _set(self, "_logged_status", status)
        _set(self, "_logged_body", body)

    def _build(self) -> None:
        with _BUILDING:
            attributes = self.__dict__
            headers = attributes.get("_logged")
            if headers is None:  # built meanwhile by another thread
                return
            status, body = attributes["_logged_status"], attributes["_logged_body"]
            built = Response(body, status=status, headers=list(headers))
            attributes.update(vars(built))
            del attributes["_logged_status"], attributes["_logged_body"]
            del attributes["_logged"]

    def __setattr__(self, name: str, value: Any) -> None:
        # ``set_data`` assigns ``response`` first: the build must not undo it.
        if "_logged" in self.__dict__:
            self._build()
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if "_logged" in self.__dict__:
            self._build()
        super().__delattr__(name)

    def __getattr__(self, name: str) -> Any:
        if "_logged" not in self.__dict__ or name.startswith("__"):
            raise AttributeError(name)
        self._build()
        return object.__getattribute__(self, name)

    def __repr__(self) -> str:
        return "<Response " + super().__repr__().partition(" ")[2]


_new = object.__new__


def logged_request(items: dict[str, Any] | RawRequest, body: bytes) -> LazyRequest:
    """Return ``LazyRequest(items, body)`` for a logged request, made without the class call
    (no ``__init__`` frame), as ``decoding.pair_of`` makes its pairs."""
    request: LazyRequest = _new(LazyRequest)
    _set(request, "_logged", items)
    _set(request, "_logged_body", body)
    return request
