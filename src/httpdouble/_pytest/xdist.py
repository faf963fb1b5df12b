"""xdist coordination: how each process chooses ports, and what workers are told.

The controller runs a port coordinator (:mod:`.port_coordinator`, a thread) and passes its
address to each *local* worker through ``workerinput``. A worker exports it as
``PORTSERVER_ADDRESS``, so every ``pick_unused_port()`` in that worker (ours and
the user's) is handed a port no other worker holds.

A remote worker (``--tx ssh=...``, ``--tx socket=...``) cannot reach the
controller's abstract socket: it runs on another machine (or in another network
namespace). Its server binds port 0, so the kernel hands the port to the
listening socket in one step, and no two servers on that machine can get the same
one; unless ``PORTSERVER_ADDRESS`` names a portserver on that machine, which is
then asked as portpicker would.
"""

from __future__ import annotations

import os
import socket
from typing import Any, NamedTuple

WORKERINPUT_KEY = "httpdouble_portserver"
WORKEROUTPUT_KEY = "httpdouble"

# How a process chooses the port of a server started with port 0: the ``ports`` key of the
# report data, in words the report shows as they are.
VIA_COORDINATOR = "controller's coordinator"
VIA_PORTSERVER = "PORTSERVER_ADDRESS"
VIA_BIND_ZERO = "bind port 0"
VIA_PORTPICKER = "portpicker alone"


class PortChoice(NamedTuple):
    """How this process chooses ports (a tuple: a dataclass costs 1 ms to create).

    :ivar via: one of the ``VIA_*`` words above.
    :ivar address: the coordinator's or portserver's address, or ``""``.
    """

    via: str
    address: str = ""

    @property
    def uses_portpicker(self) -> bool:
        return self.via != VIA_BIND_ZERO


def is_local_popen(node: Any) -> bool:
    """Return whether an xdist node runs as a subprocess on this machine."""
    spec = getattr(getattr(node, "gateway", None), "spec", None)
    return bool(getattr(spec, "popen", False)) and not getattr(spec, "via", None)


def node_host(node: Any) -> str:
    """Return the machine an xdist node runs on, as the controller knows it.

    The worker says its host name itself at the end of its session; this is for a worker
    that never got there (a crash): this machine's name for a local subprocess, else the
    address in its ``--tx`` specification.
    """
    spec = getattr(getattr(node, "gateway", None), "spec", None)
    if is_local_popen(node):
        return socket.gethostname()
    for kind in ("ssh", "socket"):
        target = getattr(spec, kind, None)
        if target:
            return str(target)
    return str(spec) if spec is not None else "?"


def choose_ports(workerinput: dict[str, Any] | None) -> PortChoice:
    """Decide, once per process, how servers started with port 0 get their port.

    In a local worker this also exports the controller's coordinator as
    ``PORTSERVER_ADDRESS``. The coordinator listens before any worker starts: there
    is nothing to wait for.
    """
    if workerinput is not None:
        address = workerinput.get(WORKERINPUT_KEY)
        if isinstance(address, str) and address:
            os.environ["PORTSERVER_ADDRESS"] = address
            return PortChoice(VIA_COORDINATOR, address)
    own = os.environ.get("PORTSERVER_ADDRESS", "")
    if own:
        return PortChoice(VIA_PORTSERVER, own)
    if workerinput is not None:
        # A worker without our coordinator: a remote one, or the controller has none.
        return PortChoice(VIA_BIND_ZERO)
    return PortChoice(VIA_PORTPICKER)
