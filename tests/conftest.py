"""Fixtures shared by every tier: pytester runs in subprocesses, the IPv6 loopback."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from .support import CLIENT_HELPERS, RUN_TIMEOUT, SUITE_INI, Runner, has_ipv6_loopback

# The browser tests need Chromium and Playwright: `nox -s browser` runs them, and sets this.
BROWSER_ENV = "HTTPDOUBLE_BROWSER_TESTS"
collect_ignore = [] if os.environ.get(BROWSER_ENV) else ["browser"]

# CI runs the property and differential tests on a fixed set of examples, so a run is
# repeatable; locally each run explores new ones (and keeps what failed in .hypothesis/).
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester with a ``client`` helper module and warnings as errors."""
    pytester.makepyfile(client=CLIENT_HELPERS)
    pytester.makeini(SUITE_INI)
    return pytester


# The rerun plugins of the test extra stay out of pytester runs unless a test asks for them
# (tests/plugin/test_failed_call.py): pytest-rerunfailures' worker connects to the controller
# on 127.0.0.1, which a remote worker in a network namespace of its own cannot reach.
LEAN = ("-p", "no:cacheprovider", "-p", "no:benchmark", "-p", "no:rerunfailures", "-p", "no:flaky")


@pytest.fixture
def run(pytester: pytest.Pytester) -> Runner:
    """Run pytest in a subprocess (xdist workers and crashes need a real process)."""

    def runner(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(*LEAN, *args, timeout=RUN_TIMEOUT)

    return runner


@pytest.fixture(scope="session")
def ipv6_loopback() -> str:
    """``::1``, or a clean skip on a machine without IPv6."""
    if not has_ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback (::1)")
    return "::1"
