"""Per-process plugin state and settings, shared by the hooks and the fixtures."""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ._context import KEEP_ALIVE_INI
from ._report import Report, ReportMode
from ._secret_names import configure_names
from ._xdist import VIA_PORTPICKER, PortChoice

if TYPE_CHECKING:  # imported late: a run where no test uses a server never needs them
    from ._findings import Finding
    from ._ports import PortCoordinator
    from ._server import HTTPServer

HOST_ENV = "PYTEST_HTTPSERVER_HOST"
PORT_ENV = "PYTEST_HTTPSERVER_PORT"


class Role(enum.Enum):
    """What this process is in the run."""

    STANDALONE = "standalone"
    CONTROLLER = "controller"
    WORKER = "worker"


class State:
    """Per-process plugin state, kept in ``config.stash`` (a plain class: see ``_report``)."""

    def __init__(self, role: Role, worker: str) -> None:
        self.role = role
        self.worker = worker
        self.mode = ReportMode.PROBLEMS
        self.json_path: Path | None = None
        self.html_path: Path | None = None
        self.exchanges = False  # send each request and response (the HTML reports need them)
        self.pytest_html = False  # pytest-html writes a report: each test's row gets our extra
        self.host: str | None = None
        self.port: int | None = None
        self.fail_outside = True
        self.keep_alive = True  # httpserver_keep_alive: the fixtures' servers keep connections
        self.report = Report()
        self.coordinator: PortCoordinator | None = None  # the controller's, under xdist
        self.ports = PortChoice(VIA_PORTPICKER)
        self.servers: list[HTTPServer] = []
        self.requests = 0
        self.tests = 0
        self.outside: list[Finding] = []
        self.previous_test: str | None = None  # the test that ran before the current one
        self.hint_given = False  # the line on turning the teardown check off was shown


STATE = pytest.StashKey[State]()
TEST_DATA = pytest.StashKey[dict[str, Any]]()


def state_of(config: pytest.Config) -> State:
    return config.stash[STATE]


METAVARS = {
    "httpserver_report": "MODE",
    "httpserver_report_json": "PATH",
    "httpserver_report_html": "PATH",
    "httpserver_host": "HOST",
    "httpserver_port": "PORT",
    "httpserver_outside_problems": "fail|ignore",
    "httpserver_secret_names": "NAMES",
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
    "httpserver_report_html": (
        "--httpserver-report-html",
        None,
        "also write the end-of-run HTTP report as one self-contained HTML file to this path"
        " (a timeline per worker, every request and response, the problems).",
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
    "httpserver_outside_problems": (
        "--httpserver-outside-problems",
        None,
        "HTTP problems that no test's teardown check raised (outside any test, or found when"
        " the session ended): fail (the default) fails the run; ignore only reports them.",
    ),
    "httpserver_secret_names": (
        "--httpserver-secret-names",
        None,
        "more names whose values every report masks, as it masks password, token, secret,"
        " key and session (comma- or space-separated; a header, parameter, cookie, form"
        " field or JSON key whose name contains one is masked).",
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


OUTSIDE_POLICIES = ("fail", "ignore")
PYTEST_HTML_PLUGIN = "html"


def _pytest_html_wanted(config: pytest.Config) -> bool:
    """Return whether pytest-html is active and writes a report (``--html``) in this run."""
    if not config.pluginmanager.has_plugin(PYTEST_HTML_PLUGIN):
        return False
    return bool(getattr(config.option, "htmlpath", None))


def _bad(source: str, value: str, expected: str) -> pytest.UsageError:
    where = source if source.startswith("-") else f"the {source}"
    return pytest.UsageError(f"httpdouble: {where} is {value!r}; expected {expected}")


def read_settings(config: pytest.Config, state: State) -> None:
    """Check every setting once, at startup, and keep the parsed values in ``state``.

    :raises pytest.UsageError: one line naming the bad setting, where it came from, its value
        and what is expected.
    """
    chosen = setting(config, "httpserver_report")
    if chosen is not None:
        value, source = chosen
        try:
            state.mode = ReportMode(value.lower())
        except ValueError:
            raise _bad(source, value, "none, problems or all") from None
    chosen = setting(config, "httpserver_report_json")
    if chosen is not None:
        state.json_path = Path(chosen[0])
    chosen = setting(config, "httpserver_report_html")
    if chosen is not None:
        state.html_path = Path(chosen[0])
    state.pytest_html = _pytest_html_wanted(config)
    state.exchanges = state.html_path is not None or state.pytest_html
    chosen = setting(config, "httpserver_host")
    if chosen is not None:
        state.host = chosen[0]
    chosen = setting(config, "httpserver_port")
    if chosen is not None:
        value, source = chosen
        port = int(value) if value.strip().isdigit() else -1
        if not 0 <= port <= 65535:
            raise _bad(source, value, "an integer from 0 to 65535 (0: a free port)")
        state.port = port
    chosen = setting(config, "httpserver_outside_problems")
    if chosen is not None:
        value, source = chosen
        if value.lower() not in OUTSIDE_POLICIES:
            raise _bad(source, value, "fail (the default) or ignore")
        state.fail_outside = value.lower() == "fail"
    state.keep_alive = ini_bool(config, KEEP_ALIVE_INI, default=True)
    chosen = setting(config, "httpserver_secret_names")
    configure_names(chosen[0].replace(",", " ").split() if chosen is not None else ())


_TRUTH = {"y": True, "yes": True, "t": True, "true": True, "on": True, "1": True}
_TRUTH |= {"n": False, "no": False, "f": False, "false": False, "off": False, "0": False}


def ini_bool(config: pytest.Config, name: str, default: bool) -> bool:
    """Return a boolean ini option (registered as text, so a bad value can be named).

    :raises pytest.UsageError: one line naming the option, its value and what is expected.
    """
    raw = str(config.getini(name)).strip()
    if not raw:
        return default
    try:
        return _TRUTH[raw.lower()]
    except KeyError:
        raise _bad(
            f"ini option {name}", raw, "true or false (also: yes/no, on/off, 1/0)"
        ) from None
