"""Helpers for the plugin tier: whole pytest runs in subprocesses through ``pytester``."""

from __future__ import annotations

import json
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


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester with a ``client`` helper module and warnings as errors."""
    pytester.makepyfile(client=CLIENT_HELPERS)
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    return pytester


Runner = Callable[..., pytest.RunResult]


@pytest.fixture
def run(pytester: pytest.Pytester) -> Runner:
    """Run pytest in a subprocess (xdist workers need a real process)."""

    def runner(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "-p", "no:benchmark", *args, timeout=120
        )

    return runner


def load_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data
