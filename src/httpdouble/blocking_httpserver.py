"""pytest-httpserver's ``pytest_httpserver.blocking_httpserver`` path: names only, no logic."""

from ._server.blocking import BlockingHTTPServer, BlockingRequestHandler

__all__ = ["BlockingHTTPServer", "BlockingRequestHandler"]
