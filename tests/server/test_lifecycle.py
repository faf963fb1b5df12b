"""Starting, stopping, addresses and bind failures of a real server."""

from __future__ import annotations

import errno
import json
import socket

import pytest

from httpdouble import HTTPServer, HTTPServerError, ServerStartError

from .clients import HTTPClient


def _refuses_connections(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(10)
        try:
            probe.connect((host, port))
        except ConnectionRefusedError:
            return True
    return False


def test_start_serves_and_stop_stops(client: HTTPClient) -> None:
    server = HTTPServer()
    assert not server.is_running()
    server.start()
    try:
        assert server.is_running()
        assert server.host == "localhost"
        assert 0 < server.port < 65536
        server.expect_request("/up").respond_with_data("up")
        reply = client.get(server.url_for("/up"))
        assert (reply.status, reply.text) == (200, "up")
    finally:
        server.stop()
    assert not server.is_running()
    assert _refuses_connections("127.0.0.1", server.port)


def test_url_for_builds_the_full_url(server: HTTPServer) -> None:
    assert server.url_for("/a/b?c=1") == f"http://localhost:{server.port}/a/b?c=1"
    assert server.url_for("no-slash") == f"http://localhost:{server.port}/no-slash"
    assert repr(server) == f"<HTTPServer host=localhost port={server.port}>"


def test_url_for_before_the_first_start_of_a_port_0_server_is_a_clear_error() -> None:
    server = HTTPServer()  # port 0: chosen when it starts, so no URL exists yet

    with pytest.raises(HTTPServerError) as raised:
        server.url_for("/x")
    assert str(raised.value).splitlines() == [
        "url_for('/x') was asked for before start(): this server was created with port 0,"
        " so its port is chosen when it starts",
        "  to fix: call start() first (or use the server as a context manager:"
        " with HTTPServer() as server: ...), or create it with a fixed port=...",
    ]
    with pytest.raises(HTTPServerError, match=r"^the port was asked for before start\(\)"):
        _ = server.port
    assert repr(server) == "<HTTPServer host=localhost port=0>"  # repr never raises

    with server:
        url = server.url_for("/x")
        assert url == f"http://localhost:{server.port}/x"
    assert server.url_for("/x") == url  # after stop(): the port it had


def test_url_for_of_a_fixed_port_server_before_start_is_its_url() -> None:
    assert HTTPServer(port=8123).url_for("/x") == "http://localhost:8123/x"
    assert HTTPServer(port=8123).port == 8123


def test_context_manager_starts_and_stops(client: HTTPClient) -> None:
    with HTTPServer() as server:
        assert server.is_running()
        server.expect_request("/cm").respond_with_json({"in": "block"})
        assert json.loads(client.get(server.url_for("/cm")).text) == {"in": "block"}
        port = server.port
    assert not server.is_running()
    assert _refuses_connections("127.0.0.1", port)


def test_context_manager_stops_when_the_block_raises() -> None:
    server = HTTPServer()
    with pytest.raises(KeyError), server:
        raise KeyError("in block")
    assert not server.is_running()


def test_server_can_be_started_again_after_stop() -> None:
    server = HTTPServer()
    for _ in range(2):
        with server:
            server.expect_request("/again").respond_with_data("again")
            with socket.create_connection(("127.0.0.1", server.port), timeout=10):
                pass
            server.clear()
    assert not server.is_running()


def test_starting_twice_is_a_clear_error(server: HTTPServer) -> None:
    with pytest.raises(HTTPServerError) as excinfo:
        server.start()
    assert str(excinfo.value) == (
        f"server is already running on localhost:{server.port}\n"
        "  to fix: call stop() first, or use a second HTTPServer"
    )
    assert server.is_running()


def test_stopping_a_stopped_server_is_a_clear_error() -> None:
    server = HTTPServer()
    message = "server is not running\n  to fix: call start() first, or check is_running()"
    with pytest.raises(HTTPServerError) as excinfo:
        server.stop()
    assert str(excinfo.value) == message
    server.start()
    server.stop()
    with pytest.raises(HTTPServerError) as excinfo:
        server.stop()
    assert str(excinfo.value) == message


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_bind_failure_raises_server_start_error_naming_host_port_and_os_error(
    host: str,
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        server = HTTPServer(host, port)
        with pytest.raises(ServerStartError) as excinfo:
            server.start()
    error = excinfo.value
    assert isinstance(error, HTTPServerError)
    assert (error.host, error.port) == (host, port)
    assert error.os_error.errno == errno.EADDRINUSE
    assert isinstance(error.__cause__, OSError)
    lines = str(error).splitlines()
    assert lines[0] == f"cannot listen on {host}:{port}"
    assert lines[1] == (
        f"  operating system said: {error.os_error.strerror} (errno {errno.EADDRINUSE})"
    )
    assert lines[2] == "  to fix: choose another port, or port=0 to let one be chosen"
    assert not server.is_running()


def test_bind_failure_leaves_the_server_startable_on_another_port() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        taken = blocker.getsockname()[1]
        with pytest.raises(ServerStartError):
            HTTPServer("127.0.0.1", taken).start()
        with HTTPServer("127.0.0.1") as server:
            assert server.port != taken


def test_fixed_port_is_used_as_given(client: HTTPClient) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as finder:
        finder.bind(("127.0.0.1", 0))
        port = finder.getsockname()[1]
    with HTTPServer("127.0.0.1", port) as server:
        assert server.port == port
        server.expect_request("/fixed").respond_with_data("fixed")
        assert client.get(f"http://127.0.0.1:{port}/fixed").text == "fixed"
    assert server.port == port
