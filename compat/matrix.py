"""Run a lean slice of the tests on every CPython 3.11+ here, pytest 8 and 9, werkzeug 3.0 and 3.x.

``nox -s matrix`` runs every combination; ``nox -s matrix-ci`` (in CI) runs one: the newest
Python here with the oldest pytest and werkzeug we support, the corner farthest from the
``tests`` session (which runs the whole suite with the newest pytest and werkzeug).

Each combination gets a virtualenv of its own under ``.nox/matrix/`` (made once, then
reused), installs the project with its test extras and the pinned pytest and werkzeug, and
runs :data:`LEAN`: a few test files that exercise the plugin, the server and matching (a
minute or less each). Unless ``--no-compat``, it then runs pytest-httpserver 1.2.1's own
suite, renamed, plainly (``compat/run_upstream.py``). It prints one table row per
combination: versions, passed and failed counts, seconds.

Interpreters are found on ``PATH`` (``python3.X``) and in pyenv's versions folder, each
tried before use (a pyenv shim on ``PATH`` fails unless its version is active).

Exit status 1 when a test failed or a combination could not be installed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / ".nox" / "matrix"
MINORS = ["3.11", "3.12", "3.13", "3.14"]
PYTESTS = {"8": "pytest>=8.0,<9", "9": "pytest>=9.0,<10"}
WERKZEUGS = {"3.0": "werkzeug>=3.0,<3.1", "3.x": "werkzeug>=3.0,<4"}
# The plugin (pytester runs), the server over real sockets, and matching.
LEAN = [
    "tests/unit/test_matching.py",
    "tests/unit/test_upstream_121_matching.py",
    "tests/server/test_upstream_parity.py",
    "tests/server/test_upstream_121.py",
    "tests/plugin/test_fixtures.py::test_httpserver_fixture_serves_registered_responses",
    "tests/plugin/test_teardown.py::test_unmatched_request_fails_the_test_at_teardown",
    "tests/plugin/test_teardown.py::test_ini_option_turns_the_check_off",
]
UPSTREAM = "1.2.1"


@dataclass
class Row:
    python: str
    pytest: str
    werkzeug: str
    passed: int = 0
    failed: int = 0
    seconds: float = 0.0
    compat_passed: int | None = None
    compat_failed: int | None = None
    compat_seconds: float | None = None
    install_seconds: float = 0.0
    note: str = ""


def interpreters() -> dict[str, str]:
    """Minor version to a working interpreter, from PATH and pyenv's versions folder."""
    found: dict[str, str] = {}
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for minor in MINORS:
        candidates = [shutil.which(f"python{minor}")]
        candidates += sorted(map(str, pyenv.glob(f"{minor}.*/bin/python{minor}")), reverse=True)
        for exe in filter(None, candidates):
            probe = subprocess.run(
                [exe, "-c", "import sys, venv; print(sys.version.split()[0])"],
                capture_output=True,
                text=True,
                check=False,
            )
            if probe.returncode == 0:
                found[minor] = exe
                break
    return found


def _venv(exe: str, minor: str, pytest: str, werkzeug: str) -> tuple[Path, str]:
    """Make (once) and fill the combination's virtualenv; return its python, or a note."""
    where = VENVS / f"py{minor}-pytest{pytest}-werkzeug{werkzeug}"
    python = where / "bin" / "python"
    wanted = f"{PYTESTS[pytest]} {WERKZEUGS[werkzeug]}"
    stamp = where / "matrix-installed"
    if stamp.exists() and stamp.read_text() == wanted:
        return python, ""
    if not python.exists():
        subprocess.run([exe, "-m", "venv", str(where)], check=True, capture_output=True)
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    install += ["-e", f"{ROOT}[test]", PYTESTS[pytest], WERKZEUGS[werkzeug]]
    done = subprocess.run(install, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return python, "install failed: " + (done.stderr.strip().splitlines() or ["?"])[-1]
    stamp.write_text(wanted)
    return python, ""


def _versions(python: Path) -> tuple[str, str, str]:
    code = (
        "import sys; from importlib.metadata import version as v;"
        "print(sys.version.split()[0], v('pytest'), v('werkzeug'))"
    )
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    py, pytest, werkzeug = out.stdout.split()
    return py, pytest, werkzeug


def _lean(python: Path, row: Row, report: Path) -> None:
    command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    command += [f"--junitxml={report}", *LEAN]
    started = time.monotonic()
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    row.seconds = time.monotonic() - started
    if not report.exists():
        row.failed, row.note = 1, "pytest wrote no report"
        print(done.stdout + done.stderr)
        return
    for case in ET.parse(report).iter("testcase"):
        kinds = {child.tag for child in case}
        if kinds & {"failure", "error"}:
            row.failed += 1
        elif "skipped" not in kinds:
            row.passed += 1
    if row.failed:
        print(done.stdout[-6000:])


def _compat(python: Path, row: Row) -> None:
    command = [str(python), "compat/run_upstream.py", "--release", UPSTREAM, "--jobs", "1"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    row.compat_seconds = time.monotonic() - started
    plain = re.search(r", plain: (\d+) passed, (\d+) failed", done.stdout)
    if plain:
        row.compat_passed, row.compat_failed = int(plain[1]), int(plain[2])
    if done.returncode != 0 or not plain:
        row.note = (row.note + "; compat failed").lstrip("; ")
        print(done.stdout[-6000:] + done.stderr[-2000:])


def table(rows: list[Row]) -> str:
    head = "| Python | pytest | werkzeug | passed | failed | s | compat 1.2.1 passed/failed | s |"
    lines = [head, "|" + "---|" * 8]
    for r in rows:
        compat = "-" if r.compat_passed is None else f"{r.compat_passed}/{r.compat_failed}"
        compat_s = "-" if r.compat_seconds is None else f"{r.compat_seconds:.0f}"
        lines.append(
            f"| {r.python} | {r.pytest} | {r.werkzeug} | {r.passed} | {r.failed} |"
            f" {r.seconds:.0f} | {compat} | {compat_s} |" + (f" {r.note}" if r.note else "")
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ci", action="store_true", help="only the CI slice (see above)")
    parser.add_argument("--no-compat", action="store_true", help="skip the upstream suite")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    found = interpreters()
    if not found:
        print("matrix: no CPython 3.11+ found")
        return 1
    combos = [(m, p, w) for m in found for p in PYTESTS for w in WERKZEUGS]
    if args.ci:
        combos = [(max(found, key=lambda m: tuple(map(int, m.split(".")))), "8", "3.0")]
    rows: list[Row] = []
    VENVS.mkdir(parents=True, exist_ok=True)
    for minor, pytest, werkzeug in combos:
        started = time.monotonic()
        python, note = _venv(found[minor], minor, pytest, werkzeug)
        if note:
            rows.append(Row(minor, PYTESTS[pytest], WERKZEUGS[werkzeug], failed=1, note=note))
        else:
            row = Row(*_versions(python), install_seconds=time.monotonic() - started)
            _lean(python, row, python.parent.parent / "lean.xml")
            if not args.no_compat:
                _compat(python, row)
            rows.append(row)
        last = rows[-1]
        print(
            f"matrix: Python {last.python}, pytest {last.pytest}, werkzeug {last.werkzeug}:"
            f" {last.passed} passed, {last.failed} failed [{last.seconds:.0f} s;"
            f" virtualenv {last.install_seconds:.0f} s] {last.note}"
        )
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in rows], indent=2))
    bad = [r for r in rows if r.failed or r.note]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
