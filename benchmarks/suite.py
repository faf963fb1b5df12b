"""A generated pytest suite: per-test overhead of a server fixture over an empty test.

Each generated test registers one handler, sends one request over a new
connection, and leaves the teardown check to the fixture (ours checks
automatically; the incumbent's test calls ``check_assertions()``, which is
what its documentation asks of a test).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from pathlib import Path

TESTS = 500

_HTTP_TEST = """
def test_request_{n}(httpserver):
    httpserver.expect_request("/item/{n}", method="GET").respond_with_data("ok")
    conn = http.client.HTTPConnection("127.0.0.1", httpserver.port, timeout=10)
    try:
        conn.request("GET", "/item/{n}")
        response = conn.getresponse()
        assert response.status == 200
        assert response.read() == b"ok"
    finally:
        conn.close()
{check}"""

_EMPTY_TEST = """
def test_nothing_{n}():
    pass
"""


def write_suites(folder: Path, tests: int = TESTS) -> None:
    """Write the suites: ``ours``, ``incumbent`` (explicit check) and ``empty``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    header = "import http.client\n"
    ours = header + "".join(_HTTP_TEST.format(n=n, check="") for n in range(tests))
    incumbent = header + "".join(
        _HTTP_TEST.format(n=n, check="    httpserver.check_assertions()\n") for n in range(tests)
    )
    empty = "".join(_EMPTY_TEST.format(n=n) for n in range(tests))
    for name, text in (("ours", ours), ("incumbent", incumbent), ("empty", empty)):
        (folder / f"test_{name}.py").write_text(text)


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in (
        "PYTEST_ADDOPTS",
        "PYTHONPATH",
        "PYTEST_PLUGINS",
        "PYTEST_XDIST_AUTO_NUM_WORKERS",
    ):
        env.pop(name, None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def time_suite(
    python: str, folder: Path, module: str, workers: int, timeout: float = 300
) -> float:
    """Wall time of one pytest run of ``test_<module>.py``; raises when a test failed."""
    command = [python, "-m", "pytest", "-q", "-c", str(folder / "pytest.ini")]
    command += ["--rootdir", str(folder), str(folder / f"test_{module}.py")]
    if workers:
        command += ["-n", str(workers)]
    began = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=_clean_env(), cwd=folder
    )
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
        )
    return elapsed


def overhead_ms(
    python: str, folder: Path, module: str, workers: int, repeats: int, tests: int = TESTS
) -> dict[str, float]:
    """Median per-test overhead (ms) of ``module`` over the empty suite, same interpreter."""
    suite: list[float] = []
    empty: list[float] = []
    for _ in range(repeats):  # Interleaved, so drift hits both alike.
        empty.append(time_suite(python, folder, "empty", workers))
        suite.append(time_suite(python, folder, module, workers))
    suite_s = statistics.median(suite)
    empty_s = statistics.median(empty)
    return {
        "per_test_ms": (suite_s - empty_s) / tests * 1e3,
        "suite_s": suite_s,
        "empty_s": empty_s,
    }
