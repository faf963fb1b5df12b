"""The HTML views of the report: one self-contained page, and one fragment per test.

Both are made from the report's builtins (:meth:`Report.to_builtins` for the page, the
:func:`per_test_data` dict of one test for a pytest-html row), the data the JSON file holds:
one rendering input. The page needs no network; its script (in ``_report_page.html``) only
opens, filters and lazily fills what is rendered here. Every piece of the run's data is
escaped on its way in.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from html import escape
from importlib import resources
from typing import Any

from .exchanges import EXCHANGES_PER_TEST, outcome_class
from .report import CHECK_OFF, OUTSIDE, TEARDOWN, UNCHECKED
from .worker_data import exchanges_of

EAGER_EXCHANGES = 1000  # up to this many requests in all, every test's detail is in the page
TIMELINE_WIDTH = 1000
TIMELINE_COLUMNS = 1000  # marks of one worker and class that share a column are drawn once
ROW_HEIGHT = 26
LABEL_WIDTH = 110
_CLASS_ORDER = ("ok", "gone", "fault", "problem")  # drawn in this order: problems stay on top
_OUTSIDE = (OUTSIDE, UNCHECKED)  # problem groups of a worker, not of one test
_BY_TEST = (TEARDOWN, CHECK_OFF)


def _resource(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# ------------------------------------------------------------------ bodies and exchanges


def _body(body: dict[str, Any] | None) -> str:
    if body is None or not body["size"]:
        return '<p class="none">no body</p>'
    size = _n(body["size"], "byte")
    if body["binary"]:
        return f'<p class="none">binary body, {size}</p>'
    text = body["text"]
    note = ""
    if body["cut"]:
        note = f'<p class="cut">cut: the first {len(text)} characters of {size}</p>'
    elif "json" in body["type"].lower():
        try:
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            note = '<p class="cut">not valid JSON</p>'
    return f"{note}<pre>{_e(text)}</pre>"


def _side(title: str, side: dict[str, Any] | None) -> str:
    if side is None:
        return f'<div class="side"><h5>{title}</h5><p class="none">not parsed</p></div>'
    headers = "\n".join(f"{name}: {value}" for name, value in side["headers"])
    shown = f'<pre class="hd">{_e(headers)}</pre>' if headers else ""
    return f'<div class="side"><h5>{title}</h5>{shown}{_body(side["body"])}</div>'


def _exchange(x: dict[str, Any], anchor: str, t0: float) -> str:
    kind = outcome_class(x["outcome"])
    line = f"{x['method']} {x['target']}".strip()
    return (
        f'<details class="x {kind}" id="{anchor}"><summary>'
        f'<span class="at">+{x["time"] - t0:.3f}s</span> <b>{_e(line)}</b>'
        f' → <span class="st">{x["status"]}</span> <span class="oc">{_e(x["outcome"])}</span>'
        f'</summary><div class="pair">{_side("request", x["request"])}'
        f"{_side('response', x['response'])}</div></details>"
    )


# ------------------------------------------------------------------------------ problems


def _finding(data: dict[str, Any]) -> str:
    from .findings import Finding  # the terminal's own lines, for "as in the terminal"

    finding = Finding.from_builtins(data)
    lines = finding.lines()
    rows = "".join(
        f"<tr><th>{_e(field)}</th><td>{_e(expected)}</td><td>{_e(actual)}</td></tr>"
        for field, expected, actual in data["differences"]
    )
    request = data["request"]
    got = "" if finding.request is None else finding.request.line()
    closest = data["closest"] or data["expected"] or "none (no handler was registered)"
    table = (
        f'<table class="diff"><tr><th></th><th>closest handler</th><th>request</th></tr>'
        f"<tr><th>as a whole</th><td>{_e(closest)}</td><td>{_e(got)}</td></tr>{rows}</table>"
        if request is not None
        else ""
    )
    return (
        f'<div class="finding" data-time="{data["time"]}"><p class="headline">{_e(lines[0])}</p>'
        f"{table}<details><summary>as in the terminal</summary>"
        f"<pre>{_e(chr(10).join(lines))}</pre></details></div>"
    )


def _findings(findings: Iterable[dict[str, Any]]) -> str:
    return "".join(_finding(f) for f in findings)


# -------------------------------------------------------------------------- one test


def fragment(
    test: dict[str, Any], findings: list[dict[str, Any]], t0: float | None = None, key: str = "x"
) -> str:
    """Return one test's problems and traffic as HTML that needs no script.

    :param test: the test's builtins: a ``tests`` item of the report, or :func:`per_test_data`.
    :param findings: the test's problems, as builtins.
    :param t0: the time that request times count from (default: the test's start).
    :param key: prefix of the element ids, unique in the page.
    """
    exchanges = test.get("exchanges") or []
    start = test.get("start") or (exchanges[0]["time"] if exchanges else 0.0)
    origin = start if t0 is None else t0
    parts = []
    if findings:
        parts.append(f"<h4>{_n(len(findings), 'problem')}</h4>{_findings(findings)}")
    if exchanges:
        parts.append(f"<h4>{_n(test['requests'], 'request')}</h4>")
        parts.extend(_exchange(x, f"{key}r{i}", origin) for i, x in enumerate(exchanges))
    elif test["requests"]:
        parts.append(f"<h4>{_n(test['requests'], 'request')}</h4>")
        parts.extend(f"<pre>{_e(line)}</pre>" for line in test.get("request_lines", []))
    else:
        parts.append('<p class="none">no request</p>')
    left_out = test["requests"] - len(exchanges)
    if exchanges and left_out > 0:
        parts.append(
            f'<p class="cut">{_n(left_out, "more request")} not kept: the report keeps'
            f" the first {EXCHANGES_PER_TEST} of a test</p>"
        )
    return "".join(parts)


def extras_fragment(test: dict[str, Any]) -> str:
    """Return a test's HTML for its pytest-html row: the fragment with its style."""
    style = _resource("_report_fragment.css")
    key = f"hd{zlib.crc32(test['nodeid'].encode())}"  # ids unique in pytest-html's page
    body = fragment({**test, "exchanges": exchanges_of(test)}, test["findings"], key=key)
    return f'<style>{style}</style><div class="httpdouble">{body}</div>'


# --------------------------------------------------------------------------- timeline


def _times(report: dict[str, Any]) -> list[float]:
    times = [t for test in report["tests"] for t in (test.get("start"), test.get("stop")) if t]
    times.extend(x["time"] for test in report["tests"] for x in test.get("exchanges") or ())
    times.extend(f["time"] for p in report["problems"] for f in p["findings"] if f["time"])
    return times


def _timeline(report: dict[str, Any], t0: float, t1: float) -> str:
    span = max(t1 - t0, 1e-6)
    scale = (TIMELINE_WIDTH - LABEL_WIDTH) / span

    def x_of(when: float) -> float:
        return LABEL_WIDTH + (when - t0) * scale

    workers = [w["worker"] for w in report["workers"]]
    for test in report["tests"]:
        if test["worker"] not in workers:
            workers.append(test["worker"])
    row_of = {w: i for i, w in enumerate(workers)}
    parts = []
    for worker, row in row_of.items():
        y = row * ROW_HEIGHT
        parts.append(f'<text class="lbl" x="4" y="{y + 17}">{_e(worker)}</text>')
        parts.append(
            f'<line class="lane" x1="{LABEL_WIDTH}" x2="{TIMELINE_WIDTH}"'
            f' y1="{y + 13}" y2="{y + 13}"/>'
        )
    # One mark per worker, column and class: 20,000 requests stay a few thousand elements.
    marks: dict[tuple[str, int, str], tuple[str, float, str]] = {}

    def mark(worker: str, when: float, kind: str, where: str, title: str) -> None:
        column = int((when - t0) / span * (TIMELINE_COLUMNS - 1))
        marks.setdefault((worker, column, kind), (where, when, title))

    for i, test in enumerate(report["tests"]):
        y = row_of[test["worker"]] * ROW_HEIGHT
        if test.get("start") and test.get("stop"):
            left = x_of(test["start"])
            width = max(x_of(test["stop"]) - left, 0.5)
            parts.append(
                f'<rect class="band b{i % 2}" data-t="{i}" x="{left:.2f}" y="{y + 2}"'
                f' width="{width:.2f}" height="{ROW_HEIGHT - 4}"><title>{_e(test["nodeid"])}'
                "</title></rect>"
            )
        for j, x in enumerate(test.get("exchanges") or ()):
            title = f"{x['method']} {x['target']} → {x['status']} ({x['outcome']})"
            mark(
                test["worker"],
                x["time"],
                outcome_class(x["outcome"]),
                f'data-t="{i}" data-r="{j}"',
                title,
            )
    for p, group in enumerate(report["problems"]):
        if group["category"] in _OUTSIDE and group["worker"] in row_of:
            for f in group["findings"]:
                if f["time"]:
                    mark(group["worker"], f["time"], "outside", f'data-p="{p}"', group["where"])
    order = {kind: n for n, kind in enumerate((*_CLASS_ORDER, "outside"))}
    for (worker, _, kind), (where, when, title) in sorted(
        marks.items(), key=lambda item: order[item[0][2]]
    ):
        y = row_of[worker] * ROW_HEIGHT + 6
        parts.append(
            f'<rect class="m {kind}" {where} x="{x_of(when) - 1:.2f}" y="{y}" width="2.5"'
            f' height="{ROW_HEIGHT - 12}"><title>{_e(title)}</title></rect>'
        )
    height = len(row_of) * ROW_HEIGHT + 16
    for k in range(6):
        at = LABEL_WIDTH + k * (TIMELINE_WIDTH - LABEL_WIDTH - 25) / 5
        parts.append(
            f'<text class="tick" text-anchor="middle" x="{at:.1f}" y="{height - 3}">'
            f"+{(at - LABEL_WIDTH) / scale:.2f}s</text>"
        )
    return (
        f'<svg id="timeline" viewBox="0 0 {TIMELINE_WIDTH} {height}"'
        f' role="img" aria-label="requests over time, per worker">'
        f"{''.join(parts)}</svg>"
    )


# ------------------------------------------------------------------------------ the page


def _summary(report: dict[str, Any]) -> str:
    counts = report["summary"]
    cells = "".join(
        f'<div class="count{" bad" if key == "problems" and value else ""}">'
        f'<span class="n" data-key="{key}">{value}</span> {_e(key)}</div>'
        for key, value in counts.items()
    )
    fails = '<p class="fails">the run fails for its HTTP problems outside any test</p>'
    return f'<section id="summary">{cells}</section>{fails if report["fails_run"] else ""}'


def _workers(report: dict[str, Any]) -> str:
    with_host = any(w.get("host") for w in report["workers"])
    head = "<tr><th>worker</th>" + ("<th>host</th>" if with_host else "")
    head += "<th>requests</th><th>tests</th><th>server</th></tr>"
    rows = []
    for w in report["workers"]:
        state = _e(w["url"] or "(no server)")
        if w["crashed"]:
            running = f" while running {w['crashed_in']}" if w["crashed_in"] else ""
            state += f' <span class="bad">CRASHED{_e(running)}: {_e(w["crash"])}</span>'
        host = f"<td>{_e(w.get('host') or '')}</td>" if with_host else ""
        rows.append(
            f"<tr><td>{_e(w['worker'])}</td>{host}<td>{w['requests']}</td>"
            f"<td>{w['tests']}</td><td>{state}</td></tr>"
        )
    return f'<table id="workers">{head}{"".join(rows)}</table>'


def _problems(report: dict[str, Any], test_index: dict[tuple[str, str], int]) -> str:
    if not report["problems"]:
        return '<p class="none">no HTTP problems</p>'
    parts = []
    for p, group in enumerate(report["problems"]):
        i = test_index.get((group["where"], group["worker"]))
        link = "" if i is None else f' data-t="{i}"'
        text = " ".join([group["where"], group["worker"]] + [f["kind"] for f in group["findings"]])
        parts.append(
            f'<div class="group" id="p{p}"{link} data-text="{_e(text.lower())}">'
            f'<h3><span class="cat">{_e(group["category"])}</span> {_e(group["where"])}'
            f' <span class="w">[{_e(group["worker"])}]</span></h3>'
            f"{_findings(group['findings'])}</div>"
        )
    return "".join(parts)


def _tests(
    report: dict[str, Any], t0: float, findings_of: list[list[dict[str, Any]]], eager_limit: int
) -> str:
    eager = sum(len(t.get("exchanges") or ()) for t in report["tests"]) <= eager_limit
    parts = []
    for i, test in enumerate(report["tests"]):
        exchanges = test.get("exchanges") or []
        findings = findings_of[i]
        bad = len(findings)  # the report's own count of this test: as the terminal and JSON say
        words = [test["nodeid"], test["worker"]]
        words.extend(f"{x['method']} {x['target']} {x['status']}" for x in exchanges)
        words.extend(test.get("request_lines") or ())
        took = ""
        if test.get("start") and test.get("stop"):
            took = f", {test['stop'] - test['start']:.3f}s"
        summary = (
            f'<summary><b>{_e(test["nodeid"])}</b> <span class="w">[{_e(test["worker"])}]</span>'
            f" {_n(test['requests'], 'request')}"
            + (f', <span class="bad">{_n(bad, "problem")}</span>' if bad else "")
            + f"{took}</summary>"
        )
        body = fragment(test, findings, t0, key=f"t{i}")
        text = _e(" ".join(words).lower())
        attrs = f'class="test" id="t{i}" data-problems="{bad}" data-text="{text}"'
        if eager:
            parts.append(f'<details {attrs}>{summary}<div class="body">{body}</div></details>')
        else:
            parts.append(
                f'<details {attrs} data-lazy="1">{summary}<div class="body"></div></details>'
                f'<script type="text/html" id="src-t{i}">{body}</script>'
            )
    return "".join(parts)


LEGEND = (
    '<p class="legend">a band: a test; a mark: a request (click it)'
    '<span class="ok"></span>answered by a handler<span class="problem"></span>a problem'
    '<span class="fault"></span>a fault the test asked for'
    '<span class="gone"></span>the client left before the answer (its timeout)'
    '<span class="outside"></span>a problem outside any test</p>'
)


def render(report: dict[str, Any], eager_limit: int = EAGER_EXCHANGES) -> str:
    """Return the whole page for a report's builtins (:meth:`Report.to_builtins`).

    :param eager_limit: up to this many requests in all, every test's detail is part of the
        page; past it, each test's detail is kept as text and rendered when the test is opened.
    """
    test_index = {(t["nodeid"], t["worker"]): i for i, t in enumerate(report["tests"])}
    findings_of: list[list[dict[str, Any]]] = [[] for _ in report["tests"]]
    for group in report["problems"]:
        i = test_index.get((group["where"], group["worker"]))
        if i is not None and group["category"] in _BY_TEST:
            findings_of[i].extend(group["findings"])
    times = _times(report)
    t0 = min(times, default=0.0)
    timeline = _timeline(report, t0, max(times)) if times else '<p class="none">no times</p>'
    body = (
        f"{_summary(report)}{_workers(report)}"
        '<section id="controls"><input type="search" id="filter"'
        ' placeholder="filter: test, path, status, worker"> <label><input type="checkbox"'
        ' id="problems-only"> problems only</label> <span id="shown"></span></section>'
        f'<h2>Timeline</h2><div id="timeline-box">{timeline}</div>{LEGEND}'
        f'<h2>Problems</h2><section id="problems">{_problems(report, test_index)}</section>'
        '<h2>Tests</h2><section id="tests">'
        f"{_tests(report, t0, findings_of, eager_limit)}</section>"
    )
    page = _resource("_report_page.html")
    return page.replace("/*FRAGMENT-CSS*/", _resource("_report_fragment.css")).replace(
        "<!--BODY-->", body
    )
