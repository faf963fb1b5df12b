# conftest.py: a fixed port per xdist worker, for code under test that cannot be told a port.
from __future__ import annotations

import os


def pytest_httpdouble_listen_address(config, worker_id):
    base = int(os.environ.get("MY_SUITE_BASE_PORT", "18080"))
    if worker_id == "main":  # plain pytest, no xdist
        return ("localhost", base)
    return ("localhost", base + int(worker_id.removeprefix("gw")))
