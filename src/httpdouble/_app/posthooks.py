"""Post hooks: callables that change a handler's response after it is built.

``expect_request(...).with_post_hook(hook)`` runs ``hook(request, response)`` on every
response of that handler and sends what it returns. The three ready-made hooks are
pytest-httpserver's: :class:`Delay`, :class:`Garbage` and :class:`Chain`.

A handler with hooks runs like a handler function: on a helper thread under
``handler_timeout`` (extended by the delays of its :class:`Delay` hooks), on the
connection's own thread, so a delay never holds up another connection.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from werkzeug.wrappers import Request, Response

from .._errors import HTTPDoubleUsageError

PostHook = Callable[[Request, Response], Response]


class HookArgumentError(HTTPDoubleUsageError, AssertionError):
    """A ready-made hook got a bad argument.

    It is an :class:`AssertionError` too, as pytest-httpserver's hooks raise one.
    """


def _check_seconds(seconds: object) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
        raise HookArgumentError(
            "seconds",
            expected="a number of seconds, 0 or more",
            got=seconds,
            remedy="pass e.g. Delay(0.5)",
        )
    return float(seconds)


def _check_size(name: str, size: object) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise HookArgumentError(
            name,
            expected="an int number of bytes, 0 or more",
            got=size,
            remedy=f"{name} should be positive integer or 0; pass e.g. {name}=128",
        )
    return size


class Chain:
    """Run several hooks in turn, each on the response the one before returned.

    :param hooks: the hooks, in the order they run.
    """

    def __init__(self, *hooks: PostHook) -> None:
        for hook in hooks:
            check_hook(hook)
        self._hooks = hooks

    def __call__(self, request: Request, response: Response) -> Response:
        for hook in self._hooks:
            response = hook(request, response)
        return response

    def __repr__(self) -> str:
        return f"Chain({', '.join(map(repr, self._hooks))})"


class Delay:
    """Wait ``seconds`` before the response is sent; the response is not changed.

    The wait happens on the thread of the request's own connection: other
    connections are served meanwhile. Subclasses may override :meth:`_sleep`.

    :param seconds: how long to wait.
    """

    def __init__(self, seconds: float) -> None:
        self._seconds = _check_seconds(seconds)

    @property
    def seconds(self) -> float:
        """How long the hook waits."""
        return self._seconds

    def _sleep(self) -> None:
        time.sleep(self._seconds)

    def __call__(self, _request: Request, response: Response) -> Response:
        self._sleep()
        return response

    def __repr__(self) -> str:
        return f"Delay({self._seconds:g})"


class Garbage:
    """Put random bytes before and after the response body (new bytes for every response).

    :param prefix_size: how many bytes go before the body.
    :param suffix_size: how many bytes go after it.
    """

    def __init__(self, prefix_size: int = 0, suffix_size: int = 0) -> None:
        self._prefix_size = _check_size("prefix_size", prefix_size)
        self._suffix_size = _check_size("suffix_size", suffix_size)

    def _get_garbage_bytes(self, size: int) -> bytes:
        return os.urandom(size)

    def __call__(self, _request: Request, response: Response) -> Response:
        prefix = self._get_garbage_bytes(self._prefix_size)
        suffix = self._get_garbage_bytes(self._suffix_size)
        response.set_data(prefix + response.get_data() + suffix)
        return response

    def __repr__(self) -> str:
        return f"Garbage(prefix_size={self._prefix_size}, suffix_size={self._suffix_size})"


def check_hook(hook: object) -> None:
    """Raise a usage error unless ``hook`` can be called as ``hook(request, response)``."""
    if not callable(hook):
        raise HTTPDoubleUsageError(
            "hook",
            expected="a callable taking (request, response) and returning a Response",
            got=hook,
            remedy="pass e.g. Delay(0.5), or a function (request, response) -> response",
        )


def delay_of(hook: object) -> float:
    """Seconds ``hook`` is known to wait on purpose (its :class:`Delay` hooks)."""
    if isinstance(hook, Delay):
        return hook.seconds
    if isinstance(hook, Chain):
        return sum(delay_of(inner) for inner in hook._hooks)
    return 0.0
