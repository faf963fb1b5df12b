"""A child process talking to the server: curl when it is installed, and a Python child."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

CHILD_SCRIPT = """\
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"X-From": "child"})
with urllib.request.urlopen(req, timeout=5) as r:
    sys.stdout.write(r.read().decode())
"""


def _child_command(url: str, use_curl: bool) -> list[str]:
    curl = shutil.which("curl")
    if use_curl:
        if curl is None:
            pytest.skip("curl is not installed")
        return [curl, "--silent", "--show-error", "--max-time", "5", "-H", "X-From: child", url]
    return [sys.executable, "-c", CHILD_SCRIPT, url]


@pytest.mark.parametrize("use_curl", [True, False], ids=["curl", "python-child"])
def test_a_child_process_reaches_the_server(httpserver, use_curl):
    httpserver.expect_request("/child", headers={"X-From": "child"}).respond_with_data("hi child")
    command = _child_command(httpserver.url_for("/child"), use_curl)

    completed = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)

    assert completed.stdout == "hi child"
    assert len(httpserver.log) == 1
