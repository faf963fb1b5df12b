"""Issue 15: a pytest run pays (almost) nothing for an unused plugin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpdouble

HEAVY = (
    "werkzeug",
    "httpdouble._server.server",
    "httpdouble._app.dispatch",
    "httpdouble._matching.request_matcher",
    "httpdouble._report.html",  # imported when an HTML report is asked for
    "httpdouble._pytest.html_extras",  # imported when pytest-html writes a report
)


def _modules_after(statement: str) -> list[str]:
    code = (
        f"{statement}; import json, sys"
        f"; print(json.dumps(sorted(m for m in sys.modules if m.startswith({HEAVY!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    found: list[str] = json.loads(done.stdout)
    return found


def test_importing_the_plugin_imports_no_server_code_and_no_werkzeug() -> None:
    assert _modules_after("import httpdouble.plugin, httpdouble._pytest.fixtures") == []


def test_the_plugin_leaves_its_fixtures_module_for_pytest_to_import() -> None:
    # pytest imports it through pytest_plugins and rewrites its asserts; imported before
    # that, pytest 8 warns "Module already imported so cannot be rewritten" (an error here).
    code = "import sys, httpdouble.plugin; print('httpdouble._pytest.fixtures' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"


def test_a_public_name_imports_its_module_on_first_access() -> None:
    assert _modules_after("import httpdouble; httpdouble.__version__") == []
    assert "httpdouble._server.server" in _modules_after("from httpdouble import HTTPServer")


def test_every_public_name_is_importable_and_listed_by_dir() -> None:
    names = dir(httpdouble)
    for name in httpdouble.__all__:
        assert name in names
        assert getattr(httpdouble, name) is not None


def test_a_run_with_no_test_using_a_server_imports_no_server_code(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text(
        "import sys\n"
        "def test_plain():\n"
        f"    assert [m for m in sys.modules if m.startswith({HEAVY!r})] == []\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "httpdouble"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_server_line_names_the_installed_werkzeug_version() -> None:
    # Read from the name of werkzeug's metadata folder (issue 27), not importlib.metadata.
    import importlib.metadata

    from httpdouble._wire.framing import server_line

    version = importlib.metadata.version("werkzeug")
    assert server_line().startswith(f"Server: Werkzeug/{version} Python/"), server_line()
