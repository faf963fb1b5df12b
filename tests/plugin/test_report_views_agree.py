"""Issue 23: the terminal, JSON and HTML views count the same problems, test by test.

One run of the demo's broken suite (``examples/broken``), whose mistakes cover every kind of
finding the demo shows, plus a passing test whose client gives up on a deliberately slow
answer: that one is a problem in no view.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ..support import Runner, load_json

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SLOW = "test_broken.py::test_client_gives_up_on_a_slow_answer"


def _terminal_counts(output: str) -> dict[str, int]:
    """Problems per test as the terminal says them: each failure's first line, and the report."""
    counts: dict[str, int] = {}
    current = None
    for line in output.splitlines():
        header = re.fullmatch(r"_{3,} (?:ERROR at teardown of )?(\w+) _{3,}", line)
        if header:
            current = f"test_broken.py::{header.group(1)}"
        said = re.search(r"httpserver: (\d+) HTTP problems? in this test", line)
        if said and current is not None:
            counts[current] = int(said.group(1))
            current = None
    # A test with the check off is shown in the report only: its entries, repeats counted.
    report = output[output.index("httpdouble report") :].splitlines()
    for i, line in enumerate(report):
        off = re.fullmatch(r"  (test_broken\.py::\w+) \[main\]", line)
        if off:
            entries = []
            for entry in report[i + 1 :]:
                if not entry.startswith("    "):
                    break
                numbered = re.match(r"    \d+\. (?:(\d+)x )?", entry)
                if numbered:
                    entries.append(int(numbered.group(1) or 1))
            counts[off.group(1)] = sum(entries)
    return counts


def _html_counts(page: str) -> tuple[int, dict[str, tuple[int, int]]]:
    """The page's header count, and per test: its row's count and its detail's count."""
    header = int(re.search(r'data-key="problems">(\d+)<', page).group(1))  # type: ignore[union-attr]
    rows = {}
    for test in re.finditer(
        r'<details class="test" id="t\d+" data-problems="(\d+)"[^>]*><summary><b>([^<]+)</b>'
        r"(.*?)</summary><div class=\"body\">(?:<h4>(\d+) problems?</h4>)?",
        page,
    ):
        said, nodeid, summary, detail = test.groups()
        row = re.search(r'<span class="bad">(\d+) problems?</span>', summary)
        assert int(said) == (int(row.group(1)) if row else 0)
        rows[nodeid] = (int(said), int(detail or 0))
    return header, rows


def test_terminal_json_and_html_count_the_same_problems_on_the_broken_demo_suite(
    suite: pytest.Pytester, run: Runner, tmp_path: Path
) -> None:
    shutil.copy(EXAMPLES / "broken" / "test_broken.py", suite.path)
    shutil.copy(EXAMPLES / "broken" / "conftest.py", suite.path)
    shutil.copy(EXAMPLES / "demo" / "forecast.py", suite.path)
    page_path, json_path = tmp_path / "report.html", tmp_path / "report.json"
    result = run(f"--httpserver-report-html={page_path}", f"--httpserver-report-json={json_path}")
    output = result.stdout.str()
    data = load_json(json_path)
    header, html_rows = _html_counts(page_path.read_text(encoding="utf-8"))

    json_rows = {t["nodeid"]: 0 for t in data["tests"]}
    for group in data["problems"]:
        if group["where"] in json_rows:
            json_rows[group["where"]] += len(group["findings"])
    terminal_rows = _terminal_counts(output)
    total = int(re.search(r"used httpserver, \d+ requests?, (\d+) HTTP", output).group(1))  # type: ignore[union-attr]

    # The whole run: one number in the three views.
    assert header == data["summary"]["problems"] == data["problem_count"] == total
    assert total == sum(json_rows.values()) + sum(  # the rest: outside any test
        len(g["findings"]) for g in data["problems"] if g["where"] not in json_rows
    )
    # Test by test: the row, its detail, the JSON and the terminal agree.
    assert set(html_rows) == set(json_rows)
    for nodeid, (row, detail) in html_rows.items():
        assert row == detail == json_rows[nodeid] == terminal_rows.get(nodeid, 0), nodeid
    assert sum(1 for n in json_rows.values() if n) == 11  # every broken test has its problems
    # The slow answer the client gave up on: recorded, and a problem nowhere. Whether the
    # server's send failed depends on timing (a send to a socket whose peer has just closed
    # may still succeed); the unit tests pin the page for an answer that could not be sent.
    slow = next(t for t in data["tests"] if t["nodeid"] == SLOW)
    [outcome] = [x["outcome"] for x in slow["exchanges"]]
    assert outcome in ("answered, but the answer could not be sent", "matched")
    assert html_rows[SLOW] == (0, 0)
    assert SLOW not in terminal_rows
    page = page_path.read_text(encoding="utf-8")
    slow_index = list(html_rows).index(SLOW)
    assert f'<rect class="m problem" data-t="{slow_index}"' not in page
    assert f'class="x problem" id="t{slow_index}r0"' not in page
