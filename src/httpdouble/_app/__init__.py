"""The application: the handler registry, handlers and their responses, post hooks, streamed
bodies and faults, dispatch (the WSGI app, usable without a socket), handler threads, waiting
and verification. It may import _report, _log, _matching, _wire and _errors; never _server,
_pytest or a socket.
"""
