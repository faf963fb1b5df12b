"""Handlers: a matcher and the response it gives, built with ``respond_with_*``.

The registry that finds a handler for a request, and its lookup order, is
:mod:`.registry`.
"""

from __future__ import annotations

import enum
import inspect
import itertools
import json as _json
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from .._errors import HTTPDoubleUsageError
from .._matching.request_matcher import RequestMatcher
from .responses import (
    DEFAULT_STALL_SECONDS,
    ResponseHandler,
    check_data,
    check_header_pairs,
    check_sequence,
    check_status,
    data_maker,
    headers_of,
    response_maker,
    sequence_maker,
)

if TYPE_CHECKING:
    # .streaming loads when a handler first asks for it (issue 27: not in a plain test).
    from .posthooks import PostHook
    from .streaming import Fault, Latency, Seconds

HeadersType = Mapping[str, str] | Headers | list[tuple[str, str]] | None


class HandlerType(enum.Enum):
    """How long a handler lives."""

    PERMANENT = "permanent"
    """Serves any number of matching requests."""
    ONESHOT = "oneshot"
    """Serves one matching request, then is removed."""
    ORDERED = "ordered"
    """Serves one request, and only after every ordered handler registered before it."""


_sequence = itertools.count()

SequenceItem = Response | str | bytes | ResponseHandler | None
"""What :meth:`RequestHandler.respond_with_sequence` takes as one response."""


class SequenceUsedUp(AssertionError):
    """A ``respond_with_sequence(..., then="fail")`` handler got more requests than responses.

    The client gets a 500; the test fails with this as the cause.
    """


SequenceUsedUp.__module__ = "httpdouble"  # tracebacks name the public import path


def check_times(times: object) -> int | None:
    """Return ``times`` if it is ``None`` or an int of 1 or more; refuse anything else."""
    if times is None:
        return None
    if not isinstance(times, int) or isinstance(times, bool) or times < 1:
        raise HTTPDoubleUsageError(
            "times",
            expected="an int of 1 or more (how many requests the handler serves), or None",
            got=times,
            remedy="pass e.g. times=3, or leave it out for a handler without a count",
        )
    return times


def _plural(count: int) -> str:
    return "time" if count == 1 else "times"


class StaticReply:
    """A static response as the dispatcher sends and logs it, built on its first use.

    ``framed`` is the I/O loop's cache of the reply as bytes, one per kind of connection
    (``2 * keep_alive + http10`` -> Date, head or whole reply, keep-alive, big body or
    ``b""``): it lives on the reply, so it goes when its handler does, and its handler
    frees it when cleared, used up or stopped (:meth:`RequestHandler.forget_framed`).
    A plain class, not a ``NamedTuple``: that costs every import about 0.3 ms (issue 27).
    """

    __slots__ = ("body", "framed", "headers", "logged", "source", "status")

    def __init__(
        self,
        source: object,  # the ``request_handler`` it was built from
        status: str,
        headers: list[tuple[str, str]],
        body: tuple[bytes],
        logged: tuple[int, tuple[tuple[str, str], ...], bytes],  # its body is ``body[0]``
        framed: dict[int, tuple[bytes, bytes, bool, bytes]],
    ) -> None:
        self.source = source
        self.status = status
        self.headers = headers
        self.body = body
        self.logged = logged
        self.framed = framed


class NoResponseError(LookupError):
    """A handler was registered, but no ``respond_with_*`` was called on it."""


class RequestHandler:
    """A matcher and the response it gives; returned by every ``expect_*`` call.

    Call exactly one ``respond_with_*`` method on it. :meth:`respond` builds a fresh
    :class:`~werkzeug.wrappers.Response` on every call, so a handler can serve many requests
    (the dispatcher keeps a static response's WSGI form after its first use).
    """

    __slots__ = (
        "__weakref__",  # the I/O loop's memo of a head refers to its handler weakly
        "_hooks",
        "handler_type",
        "is_function",
        "latency",
        "matcher",
        "reply",
        "request_handler",
        "retired",
        "seq",
        "times",
        "uses",
    )

    def __init__(
        self,
        matcher: RequestMatcher,
        handler_type: HandlerType = HandlerType.PERMANENT,
        times: int | None = None,
    ) -> None:
        self.matcher = matcher
        self.handler_type = handler_type
        # How many requests the handler serves before it is gone (None: its type says),
        # and how many it has served; both read and written under the dispatcher's lock.
        self.times = check_times(times)
        self.uses = 0
        self.request_handler: ResponseHandler | None = None
        # True when the user's own code runs for each request (respond_with_handler, or
        # post hooks), which may hang or raise, and whose answer is never kept.
        self.is_function = False
        self._hooks: list[PostHook] = []
        # A static response as sent and as logged, kept by the dispatcher after its first use
        # and valid while ``request_handler`` is the function it was built from.
        self.reply: StaticReply | None = None
        # Cleared or used up: no framed reply is cached for it any more.
        self.retired = False
        self.seq = next(_sequence)
        # Waits before the head and between streamed chunks, set by with_latency().
        self.latency: Latency | None = None

    def respond_with_data(
        self,
        response_data: str | bytes = "",
        status: int = 200,
        headers: HeadersType = None,
        mimetype: str | None = None,
        content_type: str | None = None,
    ) -> None:
        """Answer with a fixed body.

        :param response_data: the body (``str`` is encoded as UTF-8).
        :param status: the HTTP status code.
        :param headers: extra response headers.
        :param mimetype: the mimetype (``text/plain`` when neither this nor
            ``content_type`` is given).
        :param content_type: the full ``Content-Type`` value.
        """
        check_data(response_data, status, mimetype, content_type)
        self.request_handler = data_maker(
            response_data, status, headers_of(headers), mimetype, content_type
        )
        self.is_function = bool(self._hooks)

    def respond_with_json(
        self,
        response_json: Any,
        status: int = 200,
        headers: HeadersType = None,
        content_type: str = "application/json",
    ) -> None:
        """Answer with ``response_json`` encoded as JSON (encoded once, here).

        The body is written as pytest-httpserver writes it, ``json.dumps(obj, indent=4)``,
        so suites that compare the body's text keep passing.
        """
        try:
            body = _json.dumps(response_json, indent=4)
        except (TypeError, ValueError) as exc:
            raise HTTPDoubleUsageError(
                "response_json",
                expected="a JSON-serialisable value",
                got=response_json,
                remedy=f"use dicts, lists, str, numbers, bool and None ({exc})",
            ) from None
        self.respond_with_data(body, status, headers, content_type=content_type)

    def respond_with_response(self, response: Response | str | None) -> None:
        """Answer with a copy of ``response`` (status, headers and body), fresh per request.

        As in pytest-httpserver, a ``str`` is the body of a 200 and ``None`` an empty 200.
        """
        if response is None or isinstance(response, str):
            self.respond_with_data(response or "")
            return
        if not isinstance(response, Response):
            raise HTTPDoubleUsageError(
                "response",
                expected="a werkzeug.wrappers.Response (or a str body, or None)",
                got=response,
                remedy="build one with werkzeug.Response(body, status, headers)",
            )
        if not response.is_sequence:  # a generator: streamed on its one use, never read here
            check_status(response.status_code)
            self._respond_with_streamed_response(response)
            return
        self.request_handler = response_maker(response)
        self.is_function = bool(self._hooks)

    def respond_with_handler(self, func: ResponseHandler) -> None:
        """Answer with whatever ``func(request)`` returns: a werkzeug ``Response``.

        ``func`` may be an ``async def`` function: it is awaited on the server's thread, in
        an event loop of its own for each call.

        An exception from ``func`` becomes a 500 response and a finding that
        keeps the exception.
        """
        if not callable(func):
            raise HTTPDoubleUsageError(
                "func",
                expected="a callable taking the werkzeug Request and returning a Response",
                got=func,
                remedy="pass a function, e.g. respond_with_handler(lambda req: Response('ok'))",
            )
        self.request_handler = func
        self.is_function = True

    def respond_with_sequence(
        self,
        responses: Sequence[SequenceItem],
        then: Literal["repeat", "fail"] = "repeat",
    ) -> None:
        """Answer each request with the next of ``responses``, in order.

        Each item is a werkzeug ``Response`` (copied, fresh per request), a ``str`` or
        ``bytes`` body of a 200 ``text/plain`` response, ``None`` for an empty 200, or a
        handler function ``func(request) -> Response``, called for its one request as by
        :meth:`respond_with_handler`. Concurrent requests each get a different item.

        :param responses: the responses, first to last; at least one.
        :param then: what the requests after the last item get: ``"repeat"`` (the default)
            answers them with the last item again; ``"fail"`` answers them with a 500 and
            fails the test (a ``SequenceUsedUp`` finding).
        :raises HTTPDoubleUsageError: for an empty sequence, an item of another type, or
            another ``then``.

        .. versionadded:: 0.2
        """
        check_sequence(responses, then)
        makers = [sequence_maker(item, index) for index, item in enumerate(responses)]
        count = len(makers)
        lock = threading.Lock()
        served = 0

        def next_response(request: Request) -> Response | Awaitable[Response]:
            nonlocal served
            with lock:  # concurrent requests each take a different item
                index = served
                served += 1
            if index >= count:
                if then == "fail":
                    noun = "response" if count == 1 else "responses"
                    raise SequenceUsedUp(
                        f"the sequence of {count} {noun} was used up"
                        " (then='fail' answers every later request with a 500)\n"
                        "  to fix: add responses to the sequence, pass then='repeat',"
                        " or check why your code sends more requests"
                    )
                index = count - 1
            return makers[index](request)

        self.request_handler = next_response
        # Never kept as a static reply: each request may get another response.
        self.is_function = True

    def with_post_hook(self, hook: PostHook) -> RequestHandler:
        """Run ``hook(request, response)`` on every response of this handler; return the handler.

        Hooks run in the order they were added, each on the response the one before
        returned; see :mod:`httpdouble.hooks` for :class:`~httpdouble.hooks.Delay`,
        :class:`~httpdouble.hooks.Garbage` and :class:`~httpdouble.hooks.Chain`.
        """
        from .posthooks import check_hook  # with the first hook: a plain test has none

        check_hook(hook)
        self._hooks.append(hook)
        self.is_function = True
        return self

    @property
    def hook_delay(self) -> float:
        """Seconds this handler's :class:`~httpdouble.hooks.Delay` hooks wait on purpose."""
        if not self._hooks:
            return 0.0
        from .posthooks import delay_of  # loaded by with_post_hook

        return sum(delay_of(hook) for hook in self._hooks)

    # ---------------------------------------- streaming, events, faults, latency (_streaming)

    def respond_with_stream(
        self,
        body: Iterable[bytes | str] | Callable[[], Iterable[bytes | str]],
        status: int = 200,
        headers: HeadersType = None,
        content_type: str = "application/octet-stream",
        chunk_delay: Seconds | None = None,
    ) -> None:
        """Answer with a body sent chunk by chunk, each as soon as it is produced.

        HTTP/1.1 clients get ``Transfer-Encoding: chunked`` (HTTP/1.0 ones a body ended by
        closing the connection). The head is sent first; a body that raises midway closes
        the connection (the client sees the body cut short) and is the handler's error.

        :param body: the chunks (``bytes``, or ``str`` sent as UTF-8): a callable returning
            a fresh iterable per request, a list or tuple (replayed), or any other iterable,
            such as a generator, which serves one request only.
        :param chunk_delay: seconds to wait between two chunks, or ``(low, high)`` for a
            random wait in that range.
        """
        from .streaming import StreamedResponse, check_delay, fresh_body

        make_body = fresh_body(body, "body")
        check_status(status)
        check_header_pairs([("Content-Type", content_type)])
        delay = check_delay("chunk_delay", chunk_delay)
        header_list = headers_of(headers)

        def make_response(request: Request) -> Response:
            # HEAD sends no body: a one-use body is kept for the request that reads it.
            chunks = () if request.method == "HEAD" else make_body()
            response = StreamedResponse(chunks, status, header_list, content_type)
            response.chunk_delay = delay
            return response

        self.request_handler = make_response
        self.is_function = bool(self._hooks)

    def respond_with_sse(
        self,
        events: Iterable[Any] | Callable[[], Iterable[Any]],
        status: int = 200,
        headers: HeadersType = None,
        event_delay: Seconds | None = None,
    ) -> None:
        """Answer with server-sent events (``text/event-stream``), each sent as it comes.

        :param events: each a :class:`~httpdouble.ServerSentEvent`, a dict of its fields
            (``data``, ``event``, ``id``, ``retry``, ``comment``) or a ``str`` (the data);
            iterables as for :meth:`respond_with_stream`. A list is checked here.
        :param event_delay: seconds (or ``(low, high)``) to wait between two events.
        """
        from .streaming import sse_source

        make_events = sse_source(events)
        extra = [(n, v) for n, v in headers_of(headers) or []]
        names = {n.lower() for n, _ in extra}
        if "cache-control" not in names:
            extra.append(("Cache-Control", "no-cache"))
        self.respond_with_stream(
            make_events, status, extra, "text/event-stream; charset=utf-8", event_delay
        )

    def respond_with_fault(
        self,
        fault: Fault | str,
        *,
        data: bytes | None = None,
        sent: int | None = None,
        status: int = 200,
        headers: HeadersType = None,
        stall_seconds: float = DEFAULT_STALL_SECONDS,
    ) -> None:
        """Answer with a broken answer, on purpose: see :class:`~httpdouble.Fault`.

        A fault is logged as what was done (``Outcome.FAULT_*``), never as a failure.

        :param fault: ``Fault.RESET``, ``CLOSE``, ``PARTIAL_BODY``, ``GARBAGE`` or ``STALL``
            (or its value, ``"reset"``...).
        :param data: ``PARTIAL_BODY``: the whole body its ``Content-Length`` announces
            (1,000 bytes by default); ``GARBAGE``: the bytes sent (a mangled status line
            by default).
        :param sent: ``PARTIAL_BODY``: how many bytes of ``data`` are sent (half by default).
        :param status: ``PARTIAL_BODY``: the status sent.
        :param headers: ``PARTIAL_BODY``: extra headers sent.
        :param stall_seconds: ``STALL``: the longest the connection is held (``stop()``
            and the client closing end it sooner).
        """
        from .streaming import FaultResponse, fault_spec

        spec = fault_spec(fault, data, sent, status, stall_seconds)
        header_list = headers_of(headers)
        if header_list:
            check_header_pairs(header_list)

        def make_response(request: Request) -> Response:
            return FaultResponse(spec, status, header_list)

        self.request_handler = make_response
        self.is_function = bool(self._hooks)

    def with_latency(
        self, seconds: Seconds | None = None, *, between_chunks: Seconds | None = None
    ) -> RequestHandler:
        """Wait before every answer's head (and between streamed chunks); return the handler.

        :param seconds: the wait before the head, or ``(low, high)`` for a random one.
        :param between_chunks: the wait between two chunks of a streamed body, unless the
            ``respond_with_stream``/``respond_with_sse`` call gives its own.

        The wait runs on the connection's own thread: other connections are answered
        meanwhile; a client that gives up, or ``stop()``, ends it.
        """
        from .streaming import Latency, check_delay

        before = check_delay("seconds", seconds)
        between = check_delay("between_chunks", between_chunks)
        self.latency = None if before is None and between is None else Latency(before, between)
        return self

    def _respond_with_streamed_response(self, response: Response) -> None:
        """``respond_with_response(Response(generator))``: kept as is, streamed on its one use."""
        from .streaming import StreamedResponse, fresh_body

        make_body = fresh_body(response.response, "response")
        status = response.status
        header_list = list(response.headers.items())
        check_header_pairs(header_list)
        delay = response.chunk_delay if isinstance(response, StreamedResponse) else None

        def make_response(request: Request) -> Response:
            chunks = () if request.method == "HEAD" else make_body()  # HEAD sends no body
            streamed = StreamedResponse(chunks, status, header_list)
            streamed.chunk_delay = delay
            return streamed

        self.request_handler = make_response
        self.is_function = bool(self._hooks)

    def respond(self, request: Request) -> Response:
        """Build the response for ``request``.

        :raises TypeError: when the handler function returned something else than a Response.
        :raises LookupError: when no ``respond_with_*`` was called.
        """
        if self.request_handler is None:
            raise NoResponseError(
                f"the handler for {self.matcher.describe()} has no response;"
                " call respond_with_data/json/response/handler on it"
            )
        result: Any = self.request_handler(request)
        if inspect.isawaitable(result):  # an async def handler function
            from .awaiting import run_to_end

            result = run_to_end(result)
        # As in pytest-httpserver: a handler may return text, or nothing for an empty 200.
        if result is None:
            result = Response("")
        elif isinstance(result, str):
            result = Response(result)
        if not isinstance(result, Response):
            raise TypeError(
                f"handler function returned {type(result).__name__} {result!r:.80}\n"
                "  expected: a werkzeug Response, a str (the body), or None (an empty 200)\n"
                "  to fix: return Response(body, status=..., mimetype=...) from the function"
            )
        response: Response = result
        for hook in self._hooks:
            response = hook(request, response)
        if response.is_sequence or response.direct_passthrough:
            return response  # sent in one write: what streamed_from() would return
        from .streaming import streamed_from

        return streamed_from(response)

    def __repr__(self) -> str:
        # pytest-httpserver's form: suites compare it.
        m = self.matcher
        return (
            f"<{type(self).__name__} uri={m.uri!r} method={m.method!r}"
            f" query_string={m.query_string!r} headers={dict(m.headers)!r}"
            f" data={m.data!r} json={m.json!r}>"
        )

    @property
    def settles(self) -> bool:
        """Whether the handler is used up by requests (oneshot, ordered or counted).

        ``wait()`` waits for such a handler, and the teardown check reports it if unused.
        """
        return self.times is not None or self.handler_type is not HandlerType.PERMANENT

    def forget_framed(self, retire: bool = False) -> None:
        """Free the framed bytes cached for its reply (the caller holds the dispatcher's lock).

        :param retire: the handler is gone from the server (cleared, or used up): nothing
            is cached for it from now on.
        """
        if retire:
            self.retired = True
        reply = self.reply
        if reply is not None:
            reply.framed.clear()

    def use(self) -> bool:
        """Count one request served; return whether the handler is now used up."""
        self.uses += 1
        if self.times is None:
            return self.handler_type is not HandlerType.PERMANENT
        return self.uses >= self.times

    def usage(self) -> str:
        """``used 2 of 3 times`` for a counted handler, else the empty string."""
        if self.times is None:
            return ""
        return f"used {self.uses} of {self.times} {_plural(self.times)}"
