"""Per-process plugin state and settings, shared by the hooks and the fixtures."""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ._findings import Finding
from ._report import Report, ReportMode
from ._server import HTTPServer
from ._xdist import PortServer

HOST_ENV = "PYTEST_HTTPSERVER_HOST"
PORT_ENV = "PYTEST_HTTPSERVER_PORT"


class Role(enum.Enum):
    """What this process is in the run."""

    STANDALONE = "standalone"
    CONTROLLER = "controller"
    WORKER = "worker"


@dataclass
class State:
    """Per-process plugin state, kept in ``config.stash``."""

    role: Role
    worker: str
    mode: ReportMode
    json_path: Path | None
    report: Report = field(default_factory=Report)
    portserver: PortServer | None = None
    portserver_address: str = ""
    servers: list[HTTPServer] = field(default_factory=list)
    requests: int = 0
    tests: int = 0
    outside: list[Finding] = field(default_factory=list)


STATE = pytest.StashKey[State]()
TEST_DATA = pytest.StashKey[dict[str, Any]]()


def state_of(config: pytest.Config) -> State:
    return config.stash[STATE]


METAVARS = {
    "httpserver_report": "MODE",
    "httpserver_report_json": "PATH",
    "httpserver_host": "HOST",
    "httpserver_port": "PORT",
}
SETTINGS: dict[str, tuple[str, str | None, str]] = {
    "httpserver_report": (
        "--httpserver-report",
        None,
        "end-of-run HTTP report: none, problems (the default) or all (every request).",
    ),
    "httpserver_report_json": (
        "--httpserver-report-json",
        None,
        "also write the end-of-run HTTP report as JSON to this path.",
    ),
    "httpserver_host": (
        "--httpserver-host",
        HOST_ENV,
        "host the server listens on (default: localhost, which is 127.0.0.1 and ::1).",
    ),
    "httpserver_port": (
        "--httpserver-port",
        PORT_ENV,
        "fixed port of the server (default: 0, a free port for each process).",
    ),
}


def setting(config: pytest.Config, name: str) -> tuple[str, str] | None:
    """Return ``(value, where it came from)``: command line, then environment, then ini."""
    flag, env, _ = SETTINGS[name]
    value = config.getoption(name)
    if value not in (None, ""):
        return str(value), flag
    if env is not None and os.environ.get(env):
        return os.environ[env], f"environment variable {env}"
    ini = config.getini(name)
    if ini:
        return str(ini).strip(), f"ini option {name}"
    return None
