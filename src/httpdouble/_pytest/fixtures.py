"""The fixtures: one server per process, handed to each test cleared and checked after it."""

from __future__ import annotations

import os
import ssl
import time
import traceback
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .._errors import HTTPDoubleFailure, HTTPDoubleUsageError, ServerStartError, hide_our_frames
from .._report.report import ReportMode
from .._report.worker_data import clean_test_data, per_test_data
from .asking import current_item, server_for, started_with
from .recording import (  # noqa: F401 (the two fixtures)
    _httpdouble_recording,
    httpserver_record_config,
    recording_hint,
)
from .session import TEST_DATA, Check, Role, State, active_config, state_of

# The server, the findings and werkzeug are imported by the fixtures that need them, not
# here: pytest loads this module in every run, also when no test uses a server (issue 15).
if TYPE_CHECKING:
    from .._report.findings import Finding
    from .._server.server import HTTPServer
    from .._server.tls import TLSCertificates
    from .._wire.request import Limits

JUNIT_PROPERTY = "httpdouble"
FAILED_CALL_SECTION = "HTTP problems of this test (httpdouble)"


def _listen_address(config: pytest.Config, worker: str) -> tuple[str, int]:
    chosen = config.hook.pytest_httpdouble_listen_address(config=config, worker_id=worker)
    if chosen is not None:
        host, port = chosen
        return str(host), _port(port, "the pytest_httpdouble_listen_address hook")
    # Checked at startup (read_settings): a bad value never reaches a test.
    from .._server.server import DEFAULT_LISTEN_HOST, DEFAULT_LISTEN_PORT

    state = state_of(config)
    return (
        DEFAULT_LISTEN_HOST if state.host is None else state.host,
        DEFAULT_LISTEN_PORT if state.port is None else state.port,
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


def get_httpserver_listen_address() -> tuple[str | None, int | None]:
    """Return ``(host, port)`` from ``PYTEST_HTTPSERVER_HOST`` / ``PYTEST_HTTPSERVER_PORT``.

    Either is ``None`` when its variable is unset or empty, as in pytest-httpserver.

    :raises HTTPDoubleUsageError: when the port is not an integer from 0 to 65535.
    """
    host = os.environ.get("PYTEST_HTTPSERVER_HOST") or None
    port_text = os.environ.get("PYTEST_HTTPSERVER_PORT")
    port = _port(port_text, "PYTEST_HTTPSERVER_PORT") if port_text else None
    return host, port


def _pick_port() -> int:
    import portpicker  # imported late: the plugin module stays import-light

    try:
        return int(portpicker.pick_unused_port())
    except portpicker.NoFreePortFoundError:
        return 0


# The session fixtures take neither ``pytestconfig`` nor ``request``: see active_config.
@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """``(host, port)`` the server listens on; port ``0`` means a free port.

    Override it in a conftest, or implement the ``pytest_httpdouble_listen_address``
    hook to choose per xdist worker.
    """
    config = active_config()
    return _listen_address(config, state_of(config).worker)


@pytest.fixture(scope="session")
def httpserver_ssl_context() -> ssl.SSLContext | None:
    """Server-side ``ssl.SSLContext`` for HTTPS; ``None`` (plain HTTP) unless overridden."""
    return None


def _start_server(
    state: State, address: tuple[str | None, int | None], ssl_context: ssl.SSLContext | None
) -> HTTPServer:
    __tracebackhide__ = True
    from .._server.server import DEFAULT_LISTEN_HOST, DEFAULT_LISTEN_PORT, HTTPServer

    # As in pytest-httpserver, a fixture override may leave host or port to the default.
    host = address[0] or DEFAULT_LISTEN_HOST
    port = DEFAULT_LISTEN_PORT if address[1] is None else address[1]
    # Without a coordinator or portserver (a remote worker), port 0 is bound as it is:
    # the kernel gives the port to our listening socket in one step.
    source = _pick_port if port == 0 and state.ports.uses_portpicker else None
    try:
        server = HTTPServer(
            host, port, ssl_context=ssl_context, port_source=source, keep_alive=state.keep_alive
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


def _run_test(server: HTTPServer, item: pytest.Item) -> Iterator[HTTPServer]:
    """Hand a cleared server to one test; turn its HTTP problems into a teardown failure."""
    __tracebackhide__ = True
    state = state_of(item.config)
    app = server.application
    # What arrived since the last test ended belongs to no test: keep it for the report.
    # Requests of this test's setup before this fixture count too: this test had registered
    # nothing yet, so the test before it is the likely sender.
    before = app.begin_test()
    if before:
        state.outside.extend(
            _between_tests(f, state.previous_test) if f.stamp.test == item.nodeid else f
            for f in before
        )
    # A test may change these for itself; the next test gets them back.
    settings = server._test_settings()
    check = Check(server, item)
    state.checks.append(check)
    start = time.time()
    yield server
    stop = time.time()
    state.checks.remove(check)
    if server.interception is not None:  # started in the test and left on: the variables too
        server.interception.stop()
    if server._test_settings() != settings:
        _restore(server, settings)
    # Rebuilding log objects costs time: only the "all" and the HTML reports need them.
    keep = state.mode is ReportMode.ALL or state.exchanges
    entries = server.log_entries if keep else []
    # A failed call showed the unused expectations already (they are still registered):
    # asking again would count each of them twice. Requests meant for other hosts are
    # logged too: no request, no host to count.
    late, requests, hosts = app.end_test(include_unused=not check.call_failed)
    state.tests += 1
    if not (late or check.shown or keep or hosts):  # the common case: a test with no problem
        ports = state.ports
        url = _base_url(state, server)
        item.stash[TEST_DATA] = clean_test_data(
            item.nodeid, requests, start, stop, state.worker, url, ports.via, ports.address
        )
        return
    findings = check.shown + late if check.shown else late
    # Problems shown inside the call's failure count as checked; so do the ones that come
    # later, when none were shown: they fail the test below.
    checked = bool(findings) and (not late or not check.shown) and check.enabled
    item.stash[TEST_DATA] = per_test_data(
        nodeid=item.nodeid,
        worker=state.worker,
        url=_base_url(state, server),
        findings=findings,
        requests=len(entries) if keep else requests,
        entries=entries,
        checked=checked,
        ports=state.ports.via,
        portserver=state.ports.address,
        span=(start, stop),
        exchanges=state.exchanges,
        hosts=hosts,
    )
    if not findings:
        return
    for finding in findings:
        item.user_properties.append((JUNIT_PROPERTY, finding.render()))
    if checked and not check.call_failed:
        from .._report.findings import chained_cause, failure_message

        cause = chained_cause(findings)
        if cause is not None and not item.config.getoption("fulltrace", False):
            hide_our_frames(cause)
        message = failure_message(findings, at_teardown=_hint_due(state))
        hint = recording_hint(item)  # a test replaying a cassette names it
        if hint is not None:
            message += f"\n{hint}"
        raise HTTPDoubleFailure(message) from cause


def _restore(server: HTTPServer, settings: tuple[float | None, Limits, bool, bool]) -> None:
    """Set back what the test changed: each setter checks its value under the lock."""
    handler_timeout, limits, fall_through, keep_alive = settings
    if server.handler_timeout != handler_timeout:
        server.handler_timeout = handler_timeout
    if server.limits is not limits:
        server.limits = limits
    if server.ordered_fall_through != fall_through:
        server.ordered_fall_through = fall_through
    if server.keep_alive != keep_alive:
        server.keep_alive = keep_alive


def _base_url(state: State, server: HTTPServer) -> str:
    """The server's URL without the final slash, made again only for another server or port."""
    cached = state.last_url
    if cached is not None and cached[0] is server and cached[1] == server.port:
        return cached[2]
    url = server.url_for("/").rstrip("/")
    state.last_url = (server, server.port, url)
    return url


def _hint_due(state: State) -> bool:
    """Return whether this failure says how to turn the check off.

    The end-of-run report says it once per run; without a report, the first failure of the
    process says it.
    """
    hint = state.mode is ReportMode.NONE and not state.hint_given
    state.hint_given = state.hint_given or hint
    return hint


def show_in_failed_call(item: pytest.Item, report: pytest.TestReport) -> None:
    """Add the HTTP problems of a test whose call failed to that failure, as a section.

    The teardown check then raises nothing: the test is counted once (one ``FAILED``, no
    second ``ERROR``), and a rerun plugin sees one failed attempt. Called by the plugin
    when the call phase's report is made, before pytest, xdist or a rerun plugin sees it.
    """
    from .._report.findings import chained_cause, failure_message

    state = state_of(item.config)
    for check in list(state.checks):
        if check.item is not item or not check.enabled:
            continue
        check.call_failed = True
        findings = check.server.take_findings(include_unused=True)
        if not findings:
            continue
        check.shown.extend(findings)
        parts = []
        cause = chained_cause(findings)
        if cause is not None:  # the handler's exception first: the message says "above"
            if not item.config.getoption("fulltrace", False):
                hide_our_frames(cause)
            parts.append("".join(traceback.format_exception(cause)).rstrip())
        parts.append(failure_message(findings, at_teardown=_hint_due(state)))
        hint = recording_hint(item)
        if hint is not None:
            parts[-1] += f"\n{hint}"
        _add_section(report, "\n\n".join(parts))


def _add_section(report: pytest.TestReport, text: str) -> None:
    # A section of the failure itself is printed with it, whatever --show-capture says, and
    # travels with it from an xdist worker; a report without one keeps it among its sections.
    addsection = getattr(report.longrepr, "addsection", None)
    if callable(addsection):
        addsection(FAILED_CALL_SECTION, text)
    else:
        report.sections.append((FAILED_CALL_SECTION, text))


def _between_tests(finding: Finding, previous_test: str | None) -> Finding:
    from .._log.request_log import Stamp

    stamp = finding.stamp
    return finding.replace(stamp=Stamp(None, previous_test, stamp.worker, stamp.time))


@pytest.fixture(scope="session")
def make_httpserver() -> Iterator[HTTPServer]:
    """The server of this process (one per xdist worker), started once per session, with
    ``httpserver_listen_address`` and ``httpserver_ssl_context`` (overridable)."""
    state = state_of(active_config())
    address = started_with(
        "httpserver_listen_address", lambda: _listen_address(active_config(), state.worker)
    )
    server = _start_server(state, address, started_with("httpserver_ssl_context", lambda: None))
    Plugin.SERVER = server
    yield server
    Plugin.SERVER = None
    _finish_server(state, server)


@pytest.fixture
def httpserver() -> Iterator[HTTPServer]:
    """The process's server, cleared, for one test; its HTTP problems fail the test at teardown.

    The server is ``make_httpserver``'s (an override of it wins), asked for without taking
    it as an argument (see ``asking.server_for``).
    """
    __tracebackhide__ = True
    item = current_item()
    yield from _run_test(server_for(item, "make_httpserver"), item)


def _one_family(host: str, family: str) -> tuple[Any, Any]:
    """Return the session and the per-test fixture of a server on ``host`` only."""

    def make() -> Iterator[HTTPServer]:
        state = state_of(active_config())
        server = _start_server(state, (host, 0), None)
        yield server
        _finish_server(state, server)

    def per_test() -> Iterator[HTTPServer]:
        __tracebackhide__ = True
        item = current_item()
        yield from _run_test(server_for(item, f"make_httpserver_{family}"), item)

    make.__doc__ = f"A server of this process on ``{host}`` only, started once per session."
    per_test.__doc__ = f"Like ``httpserver``, on ``{host}`` only."
    return (
        pytest.fixture(scope="session", name=f"make_httpserver_{family}")(make),
        pytest.fixture(name=f"httpserver_{family}")(per_test),
    )


make_httpserver_ipv4, httpserver_ipv4 = _one_family("127.0.0.1", "ipv4")
make_httpserver_ipv6, httpserver_ipv6 = _one_family("::1", "ipv6")


@pytest.fixture(scope="session")
def httpsserver_certificates(tmp_path_factory: pytest.TempPathFactory) -> TLSCertificates:
    """A CA made for this run and a certificate for localhost, 127.0.0.1 and ::1 (needs trustme).

    Clients trust the server with ``httpsserver_certificates.ca_bundle`` (a PEM
    path) or ``httpsserver_certificates.client_context()``.
    """
    from .._server.tls import TLSCertificates

    return TLSCertificates(tmp_path_factory.mktemp("httpdouble-tls"))


@pytest.fixture(scope="session")
def make_httpsserver() -> Iterator[HTTPServer]:
    """The HTTPS server of this process, started once per session on a port of its own,
    on the host of ``httpserver_listen_address``, with ``httpsserver_certificates``."""
    state = state_of(active_config())
    host, _ = started_with(
        "httpserver_listen_address", lambda: _listen_address(active_config(), state.worker)
    )
    certificates: TLSCertificates = started_with("httpsserver_certificates")
    server = _start_server(state, (host, 0), certificates.server_context)
    yield server
    _finish_server(state, server)


@pytest.fixture
def httpsserver() -> Iterator[HTTPServer]:
    """Like ``httpserver``, over HTTPS; trust it with ``httpsserver_certificates``."""
    __tracebackhide__ = True
    item = current_item()
    yield from _run_test(server_for(item, "make_httpsserver"), item)


@pytest.fixture(scope="session")
def _httpdouble_test_ca() -> Iterator[None]:
    """Removes the process's test CA at the end of the session (the process's exit would)."""
    yield
    from .._intercept.authority import discard_session_ca

    discard_session_ca()


@pytest.fixture
def httpserver_intercept(
    httpserver: HTTPServer, _httpdouble_test_ca: None
) -> Iterator[HTTPServer]:
    """The ``httpserver`` server, as the HTTP(S) proxy of everything the test runs.

    For the test, the proxy variables point at the server and the CA variables at a test CA
    of this process; HTTPS goes through ``CONNECT`` tunnels whose certificates that CA
    issues (needs trustme). ``httpserver_intercept.interception`` has the CA
    (``ca_bundle``, ``client_ssl_context()``). Every variable is restored after the test.
    """
    from .._intercept.interception import intercept  # loaded by the tests that intercept

    with intercept(httpserver):
        yield httpserver


class Plugin:
    """Kept for pytest-httpserver parity: ``Plugin.SERVER`` is the server of the last
    ``make_httpserver`` fixture that started in this process (``None`` after it stopped)."""

    SERVER: HTTPServer | None = None


if TYPE_CHECKING:
    PluginHTTPServer = HTTPServer
    """pytest-httpserver's name for the class of the fixtures' server: here the same class."""


def __getattr__(name: str) -> Any:
    # PluginHTTPServer, pytest-httpserver's name for the class of the fixtures' server, is
    # HTTPServer itself: imported on first use, to keep this module import-light.
    if name == "PluginHTTPServer":
        from .._server.server import HTTPServer

        return HTTPServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
