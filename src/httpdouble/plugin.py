"""The pytest plugin: thin glue between pytest events and the library.

Importing this module binds no socket and starts no thread: servers start when
a test first asks for one, and the port coordinator (a thread) only when xdist
starts local workers. It imports no server code either (issue 15): the server, the matching code
and werkzeug are imported when a fixture or a hook first needs them, so a run in
which no test uses a server pays almost nothing for the plugin.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _pytest
import pluggy
import pytest

from ._errors import Error, HTTPDoubleFailure, HTTPServerError, hide_our_frames
from ._log.context import CONTEXT, KEEP_ALIVE_INI, NO_CHECK_MARKER, TEARDOWN_CHECK_INI
from ._pytest import hookspecs as _hooks
from ._pytest.session import (
    FIXTURE_ARGUMENTS_INI,
    METAVARS,
    RECORD_MARKER_HELP,
    SETTINGS,
    STATE,
    TEST_DATA,
    Role,
    State,
    configured,
    ini_bool,
    read_settings,
    state_of,
    unconfigured,
)
from ._pytest.xdist import (
    WORKERINPUT_KEY,
    WORKEROUTPUT_KEY,
    choose_ports,
    is_local_popen,
    node_host,
)
from ._report.report import Report
from ._report.worker_data import session_data

# The fixtures live in a module of their own, loaded with this plugin (and not without it).
pytest_plugins = ["httpdouble._pytest.fixtures"]

REPORT_ATTR = "httpdouble"


# ------------------------------------------------------------------ configuration


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(_hooks)


# Every setting: command line option, its ini twin, its environment variable (or None), help.
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
    parser.addini(
        FIXTURE_ARGUMENTS_INI,
        "the server fixtures take what they need as arguments, as pytest-httpserver's do"
        " (default false: they ask for it, which saves each test's setup about 25 us); true"
        " lets pytest parametrize tests by a parametrized make_httpserver,"
        " httpserver_listen_address or httpserver_ssl_context.",
    )
    parser.addini(
        KEEP_ALIVE_INI,
        "keep HTTP/1.1 connections open between requests (default true); false closes"
        " every connection after its response, as pytest-httpserver does.",
    )


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
    config.addinivalue_line("markers", RECORD_MARKER_HELP)
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None:
        role, worker = Role.WORKER, str(workerinput.get("workerid", "gw?"))
    elif config.pluginmanager.has_plugin("dsession"):
        role, worker = Role.CONTROLLER, "controller"
    else:
        role, worker = Role.STANDALONE, "main"
    state = State(role=role, worker=worker)
    read_settings(config, state)  # every bad setting is a usage error now, not at a test
    state.report.fail_outside = state.fail_outside
    state.ports = choose_ports(workerinput)
    CONTEXT.worker = worker
    config.stash[STATE] = state
    configured(config)
    if ini_bool(config, FIXTURE_ARGUMENTS_INI, default=False):
        # Registered after the plugin's fixtures, so its definitions win over theirs.
        from ._pytest import argument_fixtures

        config.pluginmanager.register(argument_fixtures, argument_fixtures.PLUGIN_NAME)
    if role is not Role.WORKER:
        config.pluginmanager.register(_Collector(state.report), "httpdouble-collector")
    if state.pytest_html:
        from ._pytest.html_extras import PLUGIN_NAME, PytestHtmlExtras

        config.pluginmanager.register(PytestHtmlExtras(), PLUGIN_NAME)


def pytest_unconfigure(config: pytest.Config) -> None:
    unconfigured(config)
    state = config.stash.get(STATE, None)
    if state is not None and state.coordinator is not None:
        state.coordinator.stop()


# -------------------------------------------------------------------- xdist hooks


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config: pytest.Config, specs: list[Any]) -> None:
    state = state_of(config)
    if state.coordinator is None and any(getattr(s, "popen", False) for s in specs):
        from ._pytest.port_coordinator import PortCoordinator

        state.coordinator = PortCoordinator()
        state.coordinator.start()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    coordinator = state_of(node.config).coordinator
    if coordinator is not None and coordinator.address and is_local_popen(node):
        node.workerinput[WORKERINPUT_KEY] = coordinator.address


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    state = state_of(node.config)
    output = getattr(node, "workeroutput", None) or {}
    data = output.get(WORKEROUTPUT_KEY)
    if data is not None:
        state.report.add_session(data)
    else:
        state.report.worker_down(str(node.gateway.id), error, host=node_host(node))


@pytest.hookimpl(optionalhook=True)
def pytest_handlecrashitem(crashitem: str, report: Any, sched: Any) -> None:
    node = getattr(report, "node", None)
    if node is not None:
        state_of(node.config).report.worker_crashed_in(str(node.gateway.id), crashitem)


# ---------------------------------------------------------------------- per test


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    from ._pytest.recording import add_recording_fixture

    add_recording_fixture(items)  # tests marked httpserver_record: their recording fixture


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    state = item.config.stash.get(STATE, None)
    outer = None
    if state is not None:
        state.previous_test = CONTEXT.state[1]
        outer, state.item = state.item, item  # the fixtures' test (see asking.current_item)
    CONTEXT.enter_test(item.nodeid)
    try:
        return (yield)
    finally:
        CONTEXT.leave_test(item.nodeid)
        if state is not None:
            state.item = outer


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    excinfo = call.excinfo
    if (
        excinfo is not None
        and isinstance(excinfo.value, Error)
        and not item.config.getoption("fulltrace", False)
    ):
        # A usage error's message says it all: the test's own line is the frame to show,
        # as for a teardown failure (--full-trace shows ours too).
        error, whole = excinfo.value, excinfo.value.__traceback__
        hide_our_frames(error)
        if error.__traceback__ is None:  # raised by our own fixture: nothing else to show
            error.__traceback__ = whole
        else:
            call.excinfo = pytest.ExceptionInfo.from_exception(error)
    ours = call.excinfo is not None and isinstance(call.excinfo.value, HTTPDoubleFailure)
    if ours and call.when == "teardown" and not item.config.getoption("fulltrace", False):
        # Raised by the fixture, whose frames are hidden: no frame is worth showing. A plugin
        # that wraps the runner (flaky) adds frames pytest does not filter out; keep only
        # pytest's own (filtered out when shown, they still give the summary line) and ours.
        failure: Any = call.excinfo
        failure.traceback = failure.traceback.filter(_pytest_or_ours)
    report: Any = yield
    if ours:
        _drop_hidden_entries_line(report.longrepr)
    failed = report.failed or hasattr(report, "wasxfail")
    if call.when == "call" and call.excinfo is not None and failed:
        # Late: pytest imports the fixtures module through pytest_plugins, after this one;
        # imported here first, pytest could not rewrite its asserts (a warning, so an error).
        from ._pytest.fixtures import show_in_failed_call

        show_in_failed_call(item, report)
    if call.when == "teardown":
        data = item.stash.get(TEST_DATA, None)
        if data is not None:
            setattr(report, REPORT_ATTR, data)
    return report  # type: ignore[no-any-return]


_KEPT_FRAMES = tuple(
    str(Path(str(module.__file__)).parent)
    for module in (_pytest, pluggy, sys.modules[__package__])
)


def _pytest_or_ours(entry: Any) -> bool:
    return str(entry.path).startswith(_KEPT_FRAMES)


def _drop_hidden_entries_line(longrepr: object) -> None:
    """Leave out pytest's "All traceback entries are hidden" line under our failures.

    A teardown failure of ours has no frame worth showing (they are hidden on purpose), and
    neither may the cause once our frames are dropped: the message is all there is.
    """
    for element in getattr(longrepr, "chain", ()):
        reprtraceback = element[0]
        extraline = getattr(reprtraceback, "extraline", None)
        if isinstance(extraline, str) and extraline.startswith("All traceback entries"):
            reprtraceback.extraline = None


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
    state = state_of(session.config)
    _stop_forgotten_servers(state)
    if state.role is Role.CONTROLLER:
        _finish_run(session, state)
        return
    data = session_data(
        worker=state.worker,
        url=" ".join(server.url_for("/").rstrip("/") for server in state.servers),
        requests=state.requests,  # every server is stopped and counted by now
        tests=state.tests,
        outside=state.outside,
        ports=state.ports.via,
        portserver=state.ports.address,
    )
    if state.role is Role.WORKER:
        session.config.workeroutput[WORKEROUTPUT_KEY] = data  # type: ignore[attr-defined]
    else:
        if state.servers or state.outside:
            state.report.add_session(data)
        _finish_run(session, state)


def _finish_run(session: pytest.Session, state: State) -> None:
    """Controller or single process, all data merged: the JSON file and the exit status."""
    if state.coordinator is not None and state.coordinator.address:
        state.report.coordinator(state.coordinator.address, state.coordinator.handed_out)
    if state.json_path is not None or state.html_path is not None:
        data = state.report.to_builtins()  # one rendering input for both files
        _write_json(state, data)
        _write_html(state, data)
    failed = state.report.fails_run() or bool(state.write_errors)
    if failed and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _stop_forgotten_servers(state: State) -> None:
    """Stop servers that test code started and never stopped; report each one."""
    # Without the server module imported, no server ever ran: nothing to import then.
    if f"{__package__}._server" not in sys.modules:
        return
    from ._log.request_log import Stamp
    from ._report.findings import Finding, Kind
    from ._server.server import running_servers

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


def _write_json(state: State, data: dict[str, Any]) -> None:
    if state.json_path is not None:
        text = json.dumps(data, indent=2) + "\n"
        _write_report(state, "JSON", state.json_path, text)


def _write_html(state: State, data: dict[str, Any]) -> None:
    if state.html_path is not None:
        from ._report.html import (
            render,  # the HTML module is imported only when the page is asked for
        )

        _write_report(state, "HTML", state.html_path, render(data))


def _write_report(state: State, kind: str, path: Path, text: str) -> None:
    """Write one report file; a failure is one line of the summary, not a traceback.

    The path was checked at startup: what fails here changed during the run (a full disk,
    a folder removed). The run fails for it, as a report asked for and missing would go
    unnoticed otherwise.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        state.write_errors.append(
            f"httpdouble: the {kind} report could not be written to {path}: {reason}"
            " (the run fails for it)"
        )


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or state.role is Role.WORKER:
        return
    lines = state.report.render(state.mode)
    if len(lines) == 1:
        terminalreporter.write_line(lines[0])
    elif lines:
        terminalreporter.write_sep("=", "httpdouble report")
        for line in lines:
            terminalreporter.write_line(line)
    for line in state.write_errors:
        terminalreporter.write_line(line, red=True)
