"""Helpers shared by the test tiers: whole pytest runs and the IPv6 probe."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CLIENT_HELPERS = '''
import http.client
import urllib.parse


def get(url, method="GET", body=None, headers=None):
    """Send one request with http.client and return (status, text)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        target = parts.path + ("?" + parts.query if parts.query else "")
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()
'''

SUITE_INI = (
    "[pytest]\nfilterwarnings = error\n"
    # pytest-asyncio (a test dependency) warns, an error here, when this is unset.
    "asyncio_default_fixture_loop_scope = function\n"
)
"""The ini file of a pytester run: warnings are errors, as in our own suite."""

Runner = Callable[..., pytest.RunResult]
"""Runs pytest in a subprocess with the given arguments (the ``run`` fixture)."""

RUN_TIMEOUT = 150


def load_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def has_ipv6_loopback() -> bool:
    """Return whether this machine can bind ``::1``."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True
