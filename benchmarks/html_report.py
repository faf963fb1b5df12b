"""The HTML report of a run with 20,000 requests: its size, and how fast Chromium opens it.

    python benchmarks/html_report.py [--tests 200] [--per-test 100] [--workers 2] [--loads 3]

A generated suite of ``--tests`` tests, each sending ``--per-test`` requests over one
keep-alive ``http.client`` connection to the ``httpserver`` fixture (matched JSON answers,
a JSON POST, now and then a request no handler matches, and one large body per test), runs
under ``pytest -n WORKERS``, once without a report file and once with
``--httpserver-report-html`` and ``--httpserver-report-json``. Then headless Chromium
(``/usr/bin/chromium``, driven by Playwright) opens the page ``--loads`` times, each in a
fresh profile. A load is timed from navigation until the page's script has run (the page is
then interactive); then one click on a timeline mark is timed until its request is shown.
Only 127.0.0.1 is contacted. This is a measurement, not a test: nothing fails on a number.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RUN_TIMEOUT = 600

SUITE = """
import http.client
import json

import pytest

PER_TEST = {per_test}


def _send(conn, method, target, body=None):
    headers = {{"Content-Type": "application/json", "Authorization": "Bearer s3cret-token"}}
    conn.request(method, target, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


@pytest.mark.httpserver_nocheck
@pytest.mark.parametrize("n", range({tests}))
def test_traffic(httpserver, n):
    httpserver.expect_request("/v1/items", method="GET").respond_with_json(
        {{"items": [{{"id": i, "name": f"item {{i}}"}} for i in range(5)]}}
    )
    httpserver.expect_request("/v1/orders", method="POST").respond_with_json({{"ok": True}})
    httpserver.expect_request("/v1/export").respond_with_data("x" * 50_000)
    conn = http.client.HTTPConnection(httpserver.host, httpserver.port, timeout=10)
    try:
        for i in range(PER_TEST):
            if i == 0:
                assert _send(conn, "GET", "/v1/export") == 200
            elif i % 50 == 7:
                assert _send(conn, "GET", f"/v1/itemz?page={{i}}") == 500
            elif i % 5 == 0:
                order = json.dumps({{"test": n, "line": i, "sku": "sku-%04d" % i}})
                assert _send(conn, "POST", "/v1/orders", order) == 200
            else:
                assert _send(conn, "GET", f"/v1/items?page={{i}}") == 200
    finally:
        conn.close()
"""


def run_suite(
    folder: Path, tests: int, per_test: int, workers: int, report: bool = True
) -> tuple[float, Path]:
    (folder / "test_traffic.py").write_text(SUITE.format(tests=tests, per_test=per_test))
    (folder / "pytest.ini").write_text("[pytest]\n")
    html_path = folder / "report.html"
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            str(workers),
            "-p",
            "no:cacheprovider",
            "-p",
            "no:asyncio",
            "--rootdir",
            str(folder),
            "-c",
            str(folder / "pytest.ini"),
            str(folder),
            "--httpserver-outside-problems=ignore",
            *(
                [
                    f"--httpserver-report-html={html_path}",
                    f"--httpserver-report-json={folder / 'report.json'}",
                ]
                if report
                else []
            ),
        ],
        check=True,
        timeout=RUN_TIMEOUT,
        capture_output=True,
    )
    return time.perf_counter() - started, html_path


def load_times(html_path: Path, loads: int) -> list[dict[str, float]]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        for _ in range(loads):
            with tempfile.TemporaryDirectory() as profile:
                context = playwright.chromium.launch_persistent_context(
                    profile, executable_path=CHROMIUM, headless=True, args=FLAGS
                )
                page = context.new_page()
                started = time.perf_counter()
                page.goto(html_path.as_uri(), timeout=60_000)
                page.wait_for_function("document.body.dataset.ready === '1'", timeout=60_000)
                wall = time.perf_counter() - started
                in_page = float(page.evaluate("Number(document.body.dataset.readyMs)")) / 1000
                mark = page.locator("#timeline rect.m.problem[data-r]").first
                test, request = mark.get_attribute("data-t"), mark.get_attribute("data-r")
                clicked = time.perf_counter()
                mark.dispatch_event("click")
                page.wait_for_selector(f"#t{test}r{request}.hit", timeout=10_000)
                click = time.perf_counter() - clicked
                context.close()
                results.append({"wall": wall, "in_page": in_page, "click": click})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--per-test", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--loads", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain_time, _ = run_suite(folder, args.tests, args.per_test, args.workers, report=False)
        run_time, html_path = run_suite(folder, args.tests, args.per_test, args.workers)
        data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        size = html_path.stat().st_size
        json_size = (folder / "report.json").stat().st_size
        print(
            f"run: {data['summary']['requests']} requests in {data['summary']['tests']} tests"
            f" on {args.workers} workers: {run_time:.1f} s with the HTML and JSON reports,"
            f" {plain_time:.1f} s without"
        )
        print(f"HTML file: {size / 1e6:.1f} MB; JSON file: {json_size / 1e6:.1f} MB")
        results = load_times(html_path, args.loads)
        for key, what in (
            ("wall", "open until interactive, seen from Playwright"),
            ("in_page", "navigation start until the page's script ran (performance.now)"),
            ("click", "click on a timeline mark until its request is shown"),
        ):
            values = [r[key] for r in results]
            print(
                f"{what}: median {statistics.median(values):.3f} s,"
                f" worst {max(values):.3f} s over {len(values)} loads"
            )


if __name__ == "__main__":
    main()
