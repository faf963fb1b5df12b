"""pytest-httpserver's ``pytest_httpserver.hooks`` path: names only, no logic."""

from werkzeug.wrappers import Request, Response

from ._app.posthooks import Chain, Delay, Garbage

__all__ = ["Chain", "Delay", "Garbage", "Request", "Response"]
