"""Throwaway TLS certificates for the ``httpsserver`` fixture (made with trustme)."""

from __future__ import annotations

import ssl
from pathlib import Path

from .._errors import HTTPDoubleUsageError

SERVER_NAMES = ("localhost", "127.0.0.1", "::1")


class TLSCertificates:
    """A certificate authority made for this run and a server certificate it signed.

    The certificate is valid for ``localhost``, ``127.0.0.1`` and ``::1``.

    :param directory: where the CA bundle is written (a pytest temporary directory).
    :ivar ca_bundle: path of the CA certificate in PEM form, for clients
        (``requests.get(..., verify=ca_bundle)``, ``httpx.Client(verify=...)``,
        ``urllib3.PoolManager(ca_certs=...)``).
    :ivar server_context: the server-side ``ssl.SSLContext``.
    """

    def __init__(self, directory: Path) -> None:
        try:
            import trustme
        except ImportError:
            raise HTTPDoubleUsageError(
                "httpsserver fixture",
                expected="the trustme package, which makes the throwaway certificates",
                got="trustme is not installed",
                remedy="pip install 'pytest-httpdouble[tls]' (or pip install trustme)",
            ) from None
        authority = trustme.CA()
        certificate = authority.issue_cert(*SERVER_NAMES)
        directory.mkdir(parents=True, exist_ok=True)
        self.ca_bundle = str(directory / "httpdouble-ca.pem")
        authority.cert_pem.write_to_path(self.ca_bundle)
        self.server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(self.server_context)

    def client_context(self) -> ssl.SSLContext:
        """Return a client-side context that trusts the server's certificate."""
        return ssl.create_default_context(cafile=self.ca_bundle)
