"""The readiness check: one request over the socket, answered by the server itself.

``HTTPServer(startup_timeout=...)`` runs it at the end of ``start()``, as
pytest-httpserver does. The request carries a token in :data:`READINESS_HEADER`;
the dispatcher answers a request with the token it expects ``200 OK`` before any
handler is looked up, and logs nothing.
"""

from __future__ import annotations

import http.client
import ssl

from .._app.readiness import READINESS_BODY, READINESS_HEADER


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
