"""``CONNECT`` tunnels: the server as a client's HTTPS proxy, while a test intercepts.

A client that takes the server for its proxy asks ``CONNECT api.example.test:443``; the
server answers ``200 Connection established`` and the connection becomes the tunnel. When
the client then starts TLS (its first byte is a handshake record), the server plays
``api.example.test``: it shakes hands with a certificate for the name the client asks for
(SNI; without SNI the ``CONNECT`` host), issued by the certificate source interception
installs, and offers HTTP/1.1 only (ALPN). A client that speaks plain HTTP instead (a
``CONNECT`` to port 80, say) is served plain HTTP. Either way the requests inside go
through the application as any other, with the tunnel's scheme and host, and with
:data:`~httpdouble._wire.target.TUNNEL_KEY` in their environ. The server never connects
anywhere: every request is answered here.

The certificates come from above (the interception layer) through
:class:`CertificateSource`; this module knows TLS, not certificate authorities.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from .._wire.request import BadRequest, ConnectionInfo, Limits
from .._wire.target import split_authority
from .connection import Reports, serve_connection, serve_one
from .loop_connection import ConnReader
from .refusals import tunnel_failure_detail

if TYPE_CHECKING:
    from .._wire.request import Reader

ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"
_TLS_HANDSHAKE = 0x16
# Contexts kept per host name, at most: a test reaching thousands of hosts stays bounded.
_MAX_CONTEXTS = 1024


class CertificateSource(Protocol):
    """Where a tunnel's certificates come from: the interception on now (the layer above).

    A test reads the CA from it too (``httpserver.interception.ca_bundle``), so those
    members are part of it.
    """

    @property
    def ca_bundle(self) -> str:
        """Path of the CA's certificate (PEM), for a client's ``verify=``."""

    def client_ssl_context(self) -> ssl.SSLContext:
        """Return a client-side context that trusts the CA."""

    def load_certificate(self, context: ssl.SSLContext, host: str) -> None:
        """Load a certificate for ``host`` and its key into the server-side ``context``."""

    def stop(self) -> None:
        """End the interception (the fixtures end one a test left on)."""


class TunnelContexts:
    """Server-side TLS contexts for tunnels: one per host name, made once, HTTP/1.1 only.

    :param source: issues the certificate of each host.
    """

    def __init__(self, source: CertificateSource) -> None:
        self.source = source
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def for_host(self, host: str) -> ssl.SSLContext:
        """Return the context whose certificate is for ``host`` (made on first use)."""
        host = host.lower()
        context = self._contexts.get(host)
        if context is not None:
            return context
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # curl offers h2 first: HTTP/2 is not served, so only http/1.1 may be chosen.
        context.set_alpn_protocols(["http/1.1"])
        self.source.load_certificate(context, host)
        context.sni_callback = self._server_name
        with self._lock:
            if len(self._contexts) >= _MAX_CONTEXTS:
                self._contexts.clear()
            return self._contexts.setdefault(host, context)

    def _server_name(self, sock: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> int | None:
        # The client names the host it expects (SNI): it gets that host's certificate.
        if name is None:
            return None
        try:
            sock.context = self.for_host(name)
        except Exception:  # no certificate for that name: the handshake fails, and says so
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        return None


class Tunnels:
    """Opens the tunnels of one server's connections (its I/O core owns one).

    :param settings: returns the certificate source now (``None``: not intercepting) and
        whether the server itself serves HTTPS (then ``CONNECT`` is refused).
    :param app: the application (WSGI) that answers the requests inside.
    :param limits: returns the server's limits now.
    :param keep_alive: returns whether connections stay open after a response.
    :param reports: where the connections record what only the wire learns.
    :param track: ``(plain socket, TLS socket)``: ``stop()`` must now shut the TLS one down.
    :param untrack: the TLS socket is closed.
    :param running: whether the server still runs.
    :param record_malformed: logs a refused request, ``(status, detail, request line)``.
    """

    def __init__(
        self,
        settings: Callable[[], tuple[CertificateSource | None, bool]],
        app: Any,
        limits: Callable[[], Limits],
        keep_alive: Callable[[], bool],
        reports: Reports,
        track: Callable[[socket.socket, socket.socket], None],
        untrack: Callable[[socket.socket], None],
        running: Callable[[], bool],
        record_malformed: Callable[[str, str], None],
    ) -> None:
        self._settings = settings
        self._app = app
        self._limits = limits
        self._keep_alive = keep_alive
        self._reports = reports
        self._track = track
        self._untrack = untrack
        self._running = running
        self._record_malformed = record_malformed
        self._contexts: TunnelContexts | None = None

    def open(self, sock: socket.socket, environ: dict[str, Any], rfile: Reader) -> None:
        """Answer a ``CONNECT`` and serve its tunnel until either side closes it.

        :raises BadRequest: when the server is not intercepting now.
        """
        source, serves_tls = self._settings()
        target = environ["REQUEST_URI"]
        if source is None or serves_tls or not isinstance(rfile, ConnReader):
            raise BadRequest(
                400,
                f"CONNECT {target}: this server is not intercepting"
                + (" (an HTTPS server never does)" if serves_tls else "")
                + "; to fix: run the test with httpdouble.intercept(httpserver) or the"
                " httpserver_intercept fixture, or point the client at server.url_for()",
            )
        host = split_authority(target)[0]
        sock.sendall(ESTABLISHED)
        if rfile.buf:  # the client did not wait for the 200: it speaks plain HTTP
            first = rfile.buf[0]
        else:
            peeked = sock.recv(1, socket.MSG_PEEK)
            if not peeked:  # the client left, or stop() shut the socket
                return
            first = peeked[0]
        info = ConnectionInfo(
            server_name=environ["SERVER_NAME"],  # the server's own address, as outside
            server_port=int(environ["SERVER_PORT"]),
            scheme="https" if first == _TLS_HANDSHAKE else "http",
            remote_addr=environ["REMOTE_ADDR"],
            remote_port=int(environ["REMOTE_PORT"]),
            keep_alive=self._keep_alive(),
            tunnel_target=target,
        )
        if first != _TLS_HANDSHAKE or rfile.buf:
            while serve_one(sock, info, self._app, self._limits(), self._reports, rfile):
                pass
            return
        contexts = self._contexts
        if contexts is None or contexts.source is not source:
            contexts = self._contexts = TunnelContexts(source)
        self._serve_tls(sock, contexts, host, target, info)

    def _serve_tls(
        self,
        sock: socket.socket,
        contexts: TunnelContexts,
        host: str,
        target: str,
        info: ConnectionInfo,
    ) -> None:
        tls = contexts.for_host(host).wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        )
        self._track(sock, tls)  # the plain socket is detached: stop() shuts this one down
        try:
            if not self._running():
                return
            try:
                tls.do_handshake()
            except (ssl.SSLError, OSError) as exc:
                if self._running():
                    self._record_malformed(
                        tunnel_failure_detail(exc, target), f"CONNECT {target} (TLS handshake)"
                    )
                return
            serve_connection(tls, info, self._app, self._limits(), self._reports)
        finally:
            self._untrack(tls)
            with contextlib.suppress(OSError):
                tls.close()
