"""Developer and CI sessions. CI runs ``nox -s tests compat matrix-ci browser`` (``.ci/run``).

Where users are: ``nox -s matrix`` runs a lean slice of the tests and pytest-httpserver
1.2.1's suite on every CPython 3.11+ this machine has, with pytest 8 and 9 and werkzeug 3.0
and the newest 3.x (12 combinations here, about a minute each under load, more the first
time: each makes its virtualenv). CI runs one of them, ``matrix-ci``: the newest Python with
the oldest pytest and werkzeug, the lean tests only; ``tests`` and ``compat`` cover the
newest pytest and werkzeug.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox

nox.options.sessions = ["tests", "compat", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = False

COVERAGE_FAIL_UNDER = "95"
CANDIDATE_PYTHONS = ["3.11", "3.12", "3.13", "3.14"]


def _working_pythons() -> list[str] | None:
    """Return the Python 3.11+ versions that actually run here (pyenv shims may exist but fail).

    ``None`` (no versioned interpreter found) makes nox use the interpreter it runs on.
    """
    found = []
    for version in CANDIDATE_PYTHONS:
        exe = shutil.which(f"python{version}")
        if exe is None:
            continue
        probe = subprocess.run([exe, "-c", "import venv"], capture_output=True, check=False)
        if probe.returncode == 0:
            found.append(version)
    return found or None


PYTHONS = _working_pythons()


def _run_suite(session: nox.Session, fail_under: str) -> None:
    session.install(".[test]")
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", "-n", "auto", *session.posargs)
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "report", f"--fail-under={fail_under}")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite on every Python 3.11+ this machine has, under branch coverage."""
    _run_suite(session, COVERAGE_FAIL_UNDER)


@nox.session
def compat(session: nox.Session) -> None:
    """pytest-httpserver 1.1.5's and 1.2.1's own test suites, imports renamed, against us.

    Plainly and with ``--ssl``, the teardown check off; one line per run when green. Fails on
    any failing test not on the release's ``compat/allowlist-<version>.txt`` (see
    ``compat/run_upstream.py``; ``-- --verbose`` lists what the teardown check would fail).
    """
    session.install(".", "requests")
    session.run("python", "compat/run_upstream.py", *session.posargs)


@nox.session(name="compat-latest")
def compat_latest(session: nox.Session) -> None:
    """The newest pytest-httpserver on the package index: its suite and the gap (not in CI)."""
    session.install(".", "requests")
    session.run("python", "compat/run_upstream.py", "--latest", *session.posargs)


@nox.session(venv_backend="none")
def matrix(session: nox.Session) -> None:
    """Lean tests + 1.2.1's suite on every CPython 3.11+ x pytest 8/9 x werkzeug 3.0/3.x.

    Each combination has its own virtualenv under ``.nox/matrix`` (see ``compat/matrix.py``);
    ``-- --no-compat`` skips the upstream suite, ``-- --json FILE`` writes the table's rows.
    """
    session.run(sys.executable, "compat/matrix.py", *session.posargs, external=True)


@nox.session(name="matrix-ci", venv_backend="none")
def matrix_ci(session: nox.Session) -> None:
    """CI's slice of ``matrix``: the newest Python here, pytest 8 and werkzeug 3.0, lean tests."""
    session.run(sys.executable, "compat/matrix.py", "--ci", "--no-compat", external=True)


@nox.session
def coverage(session: nox.Session) -> None:
    """Branch coverage of one run, xdist workers and pytester subprocesses included."""
    _run_suite(session, COVERAGE_FAIL_UNDER)
    session.run("coverage", "html", "--quiet")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, and the layering contracts (import-linter).

    The contracts are ``[tool.importlinter]`` in pyproject.toml: an import that crosses a
    layer, or closes a cycle, fails this session, and CI runs it (``.ci/run``). ruff is
    pinned so a new release's rules cannot turn CI red on unchanged code.
    """
    session.install("ruff==0.17.6", "import-linter>=2.17", "-e", ".")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install("mypy", ".[tls]")
    session.run("mypy", "--strict")
    session.install("pytest", "werkzeug")
    session.run("mypy", "--strict", "tests/typing")


@nox.session
def demo(session: nox.Session) -> None:
    """Run the example suite under ``pytest -n auto``; ``-- --broken`` runs the broken one."""
    session.install(".", "requests")
    broken = "--broken" in session.posargs
    rest = [arg for arg in session.posargs if arg != "--broken"]
    folder = "examples/broken" if broken else "examples/demo"
    session.run(
        "pytest",
        "-n",
        "auto",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        folder,
        "-c",
        f"{folder}/pytest.ini",
        folder,
        *rest,
        # The broken suite fails on purpose: its exit status 1 is the expected outcome.
        success_codes=[1] if broken else [0],
    )


CHROMIUM = "/usr/bin/chromium"


@nox.session
def browser(session: nox.Session) -> None:
    """The HTML report in headless Chromium; its screenshot goes under ``build/`` (untracked).

    Installs Debian's ``chromium`` when it is missing (this needs root, as in CI). Playwright
    drives that binary: it never downloads a browser of its own.
    """
    _run_browser_tests(session, {})


@nox.session(name="docs_image")
def docs_image(session: nox.Session) -> None:
    """Update the screenshot the HTML-report how-to shows (docs/howto/html-report.png)."""
    image = Path("docs/howto/html-report.png").resolve()
    _run_browser_tests(session, {"HTTPDOUBLE_SCREENSHOT": str(image)}, "-k", "screenshot")
    session.log(f"updated {image}: review it and commit it")


def _run_browser_tests(session: nox.Session, env: dict[str, str], *args: str) -> None:
    if not Path(CHROMIUM).exists():
        if shutil.which("apt-get") is None or os.geteuid() != 0:
            session.error(f"{CHROMIUM} is missing: install Debian's chromium package (as root)")
        apt_env = {"DEBIAN_FRONTEND": "noninteractive"}
        session.run("apt-get", "update", "-q", external=True, env=apt_env)
        session.run("apt-get", "install", "-y", "-q", "chromium", external=True, env=apt_env)
    session.install(".[test]", "playwright")
    session.run(
        "pytest",
        "-p",
        "no:cacheprovider",
        "tests/browser",
        *args,
        *session.posargs,
        env={"HTTPDOUBLE_BROWSER_TESTS": "1", "HTTPDOUBLE_CHROMIUM": CHROMIUM, **env},
    )


@nox.session
def docs(session: nox.Session) -> None:
    """Build the Sphinx docs with warnings as errors."""
    session.install(".[docs]")
    session.run("sphinx-build", "-n", "-W", "--keep-going", "-b", "html", "docs", "docs/_build")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks of issue 15: ours, the incumbent and three peers (prints tables, writes JSON).

    ``nox -s bench`` takes about 10 minutes; ``nox -s bench -- --quick`` under one (after
    the first run, which makes two virtualenvs). Other arguments go to ``benchmarks/run.py``
    (``--sections``, ``--repetitions``, ``--json``, ``--before-src``).
    """
    # The incumbent (pytest-httpserver) is installed by run.py into benchmarks/.venv-incumbent,
    # never here: it registers the same fixture name as ours.
    session.install(".", "requests", "httpx", "trustme", "pytest", "pytest-xdist")
    # The peers; uvloop only where it installs (uvicorn falls back to asyncio and says so).
    uvloop = "uvloop; sys_platform != 'win32' and platform_python_implementation == 'CPython'"
    session.install("uvicorn", "httptools", uvloop)
    _ensure_wrk(session)
    session.run("python", "benchmarks/run.py", *session.posargs)
    _bench_costs(session)


def _bench_costs(session: nox.Session) -> None:
    """Issue 27: import and fixture cost, ours against pytest-httpserver 1.2.1.

    Each script makes the virtualenvs it compares (``benchmarks/costs.py``); ``--quick``
    passes through. About 3 minutes, 40 s with ``--quick``.
    """
    quick = ["--quick"] if "--quick" in session.posargs else []
    session.run("python", "benchmarks/import_cost.py", *quick)
    session.run("python", "benchmarks/fixture_cost.py", *quick)


def _ensure_wrk(session: nox.Session) -> None:
    """Install wrk from the system's packages when it is missing and we may (Debian, root)."""
    if shutil.which("wrk") is not None:
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        session.warn("wrk is not installed: the wrk cases will be skipped (apt-get install wrk)")
        return
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    for command in (install, ["apt-get", "update", "-q"], install):
        session.run(*command, external=True, success_codes=[0, 100], silent=True)
        if shutil.which("wrk") is not None:
            return
    session.warn("wrk could not be installed: the wrk cases will be skipped")
