"""The application of one server: a dispatcher that answers through the server's overrides."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from werkzeug.wrappers import Request, Response

from .._app.dispatch import RequestDispatcher
from .._app.entry import RequestEntry

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


if TYPE_CHECKING:  # for annotations only: a Protocol class costs every import

    class Hooks(Protocol):
        """pytest-httpserver's extension points, as a server subclass may override them."""

        def __call__(
            self, environ: WSGIEnvironment, start_response: StartResponse
        ) -> Iterable[bytes]: ...

        def dispatch(self, request: Request) -> Response: ...

        def respond_nohandler(self, request: Request, extra_message: str = "") -> Response: ...


class ServerApp(RequestDispatcher):
    """The application of one :class:`~httpdouble.HTTPServer`: calls the server's hooks.

    pytest-httpserver's users subclass the server and override ``dispatch()`` or
    ``respond_nohandler()`` (:class:`~httpdouble.BlockingHTTPServer` overrides ``__call__``
    too); the application answers through those overrides, as when the server was itself
    the dispatcher. The server's own versions call :class:`~httpdouble.RequestDispatcher`'s.

    :param own_dispatch: the server's class overrides ``dispatch()``.
    :param own_nohandler: it overrides ``respond_nohandler()``.
    :param own_call: it overrides ``__call__`` (each request is then answered on a thread).
    """

    def __init__(
        self,
        server: Hooks,
        *,
        own_dispatch: bool,
        own_nohandler: bool,
        own_call: bool,
        **settings: Any,
    ) -> None:
        super().__init__(**settings)
        self._server = server
        self._custom_dispatch = own_dispatch
        self._custom_nohandler = own_nohandler
        self._own_call = own_call
        self.entry = RequestEntry(self, own_call)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self._own_call:
            return self._server(environ, start_response)
        return super().__call__(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        return self._server.dispatch(request)

    def respond_nohandler(self, request: Request, extra_message: str = "") -> Response:
        return self._server.respond_nohandler(request, extra_message)
