"""Issue 23: a usage error shows the test's line and our message, none of our frames.

As for a teardown failure, ``--full-trace`` shows them all.
"""

from __future__ import annotations

import re

import pytest

from ..support import Runner
from .approval import block, normalised

MISUSE = """
def test_a_path_without_its_slash(httpserver):
    httpserver.expect_request("users")


def test_json_that_is_not_json(httpserver):
    httpserver.expect_request("/x").respond_with_json({"at": object()})
"""

APPROVED_URL_FOR = """\
________________________ test_a_path_without_its_slash _________________________

httpserver = <HTTPServer host=localhost port=PORT>

    def test_a_path_without_its_slash(httpserver):
>       httpserver.expect_request("users")
E       httpdouble.HTTPDoubleUsageError: invalid uri
E         expected: a path starting with '/': every request path does
E         got:      'users' (str)
E         to fix:   pass '/users'

test_misuse.py:2: HTTPDoubleUsageError"""


def test_usage_errors_hide_our_frames_unless_full_trace(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(test_misuse=MISUSE)
    result = run()
    result.assert_outcomes(failed=2)
    output = re.sub(r"port=\d+", "port=PORT", normalised(result.stdout.str()))
    header = next(
        line for line in output.splitlines() if " test_a_path_without_its_slash " in line
    )
    assert block(output, header) == APPROVED_URL_FOR
    json_failure = block(
        output, next(line for line in output.splitlines() if " test_json_" in line)
    )
    assert "E       httpdouble.HTTPDoubleUsageError: invalid response_json" in json_failure
    assert "test_misuse.py:6: HTTPDoubleUsageError" in json_failure
    assert "httpdouble/_" not in output  # none of our modules' frames

    full = run("--full-trace").stdout.str()
    assert "httpdouble/_app/registration.py" in full
    assert "httpdouble/_app/expectations.py" in full
