"""Issue 17: remote xdist workers, tested against a real second host.

The second host is a network namespace made for the test, with a hostname of its own
(``unshare --uts``), reached over a veth pair; execnet's socket server runs in it with
this interpreter, so the remote side has httpdouble installed (the filesystem is shared).
One pytester run, ``--dist each`` over one remote and one local worker, checks every
point of the issue; the remote worker dies in the last test, so the crash is in it too.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..support import Runner, load_json

_START_TIMEOUT = 20.0
_SERVER_PORT = 8888  # inside the namespace: nothing else listens there


@dataclass(frozen=True)
class SecondHost:
    """A network namespace running execnet's socket server."""

    hostname: str
    tx: str  # the --tx specification of a worker there, minus chdir


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)


def _why_no_namespaces() -> str:
    """Return why this machine cannot make the second host here, or ``""``."""
    if not sys.platform.startswith("linux"):
        return "network namespaces are Linux only"
    if os.geteuid() != 0:
        return "making a network namespace needs root (CI runs as root)"
    for tool in ("ip", "unshare"):
        if shutil.which(tool) is None:
            return f"the {tool!r} command is missing (iproute2 / util-linux)"
    return ""


@pytest.fixture
def second_host(pytester: pytest.Pytester, tmp_path: Path) -> Iterator[SecondHost]:
    reason = _why_no_namespaces()
    if reason:
        pytest.skip(f"no second host: {reason}")
    tag = secrets.token_hex(3)
    namespace, outer, inner = f"httpdouble-{tag}", f"hdA{tag}", f"hdB{tag}"
    # A /30 in 10.231.0.0/16, chosen at random per run: unlikely to meet a real network.
    third, base = secrets.randbelow(256), 4 * secrets.randbelow(64)
    here, there = f"10.231.{third}.{base + 1}", f"10.231.{third}.{base + 2}"
    hostname = f"hd-remote-{tag}"
    made = _ip("netns", "add", namespace)
    if made.returncode != 0:
        pytest.skip(f"no second host: ip netns add failed: {made.stderr.strip()}")
    log = tmp_path / "socketserver.log"
    server: subprocess.Popen[bytes] | None = None
    try:
        for step in (
            ["link", "add", outer, "type", "veth", "peer", "name", inner],
            ["link", "set", inner, "netns", namespace],
            ["addr", "add", f"{here}/30", "dev", outer],
            ["link", "set", outer, "up"],
            ["-n", namespace, "addr", "add", f"{there}/30", "dev", inner],
            ["-n", namespace, "link", "set", inner, "up"],
            ["-n", namespace, "link", "set", "lo", "up"],
        ):
            done = _ip(*step)
            if done.returncode != 0:  # no veth support, say: no second host here either
                pytest.skip(f"no second host: ip {' '.join(step)} failed: {done.stderr.strip()}")
        env = {k: v for k, v in os.environ.items() if k != "PORTSERVER_ADDRESS"}
        # -m, not the script's path: run as a script, its folder would shadow the
        # standard library's socketserver module in every remote worker.
        command = (
            f"hostname {hostname} && exec {sys.executable} -m execnet.script.socketserver"
            f" {there}:{_SERVER_PORT}"
        )
        with log.open("wb") as out:
            server = subprocess.Popen(
                ["ip", "netns", "exec", namespace, "unshare", "--uts", "sh", "-c", command],
                cwd=pytester.path,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while b"Entering Accept loop" not in log.read_bytes():
            assert server.poll() is None, f"the socket server ended: {log.read_text()}"
            assert time.monotonic() < deadline, f"the socket server did not start: {log}"
            time.sleep(0.05)
        yield SecondHost(hostname, f"socket={there}:{_SERVER_PORT}")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)
        _ip("netns", "del", namespace)  # takes the veth pair with it
        _ip("link", "del", outer)  # in case the pair was made but not moved


REMOTE_SUITE = """
import json
import os
import socket
from pathlib import Path

from client import get


def _facts(httpserver):
    return {{
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "port": httpserver.port,
        "url": httpserver.url_for("/").rstrip("/"),
        "net": os.readlink("/proc/self/ns/net"),
        "portserver": os.environ.get("PORTSERVER_ADDRESS", ""),
    }}


def test_a_good_request(httpserver):
    httpserver.expect_request("/ok").respond_with_data("ok")
    assert get(httpserver.url_for("/ok")) == (200, "ok")
    # Both workers run in the suite's folder (the remote one by its chdir).
    worker = os.environ["PYTEST_XDIST_WORKER"]
    Path(f"seen-{{worker}}.json").write_text(json.dumps(_facts(httpserver)))


def test_b_wrong_request(httpserver):
    get(httpserver.url_for("/wrong/" + socket.gethostname()))


def test_z_the_remote_worker_dies(httpserver):
    assert get(httpserver.url_for("/last"))[0] == 500
    httpserver.clear_assertions()
    if socket.gethostname() == "{remote_host}":
        os._exit(3)
"""


def test_a_remote_and_a_local_worker_each_have_a_server_and_one_report(
    suite: pytest.Pytester,
    run: Runner,
    second_host: SecondHost,
    tmp_path: Path,
) -> None:
    suite.makepyfile(test_remote=REMOTE_SUITE.format(remote_host=second_host.hostname))
    path = tmp_path / "report.json"
    result = run(
        "--tx",
        f"{second_host.tx}//chdir={suite.path}",
        "--tx",
        "popen",
        "--dist",
        "each",
        "--max-worker-restart=0",
        f"--httpserver-report-json={path}",
    )
    output = result.stdout.str()
    assert "INTERNALERROR" not in output + result.stderr.str()
    result.assert_outcomes(passed=5, failed=1, errors=2)

    facts = {w: load_json(suite.path / f"seen-{w}.json") for w in ("gw0", "gw1")}
    remote = next(w for w, f in facts.items() if f["host"] == second_host.hostname)
    local = next(w for w in facts if w != remote)
    mine = os.readlink("/proc/self/ns/net")
    # The remote worker's server listens on the loopback of its own machine, and its
    # tests passed against it (test_a_good_request is among the five passes).
    assert facts[remote]["net"] != mine
    assert facts[local]["net"] == mine
    assert facts[remote]["url"] == f"http://localhost:{facts[remote]['port']}"
    assert facts[remote]["portserver"] == ""
    assert facts[local]["portserver"].startswith("@httpdouble-")

    report = load_json(path)
    workers = {w["worker"]: w for w in report["workers"]}
    assert workers[remote]["host"] == second_host.hostname
    assert workers[remote]["ports"] == "bind port 0"
    assert workers[remote]["crashed"]
    assert workers[remote]["crashed_in"] == "test_remote.py::test_z_the_remote_worker_dies"
    assert workers[local]["host"] not in ("", second_host.hostname)
    assert workers[local]["ports"] == "controller's coordinator"
    assert not workers[local]["crashed"]

    # No port of the controller's coordinator went to the remote worker; the local one's did.
    handed_out = {(p["pid"], p["port"]) for p in report["port_coordinator"]["handed_out"]}
    assert (facts[local]["pid"], facts[local]["port"]) in handed_out
    assert facts[remote]["pid"] not in {pid for pid, _ in handed_out}
    assert facts[remote]["port"] not in {port for _, port in handed_out}

    # Its problem is in the controller's report, tagged with worker and host.
    problems = {(p["worker"], p["host"], p["where"]) for p in report["problems"]}
    assert (remote, second_host.hostname, "test_remote.py::test_b_wrong_request") in problems
    lines = output.splitlines()
    tag = f"[{remote} on {second_host.hostname}]"
    assert (
        f"  test_remote.py::test_b_wrong_request {tag}:"
        f" no handler matched: GET /wrong/{second_host.hostname}"
    ) in lines
    assert (
        f"  ports: {remote} chosen by the system (each binds port 0);"
        f" {local} chosen by the controller, so no two workers share one"
    ) in output
    crashed = [line for line in lines if line.startswith(f"  {remote} ")]
    assert len(crashed) == 1
    assert re.fullmatch(
        rf"  {remote} +\d+ requests? +\d+ tests?  {re.escape(facts[remote]['url'])}"
        rf" on {re.escape(second_host.hostname)} CRASHED while running"
        r" test_remote\.py::test_z_the_remote_worker_dies \(.+\);"
        r" what it saw after its last finished test is lost",
        crashed[0],
    )
