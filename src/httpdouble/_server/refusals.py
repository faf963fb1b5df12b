"""The words for a request refused before any handler saw it: a failed TLS handshake, a limit.

Each says what happened, the likely cause, and what to do; the server puts them in the
finding's detail.
"""

from __future__ import annotations

import ssl

from .._wire.request import Limits

# OpenSSL's reasons when the client sent an alert because it rejected our certificate.
_UNTRUSTED = frozenset(
    {
        "TLSV1_ALERT_UNKNOWN_CA",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
        "TLSV1_ALERT_DECRYPT_ERROR",
    }
)
# ... and when the first bytes were a plain HTTP request (a method, not a TLS record).
_PLAIN_HTTP = frozenset({"HTTP_REQUEST", "HTTPS_PROXY_REQUEST"})

# The Limits fields behind each status, for the remedy.
_LIMIT_FIELDS = {
    413: ("max_body_bytes",),
    414: ("max_request_line",),
    431: ("max_header_count", "max_header_bytes"),
}


def tls_failure_detail(exc: BaseException) -> str:
    """Return the detail of a finding for a TLS handshake that failed with ``exc``."""
    reason = exc.reason if isinstance(exc, ssl.SSLError) else None
    if reason in _UNTRUSTED:
        return (
            f"TLS handshake failed: the client rejected the server's certificate ({exc})\n"
            "the client does not trust the certificate authority that signed it\n"
            "to fix: make the client trust httpsserver_certificates.ca_bundle, e.g."
            " requests.get(url, verify=httpsserver_certificates.ca_bundle) or"
            " httpx.Client(verify=httpsserver_certificates.client_context())"
        )
    if reason in _PLAIN_HTTP:
        return (
            f"TLS handshake failed: the client spoke plain HTTP to this HTTPS server ({exc})\n"
            "to fix: build the URL with server.url_for(), which starts with https://"
        )
    return (
        f"TLS handshake failed: {exc}\n"
        "the client may not trust httpsserver_certificates.ca_bundle, or may not speak TLS;"
        " use server.url_for() for the URL and trust the CA bundle in the client"
    )


def limit_detail(status: int, reason: str, limits: Limits) -> str:
    """Return the detail of a finding for a request answered ``status`` because of ``reason``.

    A request over one of the server's :class:`~httpdouble.Limits` (413, 414, 431) gets
    the limit's name, its value, and how to raise it; any other status, the reason alone.
    """
    fields = _LIMIT_FIELDS.get(status)
    detail = f"answered {status}: {reason}"
    if fields is None:
        return detail
    values = ", ".join(f"{name}={getattr(limits, name)}" for name in fields)
    example = ", ".join(f"{name}={2 * getattr(limits, name)}" for name in fields)
    return (
        f"{detail}\n"
        f"the request is over a limit of this server, not invalid HTTP: Limits({values})\n"
        f"to fix: raise it, e.g. server.limits = Limits({example}) for this test,"
        f" or HTTPServer(limits=Limits({example})); or send a smaller request"
    )


def tunnel_failure_detail(exc: BaseException, target: str) -> str:
    """Return the detail of a finding for a failed TLS handshake inside a ``CONNECT`` tunnel."""
    host = target.rpartition(":")[0].removeprefix("[").removesuffix("]")
    reason = exc.reason if isinstance(exc, ssl.SSLError) else None
    cause = (
        f"the client rejected the certificate httpdouble's test CA issued for {host}"
        if reason in _UNTRUSTED
        else f"the client did not finish the handshake for {host}"
    )
    return (
        f"TLS handshake failed in the tunnel to {target}: {cause} ({exc})\n"
        "the client probably does not trust the test CA: it ignores SSL_CERT_FILE,"
        " REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE, or read them before interception began\n"
        "to fix: make the client while interception is on (httpx reads the variables when a"
        " client is made, aiohttp when it is imported), or give it the CA:"
        " requests.get(url, verify=interception.ca_bundle),"
        " httpx.Client(verify=interception.client_ssl_context()),"
        " aiohttp's session.get(url, ssl=interception.client_ssl_context())"
    )
