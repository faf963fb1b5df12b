"""Async handler functions: what an ``async def`` handler returns is awaited on its thread.

A handler function runs on a server thread (a helper thread under ``handler_timeout``, else
the connection's thread), never on the test's event loop: the awaitable it returns is run to
its end there, in an event loop of its own for that call (``asyncio.run``). asyncio is
imported by the first async handler only.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


def run_to_end(awaitable: Awaitable[T]) -> T:
    """Await ``awaitable`` in a new event loop on this thread and return its result.

    The loop is closed after the call, its leftover tasks cancelled: objects bound to a
    loop (a client session, an ``asyncio.Lock``) do not carry over to the next call.
    """
    import asyncio

    async def main() -> T:
        return await awaitable

    return asyncio.run(main())
