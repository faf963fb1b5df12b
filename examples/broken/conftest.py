"""The broken suite tests the same client as the demo suite: import it from there."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "demo"))


def _release_the_late_sender(module):
    module.LATE.set()
    for sender in module.SENDERS:
        sender.join(10)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    # After test_leaves_a_request_behind has ended: let its thread send, and wait for it.
    result = yield
    if item.name == "test_leaves_a_request_behind":
        _release_the_late_sender(item.module)
    return result


@pytest.fixture(scope="session", autouse=True)
def _late_request_before_the_server_stops(request, make_httpserver):
    # When test_leaves_a_request_behind is the last test of its xdist worker, the worker's
    # server stops inside that test's protocol, before the hook above runs: send the late
    # request just before the server stops instead (this fixture is torn down first).
    yield
    for item in request.session.items:
        if item.name == "test_leaves_a_request_behind":
            _release_the_late_sender(item.module)
