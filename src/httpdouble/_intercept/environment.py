"""The proxy and CA environment variables of an interception, set and restored exactly.

Measured with requests, httpx, aiohttp, urllib.request and curl (docs/howto/intercept.rst):

- proxies: both cases of ``HTTP_PROXY``, ``HTTPS_PROXY`` and ``ALL_PROXY`` (clients prefer
  the lower-case one; curl reads ``http_proxy`` in lower case only);
- ``NO_PROXY`` is replaced, not extended: an inherited entry such as ``.test`` would send
  a request past the server. Loopback stays direct (``[::1]`` would break httpx);
- the CA: ``SSL_CERT_FILE`` (httpx, aiohttp, urllib), ``REQUESTS_CA_BUNDLE`` (requests),
  ``CURL_CA_BUNDLE`` (curl, and requests too); ``SSL_CERT_DIR`` is unset meanwhile, so a
  directory of other certificates plays no part.

urllib.request fixes its proxies when its first ``urlopen()`` builds the process's opener:
an opener built before is put aside while interception is on (the next ``urlopen()`` builds
one that sees the variables) and put back after.
"""

from __future__ import annotations

import os
import sys
from typing import Any

PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)
NO_PROXY_VARIABLES = ("NO_PROXY", "no_proxy")
CA_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
UNSET_VARIABLES = ("SSL_CERT_DIR",)
LOOPBACK_DIRECT = "localhost,127.0.0.1,::1"


def interception_variables(proxy_url: str, ca_bundle: str) -> dict[str, str | None]:
    """Return the variables an interception sets (``None``: unset while it lasts)."""
    values: dict[str, str | None] = dict.fromkeys(PROXY_VARIABLES, proxy_url)
    values.update(dict.fromkeys(NO_PROXY_VARIABLES, LOOPBACK_DIRECT))
    values.update(dict.fromkeys(CA_VARIABLES, ca_bundle))
    values.update(dict.fromkeys(UNSET_VARIABLES, None))
    return values


class SavedEnvironment:
    """Sets variables, keeping what they were (unset included), until :meth:`restore`."""

    def __init__(self, values: dict[str, str | None]) -> None:
        self._saved = {name: os.environ.get(name) for name in values}
        self._opener: Any = _take_urllib_opener()
        for name, value in values.items():
            _put(name, value)

    def restore(self) -> None:
        """Give every variable back its value from before (unset if it was unset)."""
        for name, value in self._saved.items():
            _put(name, value)
        _put_urllib_opener(self._opener)


def _put(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _take_urllib_opener() -> Any:
    """Put aside the opener ``urlopen()`` uses, which holds the proxies of its day."""
    request = sys.modules.get("urllib.request")
    opener = getattr(request, "_opener", None)
    if request is not None and opener is not None:
        request.install_opener(None)
    return opener


def _put_urllib_opener(opener: Any) -> None:
    request = sys.modules.get("urllib.request")
    if request is not None:
        request.install_opener(opener)
