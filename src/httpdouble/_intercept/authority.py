"""The process's test CA: made on first use, kept in a private folder, gone at exit.

One CA per process (each xdist worker has its own), made with trustme when interception
first needs it. Its name says what it is (``httpdouble test CA - not for production``).
Its key stays in memory; what is written (the CA's certificate, the bundle clients trust,
and each host's certificate and key for the moment ``ssl`` loads them) goes to a folder of
:func:`tempfile.mkdtemp` (mode 0700), each file mode 0600, and the folder is removed when
the session ends or the process exits. Nothing is installed anywhere: only clients told
through the environment variables (or given :meth:`SessionCA.client_ssl_context`) trust it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import ssl
import tempfile
import threading
from typing import TYPE_CHECKING

from .._errors import HTTPDoubleUsageError

if TYPE_CHECKING:
    import trustme

CA_ORGANIZATION = "httpdouble test CA - not for production"
# Host certificates kept per process, at most (a test reaching thousands of hosts).
_MAX_LEAVES = 1024


class SessionCA:
    """A certificate authority made for this process, and the host certificates it issues.

    :ivar folder: the private folder (mode 0700) its files are in.
    :ivar ca_bundle: the CA's certificate in PEM form (mode 0600), for clients to trust.
    """

    def __init__(self) -> None:
        try:
            import trustme
        except ImportError:
            raise HTTPDoubleUsageError(
                "interception (httpdouble.intercept(server), the httpserver_intercept fixture)",
                expected="the trustme package, which makes the test CA for HTTPS interception",
                got="trustme is not installed",
                remedy="pip install 'pytest-httpdouble[tls]' (or pip install trustme)",
            ) from None
        self._ca = trustme.CA(
            organization_name=CA_ORGANIZATION,
            organization_unit_name=f"pytest-httpdouble, process {os.getpid()}",
        )
        self.folder = tempfile.mkdtemp(prefix="httpdouble-ca-")  # mode 0700
        self.ca_bundle = os.path.join(self.folder, "ca.pem")
        _write_private(self.ca_bundle, self._ca.cert_pem.bytes())
        self._leaves: dict[str, trustme.LeafCert] = {}
        self._lock = threading.Lock()
        self._count = 0

    def load_certificate(self, context: ssl.SSLContext, host: str) -> None:
        """Load a certificate for ``host`` (issued once, then reused) into ``context``."""
        leaf = self._leaves.get(host)
        if leaf is None:
            leaf = self._ca.issue_cert(host)
            with self._lock:
                if len(self._leaves) >= _MAX_LEAVES:
                    self._leaves.clear()
                leaf = self._leaves.setdefault(host, leaf)
        with self._lock:
            self._count += 1
            path = os.path.join(self.folder, f"host-{self._count}.pem")
        # ssl loads a key from a file only: it is written to the private folder, and no longer.
        _write_private(path, leaf.private_key_and_cert_chain_pem.bytes())
        try:
            context.load_cert_chain(path)
        finally:
            os.unlink(path)

    def client_ssl_context(self) -> ssl.SSLContext:
        """Return a client-side context that trusts this CA (and nothing else)."""
        return ssl.create_default_context(cafile=self.ca_bundle)

    def remove(self) -> None:
        """Remove the folder and everything in it."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _write_private(path: str, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


_SESSION_CA: SessionCA | None = None
_LOCK = threading.Lock()


def session_ca() -> SessionCA:
    """Return the process's test CA, made on the first call."""
    global _SESSION_CA
    with _LOCK:
        if _SESSION_CA is None:
            _SESSION_CA = SessionCA()
            atexit.register(discard_session_ca)
        return _SESSION_CA


def discard_session_ca() -> None:
    """Remove the process's test CA and its folder, if one was made (the next is new)."""
    global _SESSION_CA
    with _LOCK:
        ca, _SESSION_CA = _SESSION_CA, None
    if ca is not None:
        ca.remove()
