"""The broken suite tests the same client as the demo suite: import it from there."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "demo"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    # After test_leaves_a_request_behind has ended: let its thread send, and wait for it.
    result = yield
    if item.name == "test_leaves_a_request_behind":
        item.module.LATE.set()
        for sender in item.module.SENDERS:
            sender.join(10)
    return result
