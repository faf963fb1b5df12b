"""Exceptions: misuse raises an ``...Error`` of ours, test outcomes raise ``AssertionError``."""

from __future__ import annotations

import os
from types import TracebackType

_OUR_DIR = os.path.dirname(__file__) + os.sep  # os.path: pathlib costs every import


def _short(value: object, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Error(Exception):
    """Base class of every exception raised by httpdouble for misuse or failure to run."""


class HTTPDoubleUsageError(Error, TypeError, ValueError):
    """An argument or setting has the wrong type or value.

    The message says, one fact per line, what was expected, what was given and
    what to do. It is a :class:`TypeError` and a :class:`ValueError` too, so code
    that catches either built-in kind of error for bad arguments keeps working
    (pytest-httpserver raises ``ValueError`` for some of them).
    """

    def __init__(self, argument: str, *, expected: str, got: object, remedy: str) -> None:
        self.argument = argument
        self.expected = expected
        self.got = got
        self.remedy = remedy
        super().__init__(
            f"invalid {argument}\n"
            f"  expected: {expected}\n"
            f"  got:      {_short(got)} ({type(got).__name__})\n"
            f"  to fix:   {remedy}"
        )


class HTTPServerError(Error):
    """The server cannot do what was asked (start twice, stop when not running, ...)."""


class ServerStartError(HTTPServerError):
    """The listening socket could not be bound.

    :ivar host: the host that was asked for.
    :ivar port: the port that was asked for (``0`` for any).
    :ivar os_error: the :class:`OSError` the operating system raised.
    """

    def __init__(self, host: str, port: int, os_error: OSError, remedy: str) -> None:
        self.host = host
        self.port = port
        self.os_error = os_error
        super().__init__(
            f"cannot listen on {host}:{port}\n"
            f"  operating system said: {os_error.strerror or os_error} "
            f"(errno {os_error.errno})\n"
            f"  to fix: {remedy}"
        )


class NoHandlerError(Error):
    """No handler matched a request (kept for API parity with pytest-httpserver)."""


class NoMethodFoundForMatchingHeaderValueError(Error):
    """Kept for API parity with pytest-httpserver; never raised here.

    A :class:`HeaderValueMatcher` given comparators for some headers compares the others
    as plain strings instead of raising this.
    """


class HandlerTimeout(Error, TimeoutError):
    """A handler function did not return within the server's ``handler_timeout``."""


class HTTPDoubleFailure(AssertionError):
    """A test's HTTP traffic went wrong: raised at teardown and by ``check_*`` methods."""


def hide_our_frames(exc: BaseException) -> None:
    """Drop our own frames from an exception's traceback: pytest shows the rest.

    A handler's exception passes through dispatch code of ours (and, with a handler
    timeout, through another thread); a usage error is raised a few calls deep in ours.
    The user needs their own frames only. The plugin skips this under ``--full-trace``.
    """
    kept = []
    tb = exc.__traceback__
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(_OUR_DIR):
            kept.append(tb)
        tb = tb.tb_next
    rebuilt: TracebackType | None = None
    for entry in reversed(kept):
        rebuilt = TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    exc.__traceback__ = rebuilt


for _public in (
    Error,
    HTTPDoubleUsageError,
    HTTPServerError,
    ServerStartError,
    NoHandlerError,
    NoMethodFoundForMatchingHeaderValueError,
    HandlerTimeout,
    HTTPDoubleFailure,
):
    _public.__module__ = "httpdouble"  # tracebacks name the public import path
