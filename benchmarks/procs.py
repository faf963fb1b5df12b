"""Server processes for the benchmark driver: start one, learn its port, read its CPU time.

Every server, ours or a peer, is a script that listens on 127.0.0.1, prints one JSON
line with its ``port``, and serves until its standard input closes (``serve.py`` and
the scripts in ``peers/``). ``serving`` runs one such script for the length of a
``with`` block; ``cpu_seconds`` reads what the process has used so far from
``/proc/<pid>/stat``, all its threads together.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Served:
    """A running server process: its port, its process id and what it said on start."""

    port: int
    pid: int
    info: dict[str, Any]


@contextlib.contextmanager
def serving(command: Sequence[str], *, name: str = "server") -> Iterator[Served]:
    """Run ``command`` (a server script) in its own process; stop it at the end."""
    # The server's own log (werkzeug prints a line per request) goes to a file, not the table.
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=HERE,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            line = process.stdout.readline()
            if not line:
                process.wait(15)
                log.seek(0)
                raise RuntimeError(f"{name} did not start:\n{log.read()[-3000:]}")
            info = json.loads(line)
            yield Served(int(info["port"]), process.pid, info)
        finally:
            process.stdin.close()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
            process.stdout.close()


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU seconds used so far by process ``pid`` (``None`` off Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _TICK
