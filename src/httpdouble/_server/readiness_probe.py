"""The readiness check: one request over the socket, answered by the server itself.

``HTTPServer(startup_timeout=...)`` runs it at the end of ``start()``, as
pytest-httpserver does. The request carries a token in :data:`READINESS_HEADER`;
the dispatcher answers a request with the token it expects ``200 OK`` before any
handler is looked up, and logs nothing.
"""

from __future__ import annotations

import http.client
import secrets
import ssl
from typing import TYPE_CHECKING

from .._app.readiness import READINESS_BODY, READINESS_HEADER
from .._errors import HTTPServerError

if TYPE_CHECKING:
    from .._app.entry import Application


def prove_ready(
    app: Application, address: tuple[str, int], tls: bool, timeout: float, url: str
) -> None:
    """Run the readiness check of the server at ``address`` (``url``), whose app is ``app``.

    :raises HTTPServerError: when the answer is not the expected one, or does not come in
        ``timeout`` seconds.
    """
    token = secrets.token_hex(16)
    app.expect_probe(token)
    try:
        ready = probe_readiness(*address, tls, timeout, token)
    except OSError as exc:
        raise HTTPServerError(
            f"readiness check of {url} failed: {exc}\n"
            f"  to fix: raise startup_timeout (now {timeout:g} s) if the machine is slow"
        ) from exc
    finally:
        app.expect_probe(None)
    if not ready:
        raise HTTPServerError(
            f"readiness check of {url} got an unexpected answer\n"
            "  to fix: make sure nothing else listens on that port"
        )


def probe_readiness(host: str, port: int, tls: bool, timeout: float, token: str) -> bool:
    """Send the readiness request; return whether the answer is the server's own.

    :raises OSError: when the connection or the exchange fails or times out.
    """
    connection: http.client.HTTPConnection
    if tls:
        # Our own server on loopback: what is checked is that it answers, not its certificate.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/", headers={READINESS_HEADER: token, "Connection": "close"})
        response = connection.getresponse()
        return response.status == 200 and response.read() == READINESS_BODY
    except http.client.HTTPException as exc:
        raise OSError(f"the answer was not HTTP: {exc!r}") from exc
    finally:
        connection.close()
