"""An interception: one server as the HTTP(S) proxy of the code under test, for a while.

While it is on, the proxy variables point at the server's own address, the CA variables at
the process's test CA (:mod:`.authority`), and the server answers ``CONNECT`` with a tunnel
whose certificates that CA issues (:mod:`httpdouble._server.tunnel`). Requests for any host
then reach the server's handlers; one no handler covers is "no handler matched", as
always: nothing goes past the server.
"""

from __future__ import annotations

import ssl
from types import TracebackType
from typing import TYPE_CHECKING, Self

from .._errors import HTTPDoubleUsageError
from .authority import SessionCA, session_ca
from .environment import SavedEnvironment, interception_variables

if TYPE_CHECKING:
    from .._server.server import HTTPServer

# The address clients reach a server on, for the hosts it may listen on.
_REACHED_AT = {"localhost": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


class Interception:
    """The server as the HTTP(S) proxy of everything the test runs; a context manager.

    Made by :func:`httpdouble.intercept` (``with intercept(server): ...``); the
    ``httpserver_intercept`` fixture holds one for the test. Entering it (or :meth:`start`)
    sets the variables and lets the server serve tunnels; leaving it (or :meth:`stop`)
    restores every variable as it was, unset ones included.

    :param server: a running plain-HTTP server.

    .. versionadded:: 0.2
    """

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self._ca: SessionCA | None = None
        self._saved: SavedEnvironment | None = None

    @property
    def proxy_url(self) -> str:
        """The URL the proxy variables hold: the server's own address (``http://127.0.0.1:PORT``)."""
        host = _REACHED_AT.get(self.server.host, self.server.host)
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.server.port}"

    @property
    def ca_bundle(self) -> str:
        """Path of the test CA's certificate (PEM): what ``verify=`` takes to trust it."""
        return self._authority().ca_bundle

    def client_ssl_context(self) -> ssl.SSLContext:
        """Return a client-side ``ssl.SSLContext`` that trusts the test CA.

        For a client that read its CA before the interception began, e.g. aiohttp (when it
        is imported): ``session.get(url, ssl=interception.client_ssl_context())``.
        """
        return self._authority().client_ssl_context()

    @property
    def variables(self) -> dict[str, str | None]:
        """The environment variables it sets (``None``: unset while it is on)."""
        return interception_variables(self.proxy_url, self.ca_bundle)

    def load_certificate(self, context: ssl.SSLContext, host: str) -> None:
        """Load a certificate for ``host`` into a tunnel's ``context`` (the server calls it)."""
        self._authority().load_certificate(context, host)

    def start(self) -> Self:
        """Set the variables and serve tunnels; return this interception.

        :raises HTTPDoubleUsageError: when the server is not running, serves HTTPS, or
            intercepts already.
        """
        server = self.server
        if not server.is_running():
            raise HTTPDoubleUsageError(
                "httpdouble.intercept(server)",
                expected="a running server",
                got=f"{server!r}, not started",
                remedy="call server.start() first (the pytest fixtures' servers run already)",
            )
        if server.ssl_context is not None:
            raise HTTPDoubleUsageError(
                "httpdouble.intercept(server)",
                expected="a plain-HTTP server: clients talk to a proxy in plain HTTP, and"
                " HTTPS goes through its CONNECT tunnels",
                got="an HTTPS server (ssl_context is set)",
                remedy="intercept with the httpserver fixture's server, or an HTTPServer"
                " without ssl_context",
            )
        if server.interception is not None:
            raise HTTPDoubleUsageError(
                "httpdouble.intercept(server)",
                expected="one interception of a server at a time",
                got="this server intercepts already",
                remedy="leave the first interception (its with block) before starting"
                " another; the httpserver_intercept fixture holds one for the whole test",
            )
        # The tunnels' module is imported at the first CONNECT, on a connection thread;
        # import it now, on the test's, so that a thread never has to (issue 27).
        from .._server import tunnel  # noqa: F401

        self._ca = session_ca()
        variables = self.variables
        server.interception = self
        self._saved = SavedEnvironment(variables)
        return self

    def stop(self) -> None:
        """Restore every variable and stop serving tunnels (nothing if not started)."""
        saved, self._saved = self._saved, None
        if saved is None:
            return
        saved.restore()
        if self.server.interception is self:
            self.server.interception = None
        self._ca = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _authority(self) -> SessionCA:
        # While on, the CA it started with; before, the process's (made if need be).
        return session_ca() if self._ca is None else self._ca

    def __repr__(self) -> str:
        state = "on" if self._saved is not None else "off"
        return f"<Interception {state} via {self.proxy_url}>"


def intercept(server: HTTPServer) -> Interception:
    """Make ``server`` the HTTP(S) proxy of the code under test, in a ``with`` block.

    Returns an :class:`Interception`: entering it points the proxy and CA environment
    variables at the running ``server`` and the process's test CA, and leaving it restores
    them; see :doc:`/howto/intercept`. In pytest, the ``httpserver_intercept`` fixture does
    this for one test.

    .. versionadded:: 0.2
    """
    return Interception(server)
