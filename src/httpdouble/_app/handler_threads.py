"""Handler functions run on helper threads under ``handler_timeout``, reused from call to call."""

from __future__ import annotations

import queue
import threading
from typing import Any, cast

from werkzeug.wrappers import Request, Response

from .._errors import HandlerTimeout
from .expectations import RequestHandler
from .idle import IdleThreads


def call_handler(handler: RequestHandler, request: Request) -> Response:
    """Run a handler function in a fresh context, as on a thread of its own.

    Threads are reused, so context variables (``decimal`` precision among them) set by one
    call must not reach the next one, possibly in another test.
    """
    import contextvars  # about 0.3 ms to import: only once a handler function runs

    return contextvars.Context().run(handler.respond, request)


# A helper thread waits this long for the next handler call before it ends.
_IDLE_HELPER_SECONDS = 10.0
_Job = tuple[RequestHandler, Request, "queue.SimpleQueue[tuple[bool, Any]]"]


class HandlerThreads:
    """Threads that run the user's handler functions under ``handler_timeout``, kept for reuse.

    A call takes a parked thread (or starts one) and waits ``timeout`` at most. A handler
    that hangs keeps its (daemon) thread busy, so it is never handed a second call while
    hung; the client is answered anyway.
    """

    def __init__(self) -> None:
        self._threads: IdleThreads[_Job] = IdleThreads(_IDLE_HELPER_SECONDS)
        self._closed = False

    def respond(self, handler: RequestHandler, request: Request, timeout: float) -> Response:
        self._closed = False
        taken = self._threads.take()
        if taken is None:
            inbox: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
            threading.Thread(
                target=self._run, args=(inbox,), name="httpdouble-handler", daemon=True
            ).start()
        else:
            inbox = taken[1]
        reply: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
        inbox.put((handler, request, reply))
        try:
            returned, value = reply.get(timeout=timeout)
        except queue.Empty:
            raise HandlerTimeout(
                f"the handler function for {handler.matcher.describe()} did not return"
                f" within handler_timeout={timeout:g} s\n"
                "  to fix: make the function return sooner, or raise the limit for this test"
                " with server.handler_timeout = <seconds> (None: no limit)"
            ) from None
        if not returned:
            raise value
        return cast(Response, value)

    def _run(self, inbox: queue.SimpleQueue[_Job | None]) -> None:
        job = inbox.get()  # put just after this thread was started
        while job is not None:
            handler, request, reply = job
            try:
                reply.put((True, call_handler(handler, request)))
            except BaseException as exc:  # handed over to the connection thread
                reply.put((False, exc))
            del job, handler, request, reply  # nothing of the call stays alive while parked
            job = self._threads.next_item(inbox, lambda: not self._closed)

    def close(self) -> None:
        """End the parked threads now and the busy ones when their call returns."""
        self._closed = True
        self._threads.close()
