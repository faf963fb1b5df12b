"""The I/O core: listening sockets and binding, the I/O loop, connection threads (HTTP/1.1 on one
connection), TLS, the readiness probe, the lifecycle, and the blocking server. It owns sockets
and threads only; what to answer comes from _app. It may import _app, _report, _log, _matching,
_wire and _errors, never pytest.
"""
