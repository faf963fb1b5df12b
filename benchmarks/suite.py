"""Generated pytest suites: the per-test overhead of a server fixture, against a floor.

Each generated test sends one ``requests.get`` (a new connection every time) and checks
the answer:

* ``ours``: registers a handler on our ``httpserver`` fixture; the fixture checks at
  teardown by itself;
* ``incumbent``: the same on pytest-httpserver's fixture, and calls
  ``check_assertions()``, as its documentation asks of a test;
* ``floor``: no handler, no check: a session-wide raw responder (``peers/raw_threads.py``,
  copied beside the suite) answers the same requests; what is left is the cost of the
  request itself;
* ``empty``: ``pass``, the baseline every overhead is taken over, run by the same
  interpreter as the suite it is the baseline of.

``overheads`` runs them interleaved, repetition after repetition, so that drift in the
machine's load hits all alike, and keeps each repetition's figures.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

TESTS = 2000
PEERS = Path(__file__).resolve().parent / "peers"

_HEADER = "import requests\n"

_SERVER_TEST = """
def test_request_{n}(httpserver):
    httpserver.expect_request("/item/{n}", method="GET").respond_with_data("ok")
    response = requests.get(httpserver.url_for("/item/{n}"), timeout=10)
    assert response.status_code == 200
    assert response.content == b"ok"
{check}"""

_FLOOR_HEADER = """import pytest
import requests

import raw_threads


@pytest.fixture(scope="session")
def rawserver():
    port, listener = raw_threads.serve_in_thread()
    yield f"http://127.0.0.1:{port}"
    listener.close()
"""

_FLOOR_TEST = """
def test_request_{n}(rawserver):
    response = requests.get(rawserver + "/item/{n}", timeout=10)
    assert response.status_code == 200
    assert response.content == b"ok"
"""

_EMPTY_TEST = """
def test_nothing_{n}():
    pass
"""


def write_suites(folder: Path, tests: int = TESTS) -> None:
    """Write ``test_ours.py``, ``test_incumbent.py``, ``test_floor.py`` and ``test_empty.py``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    shutil.copy(PEERS / "raw_threads.py", folder / "raw_threads.py")
    check = "    httpserver.check_assertions()\n"
    texts = {
        "ours": _HEADER + "".join(_SERVER_TEST.format(n=n, check="") for n in range(tests)),
        "incumbent": _HEADER
        + "".join(_SERVER_TEST.format(n=n, check=check) for n in range(tests)),
        "floor": _FLOOR_HEADER + "".join(_FLOOR_TEST.format(n=n) for n in range(tests)),
        "empty": "".join(_EMPTY_TEST.format(n=n) for n in range(tests)),
    }
    for name, text in texts.items():
        (folder / f"test_{name}.py").write_text(text)


def clean_env() -> dict[str, str]:
    """The environment without what would change which plugins pytest loads."""
    env = dict(os.environ)
    for name in (
        "PYTEST_ADDOPTS",
        "PYTHONPATH",
        "PYTEST_PLUGINS",
        "PYTEST_XDIST_AUTO_NUM_WORKERS",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
    ):
        env.pop(name, None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def time_pytest(python: str, folder: Path, args: list[str], timeout: float = 300) -> float:
    """Wall time of one pytest run in a fresh process; raises when it did not pass."""
    command = [python, "-m", "pytest", "-q", "-c", str(folder / "pytest.ini")]
    command += ["--rootdir", str(folder), *args]
    began = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=clean_env(), cwd=folder
    )
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
        )
    return elapsed


def time_suite(python: str, folder: Path, module: str, workers: int) -> float:
    args = [str(folder / f"test_{module}.py")]
    if workers:
        args += ["-n", str(workers)]
    return time_pytest(python, folder, args)


def overheads(
    pythons: dict[str, str], folder: Path, workers: int, repeats: int, tests: int = TESTS
) -> dict[str, list[float]]:
    """Per-test overhead (ms) of each suite over the empty one, per repetition.

    ``pythons`` maps ``ours``, ``incumbent`` and ``floor`` to the interpreter that runs
    that suite; each interpreter's empty suite is run once per repetition.
    """
    out: dict[str, list[float]] = {name: [] for name in pythons}
    for _ in range(repeats):
        empties = {
            python: time_suite(python, folder, "empty", workers) for python in {*pythons.values()}
        }
        for name, python in pythons.items():
            seconds = time_suite(python, folder, name, workers)
            out[name].append((seconds - empties[python]) / tests * 1e3)
    return out
