"""The readiness exchange: the header the probe sends and the answer dispatch gives.

The probe itself (a request over the socket) is :mod:`httpdouble._server.readiness_probe`.
"""

from __future__ import annotations

READINESS_HEADER = "X-Httpdouble-Readiness"
READINESS_ENVIRON_KEY = "HTTP_X_HTTPDOUBLE_READINESS"
READINESS_BODY = b"OK"
