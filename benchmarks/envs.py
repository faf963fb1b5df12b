"""The virtualenvs the benchmarks run pytest plugins from.

pytest-httpserver registers the same ``httpserver`` fixture as ours, so it is never
installed beside ours: ``ensure_incumbent`` gives it a virtualenv of its own
(``.venv-incumbent``). The suites and the startup figures run ours from a virtualenv of
the same shape (``.venv-ours-suite``: pytest, pytest-xdist, requests and this checkout),
because the driver's own environment carries other pytest plugins (anyio, through
httpx) whose hooks cost about 0.1-0.2 ms a test and whose imports cost every run.
Both are made on first use and reused while what they hold is unchanged.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
INCUMBENT_VENV = HERE / ".venv-incumbent"
SUITE_VENV = HERE / ".venv-ours-suite"
INCUMBENT_VERSION = "1.1.5"
INCUMBENT_SPEC = f"pytest-httpserver=={INCUMBENT_VERSION}"
SHARED = ("pytest", "pytest-xdist", "requests")
INCUMBENT_PINS = (INCUMBENT_SPEC, *SHARED)

Note = Callable[[str], None]


def _pip(python: Path) -> list[str]:
    return [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]


def ensure_incumbent(note: Note) -> str | None:
    """Return the python of the incumbent's virtualenv, making it if needed."""
    python = INCUMBENT_VENV / "bin" / "python"
    marker = INCUMBENT_VENV / "installed.txt"
    wanted = " ".join(INCUMBENT_PINS)
    if marker.exists() and marker.read_text().strip() == wanted:
        return str(python)
    print(f"making {INCUMBENT_VENV.name} with {wanted} ...", flush=True)
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(INCUMBENT_VENV)], check=True)
        subprocess.run([*_pip(python), *INCUMBENT_PINS], check=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as exc:
        note(f"incumbent not measured: its virtualenv could not be made ({exc})")
        return None
    marker.write_text(wanted + "\n")
    return str(python)


def _source_digest() -> str:
    digest = hashlib.sha256(" ".join(SHARED).encode())
    for path in [*sorted((ROOT / "src").rglob("*.py")), ROOT / "pyproject.toml"]:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def ensure_suite_venv(note: Note) -> str | None:
    """Return the python of a virtualenv with pytest, pytest-xdist, requests and ours."""
    python = SUITE_VENV / "bin" / "python"
    marker = SUITE_VENV / "installed.txt"
    wanted = _source_digest()
    if marker.exists() and marker.read_text().strip() == wanted:
        return str(python)
    print(f"making {SUITE_VENV.name} with {' '.join(SHARED)} and {ROOT.name} ...", flush=True)
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(SUITE_VENV)], check=True)
        subprocess.run([*_pip(python), *SHARED, str(ROOT)], check=True, timeout=600)
        # The same version number with other source: reinstall the plugin itself.
        reinstall = [*_pip(python), "--force-reinstall", "--no-deps", str(ROOT)]
        subprocess.run(reinstall, check=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as exc:
        note(f"ours runs from the driver's environment: no virtualenv of its own ({exc})")
        return None
    marker.write_text(wanted + "\n")
    return str(python)
