"""Issue 16: the HTML report file, and each test's traffic in its pytest-html row."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ..support import SUITE_INI, Runner, load_json

TRAFFIC = """
from client import get

def test_matched(httpserver):
    httpserver.expect_request("/ok").respond_with_json({"fine": True})
    assert get(httpserver.url_for("/ok"))[0] == 200

def test_typo(httpserver):
    httpserver.expect_request("/products").respond_with_data("[]")
    assert get(httpserver.url_for("/prodcts"))[0] == 500

def test_quiet(httpserver):
    pass
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["no xdist", "-n 2"])
def test_html_file_shows_every_test_and_request_from_the_json_data(
    suite: pytest.Pytester, run: Runner, tmp_path: Path, workers: list[str]
) -> None:
    suite.makepyfile(test_traffic=TRAFFIC)
    html_path = tmp_path / "out" / "report.html"
    json_path = tmp_path / "report.json"
    result = run(
        *workers, f"--httpserver-report-html={html_path}", f"--httpserver-report-json={json_path}"
    )
    result.assert_outcomes(passed=3, errors=1)
    page = html_path.read_text(encoding="utf-8")
    data = load_json(json_path)
    assert data["summary"]["tests"] == 3
    assert data["summary"]["requests"] == 2
    assert data["summary"]["problems"] == 1
    # The JSON carries each request; the page shows the same ones.
    targets = [x["target"] for t in data["tests"] for x in t.get("exchanges", [])]
    assert sorted(targets) == ["/ok", "/prodcts"]
    assert page.count('<details class="test"') == 3
    assert 'class="x problem" id="t' in page
    assert 'GET /prodcts</b> → <span class="st">500</span>' in page
    assert (
        "<tr><th>uri</th><td>&#x27;/products&#x27;</td><td>&#x27;/prodcts&#x27;</td></tr>" in page
    )
    # No network: nothing is loaded from anywhere.
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)


def test_html_ini_twin_writes_the_file(
    suite: pytest.Pytester, run: Runner, tmp_path: Path
) -> None:
    path = tmp_path / "from-ini.html"
    suite.makeini(f"{SUITE_INI}httpserver_report_html = {path}\n")
    suite.makepyfile(test_traffic=TRAFFIC)
    run("-p", "no:html").assert_outcomes(passed=3, errors=1)
    assert '<span class="n" data-key="tests">3</span>' in path.read_text(encoding="utf-8")


CHECK_IMPORTS = """
import sys

def test_zz_nothing_of_the_html_views_was_imported():
    assert "pytest_html" not in sys.modules
    assert [m for m in sys.modules if m.startswith("httpdouble._report.html")] == []
"""


def test_without_pytest_html_nothing_of_it_is_imported(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(test_traffic=TRAFFIC, test_zz_imports=CHECK_IMPORTS)
    # pytest-html has two entry points: its plugin and its fixtures.
    run("-p", "no:html", "-p", "no:html_fixtures").assert_outcomes(passed=4, errors=1)


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["no xdist", "-n 2"])
def test_pytest_html_rows_carry_the_traffic_and_problems_of_their_test(
    suite: pytest.Pytester, run: Runner, tmp_path: Path, workers: list[str]
) -> None:
    pytest.importorskip("pytest_html")
    suite.makepyfile(test_traffic=TRAFFIC)
    path = tmp_path / "pytest-html.html"
    run(*workers, f"--html={path}", "--self-contained-html").assert_outcomes(passed=3, errors=1)
    rows = _pytest_html_rows(path)
    assert sorted(rows) == [
        f"test_traffic.py::test_{name}" for name in ("matched", "quiet", "typo")
    ]
    fragments = {nodeid: _our_extra(row) for nodeid, row in rows.items()}
    assert (
        'GET /ok</b> → <span class="st">200</span>' in fragments["test_traffic.py::test_matched"]
    )
    typo = fragments["test_traffic.py::test_typo"]
    assert 'GET /prodcts</b> → <span class="st">500</span>' in typo
    assert (
        "<tr><th>uri</th><td>&#x27;/products&#x27;</td><td>&#x27;/prodcts&#x27;</td></tr>" in typo
    )
    assert "no request" in fragments["test_traffic.py::test_quiet"]


def _pytest_html_rows(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Return pytest-html's rows by node id (it keeps them as JSON in one attribute)."""
    found = re.search(r'data-jsonblob="([^"]*)"', path.read_text(encoding="utf-8"))
    assert found is not None
    rows: dict[str, list[dict[str, Any]]] = json.loads(html.unescape(found.group(1)))["tests"]
    return rows


def _our_extra(rows: list[dict[str, Any]]) -> str:
    (ours,) = {e["content"] for row in rows for e in row["extras"] if "httpdouble" in e["content"]}
    assert isinstance(ours, str)
    return ours
