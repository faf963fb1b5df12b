"""Why no handler took a request: the closest handler, how it differs, what shadows it."""

from __future__ import annotations

from typing import Any, NamedTuple

from werkzeug.wrappers import Request

from .._matching.mismatch import Mismatch
from .._matching.request_matcher import RequestMatcher
from .._report.findings import out_of_order_words
from .._wire.target import TUNNEL_KEY
from .expectations import RequestHandler
from .registry import Lookup, Registry


class Miss(NamedTuple):
    """What a no-handler finding says beyond the request: see :class:`~httpdouble.Finding`."""

    expected: str
    closest: str
    differences: tuple[Mismatch, ...]
    shadowed_by: str
    detail: str


def _difference_or_none(matcher: RequestMatcher, request: Request) -> list[Mismatch]:
    """``matcher.difference(request)``; a matcher of the user's that raises says so instead."""
    try:
        return list(matcher.difference(request))
    except Exception as exc:
        return [Mismatch("match", "(a matcher that explains itself)", f"it raised {exc!r:.80}")]


def base_url(request: Request) -> str:
    """``scheme://host:port`` of the server that got ``request`` (not its Host header).

    A proxy's request (inside a CONNECT tunnel, or with an absolute URL) has its URL's scheme;
    the server it reached speaks plain HTTP.
    """
    environ = request.environ
    host = str(environ.get("SERVER_NAME", ""))
    if not host:
        return ""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    scheme = environ.get("wsgi.url_scheme", "http")
    if TUNNEL_KEY in environ or str(environ.get("REQUEST_URI", "/"))[:1] not in ("/", "*"):
        scheme = "http"  # a proxy's request: its scheme is the URL's; the server's is plain
    return f"{scheme}://{host}:{environ.get('SERVER_PORT', '')}"


def explain_miss(
    registry: Registry, request: Request, lookup: Lookup, handler: RequestHandler | None
) -> Miss:
    """Explain why ``lookup`` found no handler for ``request`` (the registry's lock held).

    :param handler: the ordered handler the request matched out of its turn, if any.
    """
    ordered = registry.ordered
    detail = ""
    if lookup is Lookup.OUT_OF_ORDER and ordered:
        head = ordered[0]
        expected = f"the next ordered request first: {head.matcher.describe()}"
        shadow = None
        came = None if handler is None else handler.matcher.describe()
        detail = out_of_order_words(came, head.matcher.describe())
        # What came in which order says it all; the closest is for a request that
        # matches no ordered handler (a typo in the next one's path, say).
        best: tuple[RequestMatcher, list[Any]] | None = (
            None if came else (head.matcher, _difference_or_none(head.matcher, request))
        )
    elif lookup is Lookup.OUT_OF_ORDER:  # clear() came between lookup and here
        best, shadow = None, None
        expected = "the next ordered request first (the handlers were cleared since)"
    else:
        try:
            nearest = registry.closest(request)
        except Exception:  # a matcher of the user's raised while explaining the miss
            nearest = None
        best = None if nearest is None else (nearest[0].matcher, nearest[1])
        shadow = None if nearest is None else registry.shadowed_by(nearest[0])
        expected = (
            "nothing: the server refuses requests since an ordered request"
            " came out of order; call clear() to reset it"
            if lookup is Lookup.REFUSED
            else "a request matching a registered handler"
        )
    return Miss(
        expected,
        "" if best is None else best[0].describe(),
        () if best is None else tuple(best[1]),
        "" if shadow is None else shadow.matcher.describe(),
        detail,
    )
