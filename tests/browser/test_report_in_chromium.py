"""Issue 16: the HTML report of the demo's broken suite, opened in headless Chromium.

Run by ``nox -s browser`` (which installs Debian's ``chromium`` when it is missing); the
normal test session leaves this folder out. It also saves a screenshot of the report, under
``build/`` (see ``paths.py``); ``nox -s docs_image`` saves it as the image the how-to shows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright

from httpdouble._report.html import render

from .paths import screenshot_path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("HTTPDOUBLE_CHROMIUM", "/usr/bin/chromium")
SCREENSHOT = screenshot_path(os.environ)
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO = ROOT / "examples" / "broken"
RUN_TIMEOUT = 120
READY = "document.body.dataset.ready === '1'"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The broken demo suite run under ``-n 2``: its HTML report and its JSON data."""
    out = tmp_path_factory.mktemp("demo")
    html_path, json_path = out / "report.html", out / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:asyncio",
            "--rootdir",
            str(DEMO),
            "-c",
            str(DEMO / "pytest.ini"),
            str(DEMO),
            f"--httpserver-report-html={html_path}",
            f"--httpserver-report-json={json_path}",
        ],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # the suite fails on purpose
    data: dict[str, Any] = json.loads(json_path.read_text(encoding="utf-8"))
    return html_path, data


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh user data dir
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1200, "height": 900},
        )
        yield context
        context.close()


def _open(browser: BrowserContext, path: Path) -> Page:
    page = browser.new_page()
    page.goto(path.as_uri())
    page.wait_for_function(READY, timeout=20_000)
    return page


def _visible_tests(page: Page) -> int:
    count: int = page.evaluate("document.querySelectorAll('details.test:not([hidden])').length")
    return count


def test_counts_match_the_json_data(
    browser: BrowserContext, demo: tuple[Path, dict[str, Any]]
) -> None:
    path, data = demo
    page = _open(browser, path)
    for key, value in data["summary"].items():
        assert page.locator(f'.n[data-key="{key}"]').inner_text() == str(value)
    assert page.locator("details.test").count() == len(data["tests"])
    assert page.locator("#problems .group").count() == len(data["problems"])
    assert page.locator("#workers tr").count() == len(data["workers"]) + 1
    assert page.locator("#timeline .band").count() == len(data["tests"])
    page.close()


def test_a_problem_shows_the_closest_handler_and_the_difference_side_by_side(
    browser: BrowserContext, demo: tuple[Path, dict[str, Any]]
) -> None:
    page = _open(browser, demo[0])
    group = page.locator("#problems .group", has_text="test_large_json_body_differs_deep_inside")
    row = group.locator("table.diff tr", has_text="json items[9].qty")
    cells = row.locator("td").all_inner_texts()
    assert cells == ["9 (int)", "'9' (str)"]
    assert group.locator("table.diff th").nth(1).inner_text() == "closest handler"
    page.close()


def test_the_text_and_problems_only_filters_hide_the_other_tests(
    browser: BrowserContext, demo: tuple[Path, dict[str, Any]]
) -> None:
    path, data = demo
    page = _open(browser, path)
    total = len(data["tests"])
    assert _visible_tests(page) == total
    page.fill("#filter", "path_typo")
    page.wait_for_function("document.querySelectorAll('details.test:not([hidden])').length === 1")
    assert page.locator("#shown").inner_text() == f"1 of {total} tests shown"
    page.fill("#filter", "")
    page.check("#problems-only")
    shown = _visible_tests(page)
    assert 0 < shown < total
    assert page.locator('details.test:not([hidden])[data-problems="0"]').count() == 0
    page.uncheck("#problems-only")
    assert _visible_tests(page) == total
    page.close()


@pytest.mark.parametrize("eager", [True, False], ids=["in the page", "rendered on demand"])
def test_a_click_on_a_problem_mark_opens_its_request(
    browser: BrowserContext, demo: tuple[Path, dict[str, Any]], tmp_path: Path, eager: bool
) -> None:
    path, data = demo
    if not eager:
        path = tmp_path / "lazy.html"
        path.write_text(render(data, eager_limit=0), encoding="utf-8")
    page = _open(browser, path)
    mark = page.locator("#timeline rect.m.problem[data-r]").first
    test, request = mark.get_attribute("data-t"), mark.get_attribute("data-r")
    mark.dispatch_event("click")
    opened = page.locator(f"#t{test}r{request}")
    assert opened.get_attribute("open") is not None
    assert "hit" in (opened.get_attribute("class") or "")
    assert opened.locator("h5").all_inner_texts() == ["request", "response"]
    page.close()


def test_screenshot_for_the_docs(
    browser: BrowserContext, demo: tuple[Path, dict[str, Any]]
) -> None:
    page = _open(browser, demo[0])
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 0
    page.close()
