"""pytest-httpserver's ``pytest_httpserver.bake`` path: names only, no logic."""

from ._app.registration import BakedHTTPServer

__all__ = ["BakedHTTPServer"]
