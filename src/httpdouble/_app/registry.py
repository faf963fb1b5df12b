"""The registry: every handler by lifetime, and the lookup that finds one for a request.

Lookup order (documented in the user's guide):

1. if ordered handlers are registered, the head of that list;
2. oneshot handlers and counted handlers (``times=N``), oldest first (a oneshot
   handler is removed when used, a counted one after its N-th use);
3. permanent handlers, oldest first.

A counted handler sits with the oneshot ones because it is used up like them: it
is looked up before every permanent handler, whenever it was registered. An
ordered handler with ``times=N`` stays at the head of the ordered list for N
requests.

While ordered handlers are waiting, a request that does not match the head is
out of order: from then on every request is refused until ``clear()``, as in
pytest-httpserver. With ``ordered_fall_through`` (an opt-in), only a request
matching a later ordered handler is out of order; one that matches no ordered
handler at all goes on to steps 2 and 3.

Oneshot and permanent handlers are indexed by (method, exact path), so the
cost of a lookup does not grow with the number of handlers on other paths;
regex, pattern and any-path matchers are scanned, and the oldest match across
index and scan wins, so the documented order holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import ClassVar

from werkzeug.wrappers import Request

from .._matching.mismatch import Mismatch
from .._matching.query import BooleanQueryMatcher, MappingQueryMatcher, StringQueryMatcher
from .._matching.request_matcher import UNDEFINED, RequestMatcher
from .expectations import HandlerType, RequestHandler


class RequestHandlerList(list[RequestHandler]):
    """A list of handlers, as ``handlers`` and ``oneshot_handlers`` return (a copy)."""

    def match(self, request: Request) -> RequestHandler | None:
        """Return the first handler whose matcher matches ``request``, or ``None``."""
        for handler in self:
            if handler.matcher.match(request):
                return handler
        return None


class HandlerList:
    """Handlers of one lifetime, oldest first, indexed by (method, exact path)."""

    __slots__ = ("_all", "_index", "_scan")

    def __init__(self) -> None:
        self._all: dict[int, RequestHandler] = {}
        self._index: dict[tuple[str | None, str], list[RequestHandler]] = {}
        self._scan: list[RequestHandler] = []

    def add(self, handler: RequestHandler) -> None:
        self._all[handler.seq] = handler
        path = handler.matcher.exact_path
        if path is None:
            self._scan.append(handler)
        else:
            self._index.setdefault((handler.matcher.exact_method, path), []).append(handler)

    def remove(self, handler: RequestHandler) -> None:
        del self._all[handler.seq]
        path = handler.matcher.exact_path
        if path is None:
            self._scan.remove(handler)
        else:
            key = (handler.matcher.exact_method, path)
            bucket = self._index[key]
            bucket.remove(handler)
            if not bucket:
                del self._index[key]

    def find(self, request: Request) -> RequestHandler | None:
        """Return the oldest handler whose matcher matches ``request``."""
        if not self._all:
            return None
        path = request.path
        best: RequestHandler | None = None
        for candidates in (
            self._index.get((request.method.upper(), path)),
            self._index.get((None, path)),
            self._scan,
        ):
            if not candidates:
                continue
            for handler in candidates:
                if best is not None and handler.seq > best.seq:
                    break
                if handler.matcher.match(request):
                    best = handler
                    break
        return best

    def __iter__(self) -> Iterator[RequestHandler]:
        return iter(list(self._all.values()))

    def __len__(self) -> int:
        return len(self._all)

    def __bool__(self) -> bool:
        return bool(self._all)

    def clear(self) -> None:
        self._all.clear()
        self._index.clear()
        self._scan.clear()


def _retire(handlers: Iterable[RequestHandler]) -> None:
    """``forget_framed(retire=True)`` of each handler, in line: one call for a whole list
    at each test's teardown rather than one per handler."""
    for handler in handlers:
        handler.retired = True
        reply = handler.reply
        if reply is not None and reply.framed:
            reply.framed.clear()


def _head_only(matcher: RequestMatcher) -> bool:
    """Whether ``matcher`` decides on the request head alone, with no code of the user's."""
    uri = matcher.uri
    return (
        type(matcher) is RequestMatcher
        and not matcher.checks
        and not matcher.headers
        and matcher.host_matcher is None
        and matcher.data is None
        and matcher.json is UNDEFINED
        and (type(uri) is str or isinstance(uri, re.Pattern))
        and (matcher.query_matcher is None or type(matcher.query_matcher) in _OUR_QUERY_MATCHERS)
    )


_OUR_QUERY_MATCHERS = (StringQueryMatcher, MappingQueryMatcher, BooleanQueryMatcher)


class Lookup:
    """Result of :meth:`Registry.lookup`, besides the handler: one of four constants.

    Compared with ``is``. Not an :class:`enum.Enum`: making one costs every import about
    0.1 ms (issue 27), and nothing here needs more than four distinct objects.
    """

    __slots__ = ("name",)
    FOUND: ClassVar[Lookup]
    NO_HANDLER: ClassVar[Lookup]
    OUT_OF_ORDER: ClassVar[Lookup]
    REFUSED: ClassVar[Lookup]

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<Lookup.{self.name}>"


Lookup.FOUND = Lookup("FOUND")
Lookup.NO_HANDLER = Lookup("NO_HANDLER")
Lookup.OUT_OF_ORDER = Lookup("OUT_OF_ORDER")
Lookup.REFUSED = Lookup("REFUSED")


class Registry:
    """Every registered handler, by lifetime. Not locked: the caller holds the lock."""

    def __init__(self) -> None:
        self.ordered: list[RequestHandler] = []
        self.oneshot = HandlerList()
        self.permanent = HandlerList()
        self.permanently_failed = False
        self.ordered_fall_through = False
        # Oneshot, counted and ordered handlers used up since the last clear: the teardown
        # check names the one that took the request an unused expectation was meant for.
        self.used_up: list[RequestHandler] = []
        # Whether some matcher reads the body: then the dispatcher reads it before it
        # takes its lock, so a client slow to send a body holds up its own connection only.
        self.needs_body = False
        # Changed by every change of what a lookup can find (see ``answers_again``).
        self.version = 0
        # Handlers whose matcher reads more than the request head, or runs code of the user's.
        self._not_head_only = 0

    def answers_again(self) -> bool:
        """Whether a lookup's answer holds for the same request head until ``version`` changes.

        True when only permanent handlers are registered and each of them matches on the
        request head alone, with no code of the user's (a plain ``RequestMatcher``: method,
        path or regular expression, query string; no headers, which may use user
        comparators, no host, body or richer checks). The I/O loop then answers a head it
        has answered before on that connection without parsing and looking it up again.
        """
        return not (
            self.ordered
            or self.oneshot
            or self.permanently_failed
            or self.needs_body
            or self._not_head_only
        )

    def add(self, handler: RequestHandler) -> None:
        matcher = handler.matcher
        self.version += 1
        if not _head_only(matcher):
            self._not_head_only += 1
        if (
            matcher.data is not None
            or matcher.json is not UNDEFINED
            or type(matcher) is not RequestMatcher  # its own match() may read the body
            or any(check.reads_body for check in matcher.checks)
        ):
            self.needs_body = True
        if handler.handler_type is HandlerType.ORDERED:
            self.ordered.append(handler)
        elif handler.settles:  # oneshot, or counted (times=N): both are used up
            self.oneshot.add(handler)
        else:
            self.permanent.add(handler)

    def lookup(self, request: Request) -> tuple[Lookup, RequestHandler | None]:
        """Find the handler for ``request`` and use it up if it is oneshot or ordered.

        For ``OUT_OF_ORDER`` the handler returned is the later ordered one the request
        matched, or ``None``.
        """
        if self.permanently_failed:
            return Lookup.REFUSED, None
        if self.ordered:
            head = self.ordered[0]
            if head.matcher.match(request):
                if head.use():
                    self.version += 1
                    del self.ordered[0]
                    head.forget_framed(retire=True)
                    self.used_up.append(head)
                return Lookup.FOUND, head
            later = next((h for h in self.ordered[1:] if h.matcher.match(request)), None)
            if later is not None or not self.ordered_fall_through:
                self.version += 1
                self.permanently_failed = True
                return Lookup.OUT_OF_ORDER, later
        handler = self.oneshot.find(request)
        if handler is not None:
            if handler.use():
                self.version += 1
                self.oneshot.remove(handler)
                handler.forget_framed(retire=True)
                self.used_up.append(handler)
            return Lookup.FOUND, handler
        handler = self.permanent.find(request)
        if handler is not None:
            return Lookup.FOUND, handler
        return Lookup.NO_HANDLER, None

    def discard(self, handler: RequestHandler) -> None:
        """Remove a oneshot or counted handler not used up yet (gone already: nothing)."""
        if handler in list(self.oneshot):
            self.version += 1
            self.oneshot.remove(handler)

    def pending(self) -> list[RequestHandler]:
        """Return the oneshot, counted and ordered handlers not used up yet."""
        return [*self.ordered, *self.oneshot]

    def all_matchers(self) -> list[RequestMatcher]:
        """Return every registered matcher: ordered, oneshot, permanent."""
        return [h.matcher for h in (*self.ordered, *self.oneshot, *self.permanent)]

    def closest(self, request: Request) -> tuple[RequestHandler, list[Mismatch]] | None:
        """Return the handler ``request`` was most likely meant for, and how it differs."""
        from .._matching.ranking import closest  # on a miss only: difflib and friends

        handlers = [*self.ordered, *self.oneshot, *self.permanent]
        best = closest((h.matcher for h in handlers), request)
        if best is None:
            return None
        matcher, diff = best
        return next(h for h in handlers if h.matcher is matcher), diff

    def shadowed_by(self, handler: RequestHandler) -> RequestHandler | None:
        """Return an earlier handler that answers every request ``handler`` would match.

        Only a permanent handler can hide another for good, and only a later permanent
        one: ordered and oneshot handlers are looked up first, and a oneshot one is used
        up after one request. See :func:`~httpdouble._matching.ranking.covers` for "every request".
        """
        if handler.settles:
            return None
        from .._matching.ranking import covers

        for earlier in self.permanent:
            if earlier.seq >= handler.seq:
                return None
            if covers(earlier.matcher, handler.matcher):
                return earlier
        return None

    def taker(self, request: Request, unused: RequestHandler) -> RequestHandler | None:
        """Return the handler, other than ``unused``, that answered ``request``.

        The first in lookup order (used-up ones included) whose matcher matches it.
        """

        def by_seq(handler: RequestHandler) -> int:
            return handler.seq

        used = [*self.ordered, *self.oneshot, *self.used_up]
        ordered = sorted((h for h in used if h.handler_type is HandlerType.ORDERED), key=by_seq)
        oneshot = sorted(
            (h for h in used if h.handler_type is not HandlerType.ORDERED), key=by_seq
        )
        candidates: list[RequestHandler] = [*ordered, *oneshot, *self.permanent]
        for handler in candidates:
            if handler is not unused and handler.matcher.match(request):
                return handler
        return None

    def clear(self) -> None:
        self.version += 1
        self._not_head_only = 0
        self.permanently_failed = self.needs_body = False
        # Without copying the lists, or a call where there is nothing to clear: this runs
        # at every test's teardown (issue 27).
        if self.ordered:
            _retire(self.ordered)
            self.ordered.clear()
        if self.oneshot._all:
            _retire(self.oneshot._all.values())
            self.oneshot.clear()
        if self.permanent._all:
            _retire(self.permanent._all.values())
            self.permanent.clear()
        if self.used_up:
            self.used_up.clear()

    def format(self) -> str:
        """Return every matcher, by kind, as readable text."""
        lines: list[str] = []
        for title, handlers in (
            ("Ordered matchers (next first)", list(self.ordered)),
            ("Oneshot matchers", list(self.oneshot)),
            ("Permanent matchers", list(self.permanent)),
        ):
            lines.append(f"{title}:")
            lines.extend(
                f"    {h.matcher!r}" + (f" ({h.usage()})" if h.times is not None else "")
                for h in handlers
            )
            if not handlers:
                lines.append("    none")
        if self.permanently_failed:
            lines.append("The server refuses every request: an ordered request was out of order.")
        return "\n".join(lines)
