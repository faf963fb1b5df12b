"""The port coordinator: portpicker's own client against it, over real sockets."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import portpicker
import pytest

from httpdouble._pytest.port_coordinator import PortCoordinator

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="the coordinator listens on a Linux abstract socket",
)


@pytest.fixture
def coordinator() -> Iterator[PortCoordinator]:
    running = PortCoordinator()
    assert running.start() is not None, running.problem
    yield running
    running.stop()


def _raw(address: str, request: bytes) -> bytes:
    """Send ``request`` to the coordinator and return everything it answers."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(10)
        client.connect("\0" + address.removeprefix("@"))
        client.sendall(request)
        client.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := client.recv(1024):
            answer += chunk
    return answer


def _can_bind(port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def test_portpicker_client_gets_a_free_port_and_the_coordinator_records_who_got_it(
    coordinator: PortCoordinator,
) -> None:
    assert coordinator.address is not None
    port = portpicker.get_port_from_port_server(coordinator.address, pid=4242)
    assert port is not None
    assert _can_bind(port)
    assert coordinator.handed_out == [(4242, port)]


def test_pick_unused_port_asks_the_coordinator_named_by_portserver_address(
    coordinator: PortCoordinator, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert coordinator.address is not None
    monkeypatch.setenv("PORTSERVER_ADDRESS", coordinator.address)
    ports = [portpicker.pick_unused_port() for _ in range(20)]
    assert len(set(ports)) == 20
    assert coordinator.handed_out == [(os.getpid(), port) for port in ports]


PICKER = """
import json, sys
import portpicker
print(json.dumps([portpicker.pick_unused_port() for _ in range(int(sys.argv[1]))]), flush=True)
sys.stdin.read()  # stay alive, holding the ports, until told to end
"""


def test_live_processes_picking_at_once_never_get_the_same_port(
    coordinator: PortCoordinator,
) -> None:
    # A port goes back to the pool when its holder exits: the pickers stay alive until all
    # have picked, as workers do for the whole run.
    assert coordinator.address is not None
    env = {**os.environ, "PORTSERVER_ADDRESS": coordinator.address}
    pickers = [
        subprocess.Popen(
            [sys.executable, "-c", PICKER, "100"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    picks = []
    try:
        for picker in pickers:
            assert picker.stdout is not None
            picks.extend(json.loads(picker.stdout.readline()))
    finally:
        for picker in pickers:
            picker.communicate(timeout=60)
    assert all(picker.returncode == 0 for picker in pickers)
    assert len(picks) == 400
    assert len(set(picks)) == 400
    assert {port for _, port in coordinator.handed_out} == set(picks)
    assert len({pid for pid, _ in coordinator.handed_out}) == 4


def test_a_request_that_is_not_a_pid_gets_the_empty_answer(coordinator: PortCoordinator) -> None:
    assert coordinator.address is not None
    assert _raw(coordinator.address, b"hello\n") == b""
    # Too long to be a pid: closed unread, which a unix socket may signal as a reset.
    with contextlib.suppress(ConnectionResetError):
        assert _raw(coordinator.address, b"9" * 100) == b""
    assert _raw(coordinator.address, b"") == b""
    # The coordinator still serves after each of those.
    answer = _raw(coordinator.address, b"17\n")
    assert answer.endswith(b"\n")
    assert coordinator.handed_out == [(17, int(answer))]


def test_the_answer_is_one_line_with_a_port(coordinator: PortCoordinator) -> None:
    assert coordinator.address is not None
    answer = _raw(coordinator.address, b"%d\n" % os.getpid())
    assert answer.count(b"\n") == 1
    assert 0 < int(answer) < 65536


def test_a_port_is_not_handed_out_again_while_its_holder_lives(
    coordinator: PortCoordinator,
) -> None:
    ports = [coordinator.pick(os.getpid()) for _ in range(300)]
    assert None not in ports
    assert len(set(ports)) == 300


def test_stop_closes_the_socket_and_can_be_called_twice() -> None:
    coordinator = PortCoordinator()
    address = coordinator.start()
    assert address is not None
    coordinator.stop()
    coordinator.stop()
    with (
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe,
        pytest.raises(ConnectionRefusedError),
    ):
        probe.connect("\0" + address.removeprefix("@"))
    # portpicker's client then finds no port there (and says so on stderr).
    assert portpicker.get_port_from_port_server(address) is None


def test_two_coordinators_have_different_addresses() -> None:
    first, second = PortCoordinator(), PortCoordinator()
    try:
        assert first.start() != second.start()
    finally:
        first.stop()
        second.stop()
