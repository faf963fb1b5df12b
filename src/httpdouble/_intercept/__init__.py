"""Interception: the server as the test's HTTP(S) proxy. The process's test CA (``authority.py``:
made on first use, its files in a private temporary folder, its key in memory), the proxy and
CA environment variables set for an interception and restored after it (``environment.py``),
and the :class:`~httpdouble.Interception` that switches both on for one server and hands the
server its certificate source for ``CONNECT`` tunnels (``interception.py``).
It may import _server and everything below it, never pytest and never _record (a sibling).
"""
