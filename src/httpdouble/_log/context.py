"""Which test is running, and names the plugin needs in every session.

This module imports nothing heavy: the plugin reads it in every pytest run, also
when no test uses a server (issue 15).
"""

from __future__ import annotations

TEARDOWN_CHECK_INI = "httpserver_teardown_check"
KEEP_ALIVE_INI = "httpserver_keep_alive"
NO_CHECK_MARKER = "httpserver_nocheck"


class _Context:
    """Which test is running in this process, read by every server when a request arrives.

    The pytest plugin writes it around each test; a server used outside pytest
    sees no test at all. Writes replace one tuple, so readers on server threads
    always see a consistent pair without a lock.
    """

    __slots__ = ("state", "worker")

    def __init__(self) -> None:
        self.state: tuple[str | None, str | None] = (None, None)
        self.worker = "main"

    def enter_test(self, nodeid: str) -> None:
        self.state = (nodeid, None)

    def leave_test(self, nodeid: str) -> None:
        self.state = (None, nodeid)


CONTEXT = _Context()
