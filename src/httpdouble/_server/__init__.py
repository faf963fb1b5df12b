"""The I/O core: listening sockets and binding, the I/O loop, connection threads (HTTP/1.1 on one
connection), TLS, ``CONNECT`` tunnels (``tunnel.py``: TLS with certificates from an injected
source, never a connection out), the readiness probe, the lifecycle, and the blocking server;
``server.py``'s HTTPServer is the facade over the core (``core.py``) and the application it
composes. It owns sockets and threads only; what to answer comes from _app, through
``_app.entry.Application``. It may import _app, _report, _log, _matching, _wire and _errors,
never pytest.
"""
