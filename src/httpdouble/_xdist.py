"""xdist coordination: the controller's portserver and what workers are told about it.

The controller starts portpicker's own portserver once, before local workers
start, and passes its address to each of them through ``workerinput``. A
worker exports it as ``PORTSERVER_ADDRESS``, so every ``pick_unused_port()``
in that worker (ours and the user's) is handed a port no other worker holds.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
import threading
import time
import uuid
from pathlib import Path
from typing import Any

WORKERINPUT_KEY = "httpdouble_portserver"
WORKEROUTPUT_KEY = "httpdouble"
_READY_POLL = 0.005
_START_TIMEOUT = 10.0


class PortServer:
    """portpicker's ``portserver.py``, run as a child process of the controller."""

    def __init__(self) -> None:
        self.address: str | None = None
        self.problem = ""
        self._process: subprocess.Popen[str] | None = None

    @staticmethod
    def script() -> Path:
        return Path(sysconfig.get_path("scripts")) / "portserver.py"

    def start(self) -> str | None:
        """Start the portserver and return its address, or ``None`` (see :attr:`problem`)."""
        if not sys.platform.startswith("linux"):
            self.problem = "portserver not used: abstract socket addresses need Linux"
            return None
        script = self.script()
        if not script.is_file():
            self.problem = f"portserver not used: {script} not found"
            return None
        address = f"@httpdouble-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        process = subprocess.Popen(
            [sys.executable, str(script), "--portserver_address", address],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

        def drain() -> None:
            # The portserver logs every request: keep reading so its pipe never fills.
            assert process.stderr is not None
            for _ in process.stderr:
                pass

        threading.Thread(target=drain, name="httpdouble-portserver-log", daemon=True).start()
        # Not waited for here: it gets ready while the workers boot, and each worker
        # waits for it before its first pick (see use_portserver_in_worker).
        self._process = process
        self.address = address
        return address

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a portserver ignoring SIGTERM
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def is_local_popen(node: Any) -> bool:
    """Return whether an xdist node runs as a subprocess on this machine."""
    spec = getattr(getattr(node, "gateway", None), "spec", None)
    return bool(getattr(spec, "popen", False)) and not getattr(spec, "via", None)


def _listening(address: str) -> bool:
    """Return whether the portserver accepts connections at ``address`` (``@`` abstract)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(address.replace("@", "\0", 1))
        except OSError:
            return False
    return True


def use_portserver_in_worker(workerinput: dict[str, Any]) -> str | None:
    """In a worker: wait for the controller's portserver, then export its address.

    Returns the address, or ``None`` when there is none or it does not answer
    (portpicker then picks on its own, as on other platforms).
    """
    address = workerinput.get(WORKERINPUT_KEY)
    if not isinstance(address, str) or not address:
        return None
    deadline = time.monotonic() + _START_TIMEOUT
    while not _listening(address):
        if time.monotonic() > deadline:
            return None
        time.sleep(_READY_POLL)
    os.environ["PORTSERVER_ADDRESS"] = address
    return address
