"""Per-process plugin state and settings, shared by the hooks and the fixtures."""

from __future__ import annotations

import enum
import ipaddress
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .._errors import HTTPDoubleUsageError
from .._log.context import KEEP_ALIVE_INI, NO_CHECK_MARKER, TEARDOWN_CHECK_INI
from .._matching.secret_names import configure_names
from .._report.report import Report, ReportMode
from .xdist import VIA_PORTPICKER, PortChoice

if TYPE_CHECKING:  # imported late: a run where no test uses a server never needs them
    from .._report.findings import Finding
    from .._server.server import HTTPServer
    from .port_coordinator import PortCoordinator

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
        self.teardown_check = True  # the ini option httpserver_teardown_check
        self.write_errors: list[str] = []  # one line for each report file not written
        self.report = Report()
        self.coordinator: PortCoordinator | None = None  # the controller's, under xdist
        self.ports = PortChoice(VIA_PORTPICKER)
        self.servers: list[HTTPServer] = []
        # (server, port, URL) of the last test's server: the report data's URL, made once.
        self.last_url: tuple[HTTPServer, int, str] | None = None
        self.requests = 0
        self.tests = 0
        self.outside: list[Finding] = []
        self.previous_test: str | None = None  # the test that ran before the current one
        self.item: pytest.Item | None = None  # the test running now (pytest_runtest_protocol)
        # The teardown checks of the servers the test running now has (one per server).
        self.checks: list[Check] = []
        # (id of a test's parent node, fixture name) -> the FixtureDef of the server fixture its
        # tests get (see asking.server_for): a cached value is taken from it directly.
        self.server_defs: dict[tuple[Any, str], Any] = {}
        self.hint_given = False  # the line on turning the teardown check off was shown
        self.record_mode: str | None = None  # --httpserver-record or its ini twin
        self.record_mode_from_command_line: str | None = None  # wins over the marker's


STATE = pytest.StashKey[State]()
FIXTURE_ARGUMENTS_INI = "httpserver_fixture_arguments"
"""Ini option: the server fixtures take what they need as arguments (``argument_fixtures``)."""

TEST_DATA = pytest.StashKey[dict[str, Any]]()


def state_of(config: pytest.Config) -> State:
    return config.stash[STATE]


# The configured runs of this process, innermost last (a pytester run inside a test nests).
_CONFIGURED: list[pytest.Config] = []


def configured(config: pytest.Config) -> None:
    """Record a run from its ``pytest_configure`` until :func:`unconfigured`."""
    _CONFIGURED.append(config)


def unconfigured(config: pytest.Config) -> None:
    if config in _CONFIGURED:
        _CONFIGURED.remove(config)


def active_config() -> pytest.Config:
    """Return the innermost configured run: the one whose session fixtures are starting.

    The session fixtures take no ``pytestconfig`` or ``request`` argument: pytest looks up
    a fixture's arguments at every test that uses it, cached or not, and on pytest 9 a
    ``request`` argument builds an object at each lookup (issue 27: 5 of them a test).
    """
    if not _CONFIGURED:
        raise HTTPDoubleUsageError(
            "a fixture of httpdouble's",
            expected="a pytest run with the httpdouble plugin configured",
            got="no configured run in this process",
            remedy="let pytest load the plugin (do not pass -p no:httpdouble), or call the"
            " fixture's function only from within a test run",
        )
    return _CONFIGURED[-1]


METAVARS = {
    "httpserver_report": "MODE",
    "httpserver_report_json": "PATH",
    "httpserver_report_html": "PATH",
    "httpserver_host": "HOST",
    "httpserver_port": "PORT",
    "httpserver_outside_problems": "fail|ignore",
    "httpserver_secret_names": "NAMES",
    "httpserver_record": "MODE",
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
    "httpserver_record": (
        "--httpserver-record",
        None,
        "record mode of the tests marked httpserver_record: none (the default: replay their"
        " cassettes only), once (record a missing cassette), new_episodes (record what a"
        " cassette lacks) or all (record every cassette again).",
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
RECORD_MARKER = "httpserver_record"
RECORD_MARKER_HELP = (
    f"{RECORD_MARKER}(mode=None, upstream=None, upstreams=None, ca=None): replay this test's"
    " cassette (cassettes/<module>/<test>.json beside the test file) and, in a recording mode,"
    " forward what it lacks to the upstream and record it."
)
RECORD_MODES = ("none", "once", "new_episodes", "all")  # _record.recorder.RecordMode's values
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
    # Only the controller (or the single process) writes the files: workers need not look.
    check_paths = state.role is not Role.WORKER
    chosen = setting(config, "httpserver_report_json")
    if chosen is not None:
        state.json_path = _report_path(*chosen, check=check_paths)
    chosen = setting(config, "httpserver_report_html")
    if chosen is not None:
        state.html_path = _report_path(*chosen, check=check_paths)
        if state.html_path == state.json_path:
            raise _bad(chosen[1], chosen[0], "another path than the JSON report's")
    state.pytest_html = _pytest_html_wanted(config)
    state.exchanges = state.html_path is not None or state.pytest_html
    chosen = setting(config, "httpserver_host")
    if chosen is not None:
        value, source = chosen
        if not _is_host(value):
            raise _bad(
                source, value, "a host name or IP address without a port, e.g. localhost or ::1"
            )
        state.host = value.strip("[]")
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
    state.teardown_check = _teardown_check(config)
    chosen = setting(config, "httpserver_record")
    if chosen is not None:
        value, source = chosen
        if value.lower() not in RECORD_MODES:
            raise _bad(source, value, "none, once, new_episodes or all")
        state.record_mode = value.lower()
        if source.startswith("-"):
            state.record_mode_from_command_line = state.record_mode


# What pytest takes as a bool in an ini file (its own spelling list).
BOOL_WORDS = "true or false (also: yes/no, on/off, 1/0)"
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
        raise _bad(_ini_source(config, name), raw, BOOL_WORDS) from None


def _ini_source(config: pytest.Config, name: str) -> str:
    """Return where an ini option's value came from: ``-o NAME`` or the ini option."""
    overrides = getattr(config.option, "override_ini", None) or []
    given = any(str(o).split("=", 1)[0].strip() == name for o in overrides)
    return f"-o {name}" if given else f"ini option {name}"


_LABEL = r"[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(\.{_LABEL})*")


def _is_host(value: str) -> bool:
    """Return whether ``value`` is an IP address (brackets allowed) or a host name."""
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return _HOST_NAME.fullmatch(value) is not None
    return True


def _teardown_check(config: pytest.Config) -> bool:
    """Read the bool ini option ``httpserver_teardown_check``: a bad value is a usage error."""
    try:
        return bool(config.getini(TEARDOWN_CHECK_INI))
    except (ValueError, pytest.UsageError) as exc:  # pytest 8: ValueError; 9: UsageError
        quoted = re.findall(r"'([^']*)'", str(exc))
        value = quoted[-1] if quoted else str(exc)
        raise _bad(_ini_source(config, TEARDOWN_CHECK_INI), value, BOOL_WORDS) from None


def _report_path(value: str, source: str, *, check: bool) -> Path:
    """Return the report file's path; with ``check``, make sure it can be written at the end.

    Its folder is made now if missing (as the end of the run would), and a probe file is
    written there and removed: a path that cannot be written fails at startup, not after
    the run.
    """
    path = Path(value)
    if not check:
        return path
    expected = "a file path in a folder that exists (or can be made) and can be written"
    if path.is_dir():
        raise _bad(source, value, f"{expected}; it is a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path.parent, prefix=".httpdouble-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise _bad(source, value, f"{expected}; {path.parent}: {reason}") from None
    return path


class Check:
    """The teardown check of one server in one test (a test may use several servers)."""

    __slots__ = ("_enabled", "call_failed", "item", "server", "shown")

    def __init__(self, server: HTTPServer, item: pytest.Item) -> None:
        self.server = server
        self.item = item
        self.shown: list[Finding] = []  # already shown in the call's failure
        self.call_failed = False
        self._enabled: bool | None = None

    @property
    def enabled(self) -> bool:
        """Off with the marker or the ini option: the report only lists the findings then.

        Looked up when a finding needs it, not at every setup: most tests have none.
        """
        if self._enabled is None:
            self._enabled = _check_enabled(self.item)
        return self._enabled


def _check_enabled(item: pytest.Item) -> bool:
    if item.get_closest_marker(NO_CHECK_MARKER) is not None:
        return False
    return state_of(item.config).teardown_check  # read and checked at startup
