"""How each process chooses the port of a server started with port 0."""

from __future__ import annotations

import os

import pytest

from httpdouble._pytest.xdist import (
    VIA_BIND_ZERO,
    VIA_COORDINATOR,
    VIA_PORTPICKER,
    VIA_PORTSERVER,
    WORKERINPUT_KEY,
    PortChoice,
    choose_ports,
)


@pytest.fixture(autouse=True)
def _no_portserver(monkeypatch: pytest.MonkeyPatch) -> None:
    # Our own suite runs under xdist, where this is set; each test sets what it needs.
    monkeypatch.delenv("PORTSERVER_ADDRESS", raising=False)


def test_a_local_worker_uses_the_controllers_coordinator_and_exports_it() -> None:
    choice = choose_ports({"workerid": "gw0", WORKERINPUT_KEY: "@httpdouble-1-ab"})
    assert choice == PortChoice(VIA_COORDINATOR, "@httpdouble-1-ab")
    assert choice.uses_portpicker
    assert os.environ["PORTSERVER_ADDRESS"] == "@httpdouble-1-ab"


def test_a_remote_worker_binds_port_zero() -> None:
    choice = choose_ports({"workerid": "gw0"})
    assert choice == PortChoice(VIA_BIND_ZERO)
    assert not choice.uses_portpicker
    assert "PORTSERVER_ADDRESS" not in os.environ


def test_a_remote_worker_asks_the_portserver_its_environment_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORTSERVER_ADDRESS", "@their-own")
    choice = choose_ports({"workerid": "gw3"})
    assert choice == PortChoice(VIA_PORTSERVER, "@their-own")
    assert choice.uses_portpicker


def test_a_single_process_uses_portpicker() -> None:
    assert choose_ports(None) == PortChoice(VIA_PORTPICKER)
