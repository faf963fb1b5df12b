"""The pytest plugin: thin glue between pytest events and the library.

Importing this module binds no socket and starts no thread: servers start when
a test first asks for one, and the portserver only when xdist starts local
workers.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from . import _hooks
from ._errors import HTTPDoubleFailure, HTTPDoubleUsageError, HTTPServerError, ServerStartError
from ._findings import NO_CHECK_MARKER, TEARDOWN_CHECK_INI, Finding, Kind, failure_message
from ._log import CONTEXT, Stamp
from ._report import Report, ReportMode, per_test_data, session_data
from ._server import DEFAULT_LISTEN_HOST, DEFAULT_LISTEN_PORT, HTTPServer, running_servers
from ._tls import TLSCertificates
from ._xdist import (
    WORKEROUTPUT_KEY,
    PortServer,
    is_local_popen,
    use_portserver_in_worker,
)

REPORT_ATTR = "httpdouble"
JUNIT_PROPERTY = "httpdouble"
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


def _state(config: pytest.Config) -> State:
    return config.stash[STATE]


# ------------------------------------------------------------------ configuration


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(_hooks)


# Every setting: command line option, its ini twin, its environment variable (or None), help.
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


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("httpserver", "pytest-httpdouble (HTTP test server)")
    for name, (flag, env, text) in SETTINGS.items():
        also = f" Ini: {name}." + (f" Environment: {env}." if env else "")
        group.addoption(flag, dest=name, metavar=METAVARS[name], default=None, help=text + also)
        parser.addini(name, text, default="")
    parser.addini(
        TEARDOWN_CHECK_INI,
        "fail a test at teardown when its HTTP traffic went wrong (default true).",
        type="bool",
        default=True,
    )


def _setting(config: pytest.Config, name: str) -> tuple[str, str] | None:
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


def _report_mode(config: pytest.Config) -> ReportMode:
    setting = _setting(config, "httpserver_report")
    if setting is None:
        return ReportMode.PROBLEMS
    value, source = setting
    try:
        return ReportMode(value.lower())
    except ValueError:
        raise HTTPDoubleUsageError(
            source,
            expected="one of: none, problems, all",
            got=value,
            remedy=f"set {source} to problems (the default), none or all",
        ) from None


INCUMBENT_PLUGIN = "pytest_httpserver"


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.has_plugin(INCUMBENT_PLUGIN):
        raise pytest.UsageError(
            "pytest-httpdouble and pytest-httpserver are both active\n"
            "  both define the 'httpserver' fixture, so which one a test gets is unclear\n"
            "  to fix: uninstall one of them (pip uninstall pytest-httpserver), or turn one"
            f" off for this run: -p no:{INCUMBENT_PLUGIN} or -p no:httpdouble"
        )
    config.addinivalue_line(
        "markers",
        f"{NO_CHECK_MARKER}: do not fail this test at teardown for its HTTP problems"
        " (they still appear in the end-of-run report).",
    )
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None:
        role, worker = Role.WORKER, str(workerinput.get("workerid", "gw?"))
    elif config.pluginmanager.has_plugin("dsession"):
        role, worker = Role.CONTROLLER, "controller"
    else:
        role, worker = Role.STANDALONE, "main"
    json_option = _setting(config, "httpserver_report_json")
    state = State(
        role=role,
        worker=worker,
        mode=_report_mode(config),
        json_path=Path(json_option[0]) if json_option else None,
    )
    if workerinput is not None:
        state.portserver_address = use_portserver_in_worker(workerinput) or ""
    CONTEXT.worker = worker
    config.stash[STATE] = state
    if role is not Role.WORKER:
        config.pluginmanager.register(_Collector(state.report), "httpdouble-collector")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is not None and state.portserver is not None:
        state.portserver.stop()


# -------------------------------------------------------------------- xdist hooks


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config: pytest.Config, specs: list[Any]) -> None:
    state = _state(config)
    if state.portserver is None and any(getattr(s, "popen", False) for s in specs):
        state.portserver = PortServer()
        state.portserver.start()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    state = _state(node.config)
    if state.portserver is not None and state.portserver.address and is_local_popen(node):
        node.workerinput["httpdouble_portserver"] = state.portserver.address


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    state = _state(node.config)
    output = getattr(node, "workeroutput", None) or {}
    data = output.get(WORKEROUTPUT_KEY)
    if data is not None:
        state.report.add_session(data)
    else:
        state.report.worker_down(str(node.gateway.id), error)


@pytest.hookimpl(optionalhook=True)
def pytest_handlecrashitem(crashitem: str, report: Any, sched: Any) -> None:
    node = getattr(report, "node", None)
    if node is not None:
        _state(node.config).report.worker_crashed_in(str(node.gateway.id), crashitem)


# ---------------------------------------------------------------------- per test


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    CONTEXT.enter_test(item.nodeid)
    try:
        return (yield)
    finally:
        CONTEXT.leave_test(item.nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report: Any = yield
    if call.when == "teardown":
        data = item.stash.get(TEST_DATA, None)
        if data is not None:
            setattr(report, REPORT_ATTR, data)
    return report  # type: ignore[no-any-return]


class _Collector:
    """Feeds test reports to the report (controller and single process only)."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, REPORT_ATTR, None)
        if report.when == "teardown" and isinstance(data, dict):
            self.report.add_test(data)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    # trylast: session fixtures (the server) are torn down by then.
    state = _state(session.config)
    _stop_forgotten_servers(state)
    if state.role is Role.CONTROLLER:
        _write_json(state)
        return
    data = session_data(
        worker=state.worker,
        url=" ".join(server.url_for("/").rstrip("/") for server in state.servers),
        requests=state.requests + sum(s.total_requests for s in state.servers if s.is_running()),
        tests=state.tests,
        outside=state.outside,
        portserver=state.portserver_address,
    )
    if state.role is Role.WORKER:
        session.config.workeroutput[WORKEROUTPUT_KEY] = data  # type: ignore[attr-defined]
    else:
        if state.servers or state.outside:
            state.report.add_session(data)
        _write_json(state)


def _stop_forgotten_servers(state: State) -> None:
    """Stop servers that test code started and never stopped; report each one."""
    for server in running_servers():
        url = server.url_for("/")
        state.outside.extend(server.take_findings(include_unused=True))
        state.requests += server.total_requests
        with contextlib.suppress(HTTPServerError):
            server.stop()
        state.outside.append(
            Finding(
                Kind.LEFT_RUNNING,
                Stamp.now(),
                expected=f"{url} was still running at the end of the session; httpdouble"
                " stopped it. Stop servers you start (use them as context managers)",
            )
        )
        state.servers.append(server)


def _write_json(state: State) -> None:
    if state.json_path is not None:
        state.json_path.parent.mkdir(parents=True, exist_ok=True)
        state.json_path.write_text(json.dumps(state.report.to_builtins(), indent=2) + "\n")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or state.role is Role.WORKER:
        return
    lines = state.report.render(state.mode)
    if not lines:
        return
    if len(lines) == 1:
        terminalreporter.write_line(lines[0])
        return
    terminalreporter.write_sep("=", "httpdouble report")
    for line in lines:
        terminalreporter.write_line(line)


# ----------------------------------------------------------------------- fixtures


def _listen_address(config: pytest.Config, worker: str) -> tuple[str, int]:
    chosen = config.hook.pytest_httpdouble_listen_address(config=config, worker_id=worker)
    if chosen is not None:
        host, port = chosen
        return str(host), _port(port, "the pytest_httpdouble_listen_address hook")
    host = _setting(config, "httpserver_host")
    port = _setting(config, "httpserver_port")
    return (
        host[0] if host else DEFAULT_LISTEN_HOST,
        _port(*port) if port else DEFAULT_LISTEN_PORT,
    )


def _port(value: object, source: str) -> int:
    try:
        port = int(str(value))
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise HTTPDoubleUsageError(
            f"port from {source}",
            expected="an integer from 0 to 65535 (0: a free port is chosen)",
            got=value,
            remedy=f"fix {source}, or remove it to let each worker get a free port",
        )
    return port


def _pick_port() -> int:
    import portpicker  # imported late: the plugin module stays import-light

    try:
        return int(portpicker.pick_unused_port())
    except portpicker.NoFreePortFoundError:
        return 0


@pytest.fixture(scope="session")
def httpserver_listen_address(pytestconfig: pytest.Config) -> tuple[str, int]:
    """``(host, port)`` the server listens on; port ``0`` means a free port.

    Override it in a conftest, or implement the ``pytest_httpdouble_listen_address``
    hook to choose per xdist worker.
    """
    return _listen_address(pytestconfig, _state(pytestconfig).worker)


@pytest.fixture(scope="session")
def httpserver_ssl_context() -> ssl.SSLContext | None:
    """Server-side ``ssl.SSLContext`` for HTTPS; ``None`` (plain HTTP) unless overridden."""
    return None


def _start_server(
    state: State, address: tuple[str | None, int | None], ssl_context: ssl.SSLContext | None
) -> HTTPServer:
    __tracebackhide__ = True
    # As in pytest-httpserver, a fixture override may leave host or port to the default.
    host = address[0] or DEFAULT_LISTEN_HOST
    port = DEFAULT_LISTEN_PORT if address[1] is None else address[1]
    try:
        server = HTTPServer(
            host, port, ssl_context=ssl_context, port_source=_pick_port if port == 0 else None
        )
    except HTTPDoubleUsageError as exc:
        if exc.argument != "host":
            raise
        raise HTTPDoubleUsageError(
            "host for the httpserver fixtures",
            expected=exc.expected,
            got=host,
            remedy="the fixtures listen on loopback only; to be reachable from elsewhere,"
            " override make_httpserver with HTTPServer(host, allow_non_loopback=True)",
        ) from None
    try:
        server.start()
    except ServerStartError as exc:
        if state.role is not Role.WORKER or not port:
            raise
        raise ServerStartError(
            host,
            port,
            exc.os_error,
            f"xdist worker {state.worker} asked for fixed port {port}, which is taken,"
            " maybe by another worker: every worker needs a port of its own; use port 0,"
            " or choose per worker with the pytest_httpdouble_listen_address hook",
        ) from exc.os_error
    state.servers.append(server)
    return server


def _finish_server(state: State, server: HTTPServer) -> None:
    state.outside.extend(server.take_findings(include_unused=True, clear=True))
    state.requests += server.total_requests
    server.stop()


def _run_test(server: HTTPServer, request: pytest.FixtureRequest) -> Iterator[HTTPServer]:
    """Hand a cleared server to one test; turn its HTTP problems into a teardown failure."""
    __tracebackhide__ = True
    state = _state(request.config)
    # What arrived since the last test ended belongs to no test: keep it for the report.
    state.outside.extend(server.take_findings(include_unused=False, clear=True))
    # A test may change these for itself; the next test gets them back.
    handler_timeout, limits = server.handler_timeout, server.limits
    yield server
    server.handler_timeout, server.limits = handler_timeout, limits
    # Rebuilding log objects costs time: only the "all" report needs them.
    keep = state.mode is ReportMode.ALL
    entries = server.log_entries if keep else []
    requests = len(entries) if keep else server.logged_requests
    findings = server.take_findings(include_unused=True, clear=True)
    state.tests += 1
    item = request.node
    item.stash[TEST_DATA] = per_test_data(
        nodeid=item.nodeid,
        worker=state.worker,
        url=server.url_for("/").rstrip("/"),
        findings=findings,
        requests=requests,
        entries=entries,
    )
    for finding in findings:
        item.user_properties.append((JUNIT_PROPERTY, finding.render()))
    if findings and _teardown_check(request):
        cause = next((f.cause for f in findings if f.cause is not None), None)
        raise HTTPDoubleFailure(failure_message(findings, at_teardown=True)) from cause


@pytest.fixture(scope="session")
def make_httpserver(
    pytestconfig: pytest.Config,
    httpserver_listen_address: tuple[str, int],
    httpserver_ssl_context: ssl.SSLContext | None,
) -> Iterator[HTTPServer]:
    """The server of this process (one per xdist worker), started once per session."""
    state = _state(pytestconfig)
    server = _start_server(state, httpserver_listen_address, httpserver_ssl_context)
    yield server
    _finish_server(state, server)


@pytest.fixture
def httpserver(
    make_httpserver: HTTPServer, request: pytest.FixtureRequest
) -> Iterator[HTTPServer]:
    """The process's server, cleared, for one test; its HTTP problems fail the test at teardown."""
    __tracebackhide__ = True
    yield from _run_test(make_httpserver, request)


@pytest.fixture(scope="session")
def make_httpserver_ipv4(pytestconfig: pytest.Config) -> Iterator[HTTPServer]:
    """A server of this process on ``127.0.0.1`` only, started once per session."""
    state = _state(pytestconfig)
    server = _start_server(state, ("127.0.0.1", 0), None)
    yield server
    _finish_server(state, server)


@pytest.fixture
def httpserver_ipv4(
    make_httpserver_ipv4: HTTPServer, request: pytest.FixtureRequest
) -> Iterator[HTTPServer]:
    """Like ``httpserver``, on ``127.0.0.1`` only."""
    __tracebackhide__ = True
    yield from _run_test(make_httpserver_ipv4, request)


@pytest.fixture(scope="session")
def make_httpserver_ipv6(pytestconfig: pytest.Config) -> Iterator[HTTPServer]:
    """A server of this process on ``::1`` only, started once per session."""
    state = _state(pytestconfig)
    server = _start_server(state, ("::1", 0), None)
    yield server
    _finish_server(state, server)


@pytest.fixture
def httpserver_ipv6(
    make_httpserver_ipv6: HTTPServer, request: pytest.FixtureRequest
) -> Iterator[HTTPServer]:
    """Like ``httpserver``, on ``::1`` only (the URL is ``http://[::1]:port/``)."""
    __tracebackhide__ = True
    yield from _run_test(make_httpserver_ipv6, request)


@pytest.fixture(scope="session")
def httpsserver_certificates(tmp_path_factory: pytest.TempPathFactory) -> TLSCertificates:
    """A CA made for this run and a certificate for localhost, 127.0.0.1 and ::1 (needs trustme).

    Clients trust the server with ``httpsserver_certificates.ca_bundle`` (a PEM
    path) or ``httpsserver_certificates.client_context()``.
    """
    return TLSCertificates(tmp_path_factory.mktemp("httpdouble-tls"))


@pytest.fixture(scope="session")
def make_httpsserver(
    pytestconfig: pytest.Config,
    httpserver_listen_address: tuple[str, int],
    httpsserver_certificates: TLSCertificates,
) -> Iterator[HTTPServer]:
    """The HTTPS server of this process, started once per session on a port of its own."""
    state = _state(pytestconfig)
    host, _ = httpserver_listen_address
    server = _start_server(state, (host, 0), httpsserver_certificates.server_context)
    yield server
    _finish_server(state, server)


@pytest.fixture
def httpsserver(
    make_httpsserver: HTTPServer, request: pytest.FixtureRequest
) -> Iterator[HTTPServer]:
    """Like ``httpserver``, over HTTPS; trust it with ``httpsserver_certificates``."""
    __tracebackhide__ = True
    yield from _run_test(make_httpsserver, request)


def _teardown_check(request: pytest.FixtureRequest) -> bool:
    if request.node.get_closest_marker(NO_CHECK_MARKER) is not None:
        return False
    return bool(request.config.getini(TEARDOWN_CHECK_INI))
