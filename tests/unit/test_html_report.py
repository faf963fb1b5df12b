"""Issue 16: requests as bounded, masked builtins, and the HTML page made from them."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from httpdouble import Finding, Kind, Mismatch, RequestSummary, Stamp
from httpdouble._log.request_log import LogEntry, Outcome
from httpdouble._report.exchanges import BODY_LIMIT, EXCHANGES_PER_TEST, body_data, exchange_data
from httpdouble._report.html import extras_fragment, render
from httpdouble._report.report import Report
from httpdouble._report.worker_data import per_test_data, session_data

NODE = "tests/test_a.py::test_a"
T0 = 1_700_000_000.0


def _entry(
    path: str = "/items",
    *,
    outcome: Outcome = Outcome.MATCHED,
    body: bytes = b"",
    response: Response | None = None,
    at: float = T0 + 0.5,
    headers: dict[str, str] | None = None,
) -> LogEntry:
    request = Request(
        EnvironBuilder(path=path, method="POST", headers=headers or {}, data=body).get_environ()
    )
    answer = response or Response('{"ok": true, "n": [1, 2]}', mimetype="application/json")
    return LogEntry(request, answer, outcome, Stamp(NODE, None, "gw0", at))


def _finding() -> Finding:
    request = Request(EnvironBuilder(path="/itemz", method="POST").get_environ())
    return Finding(
        Kind.NO_HANDLER,
        Stamp(NODE, None, "gw0", T0 + 0.7),
        request=RequestSummary.of(request),
        expected="a request matching a registered handler",
        closest="POST '/items'",
        differences=(Mismatch("uri", "'/items'", "'/itemz'"),),
    )


def _report(entries: list[LogEntry], findings: list[Finding] | None = None) -> dict[str, Any]:
    report = Report()
    report.add_test(
        per_test_data(
            nodeid=NODE,
            worker="gw0",
            url="http://localhost:1",
            findings=findings or [],
            requests=len(entries),
            entries=entries,
            checked=bool(findings),
            span=(T0, T0 + 1),
            exchanges=True,
        )
    )
    report.add_session(
        session_data(
            worker="gw0",
            url="http://localhost:1",
            requests=len(entries),
            tests=1,
            outside=[],
            portserver="",
            ports="",
        )
    )
    data = report.to_builtins()
    assert json.loads(json.dumps(data)) == data  # what the JSON file holds, unchanged
    return data


def test_exchange_masks_credentials_as_the_terminal_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HTTPDOUBLE_SHOW_SECRETS", raising=False)
    entry = _entry(
        "/me?token=t0k3n-abcdefgh",
        headers={"Authorization": "Bearer s3cr3t-0123456789"},
        response=Response("ok", headers={"Set-Cookie": "session=s3cr3t-cookie"}),
    )
    data = exchange_data(entry)
    text = json.dumps(data)
    assert "s3cr3t" not in text
    assert "t0k3n" not in text
    assert data["target"] == "/me?token=t0…(len 14)"
    assert ["Authorization", "Bearer s3…(len 24)"] in data["request"]["headers"]


def test_at_most_thirty_headers_a_side_are_kept_each_cut_to_a_readable_length() -> None:
    headers = {f"X-H{n:02d}": "v" * 1000 for n in range(40)}
    kept = exchange_data(_entry(headers=headers))["request"]["headers"]
    assert len(kept) == 30
    assert all(len(value) <= 300 for _, value in kept)


def test_a_large_body_is_cut_and_keeps_its_size() -> None:
    data = body_data(b"x" * 100_000, "text/plain")
    assert data["size"] == 100_000
    assert data["cut"]
    assert len(data["text"]) == BODY_LIMIT
    assert not body_data(b"small", "text/plain")["cut"]


def test_a_binary_body_is_described_not_shown() -> None:
    data = body_data(bytes(range(256)) * 4, "application/octet-stream")
    assert data["binary"]
    assert data["text"] == ""
    assert data["size"] == 1024


def test_a_test_keeps_at_most_its_share_of_exchanges_and_says_how_many_were_left_out() -> None:
    entries = [_entry(f"/n/{n}", at=T0 + n / 10_000) for n in range(EXCHANGES_PER_TEST + 3)]
    data = _report(entries)
    (test,) = data["tests"]
    assert len(test["exchanges"]) == EXCHANGES_PER_TEST
    assert "3 more requests not kept" in render(data)


def test_page_is_self_contained_and_escapes_what_the_run_sent() -> None:
    entry = _entry("/search", body=b"<script>alert(1)</script>", headers={"X-A": "<b>"})
    page = render(_report([entry]))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)
    assert page.count("<script") == 1  # the page's own script, nothing fetched


def test_page_shows_counts_json_pretty_printed_and_the_problem_side_by_side() -> None:
    page = render(_report([_entry(), _entry("/itemz", outcome=Outcome.NO_HANDLER)], [_finding()]))
    assert '<span class="n" data-key="requests">2</span>' in page
    assert '<span class="n" data-key="problems">1</span>' in page
    assert "{\n  &quot;ok&quot;: true,\n  &quot;n&quot;: [\n    1," in page
    assert "<tr><th>uri</th><td>&#x27;/items&#x27;</td><td>&#x27;/itemz&#x27;</td></tr>" in page
    assert 'class="m problem" data-t="0" data-r="1"' in page  # its mark on the timeline
    # One problem, as the terminal and JSON count it: the request that had no handler *is*
    # the finding, not a second problem.
    assert 'data-problems="1"' in page
    assert '<span class="bad">1 problem</span>' in page


def test_an_answer_the_client_left_before_is_no_problem_in_the_page() -> None:
    # A client timeout against with_latency: logged, marked apart, counted nowhere.
    page = render(_report([_entry(outcome=Outcome.NOT_DELIVERED)]))
    assert '<span class="n" data-key="problems">0</span>' in page
    assert 'data-problems="0"' in page
    assert 'class="x gone" id="t0r0"' in page
    assert 'class="m gone" data-t="0" data-r="0"' in page
    assert 'class="m problem"' not in page
    assert 'class="x problem"' not in page
    assert '<span class="bad">' not in page


def test_large_reports_keep_each_test_detail_as_text_until_it_is_opened() -> None:
    data = _report([_entry()])
    eager, lazy = render(data), render(data, eager_limit=0)
    assert 'data-lazy="1"' not in eager
    assert 'data-lazy="1"' in lazy
    assert '<script type="text/html" id="src-t0">' in lazy


def test_a_worker_host_is_shown_when_the_record_has_one() -> None:
    data = _report([_entry()])
    data["workers"][0]["host"] = ""  # a record from before hosts were sent
    assert "<th>host</th>" not in render(data)
    data["workers"][0]["host"] = "build-box-7"
    page = render(data)
    assert "<th>host</th>" in page
    assert "<td>build-box-7</td>" in page


def test_the_pytest_html_fragment_is_made_from_the_test_data_the_worker_sends() -> None:
    data = per_test_data(
        nodeid=NODE,
        worker="gw0",
        url="http://localhost:1",
        findings=[_finding()],
        requests=1,
        entries=[_entry("/itemz", outcome=Outcome.NO_HANDLER)],
        checked=True,
        span=(T0, T0 + 1),
        exchanges=True,
    )
    fragment = extras_fragment(data)
    assert fragment.startswith("<style>")
    assert "no handler matched: POST /itemz" in fragment
    assert 'POST /itemz</b> → <span class="st">200</span> <span class="oc">no handler' in fragment


def test_secrets_are_shown_in_full_when_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPDOUBLE_SHOW_SECRETS", "1")
    data = exchange_data(_entry("/me?token=t0k3n", headers={"Authorization": "Bearer s3cr3t"}))
    assert data["target"] == "/me?token=t0k3n"
    assert ["Authorization", "Bearer s3cr3t"] in data["request"]["headers"]


def test_odd_requests_and_bodies_are_described_in_the_page() -> None:
    malformed = LogEntry(
        None, Response("bad request", status=400), Outcome.MALFORMED, Stamp(NODE, None, "gw0", T0)
    )
    entries = [
        malformed,
        _entry("/binary", response=Response(bytes(range(256)), mimetype="image/png")),
        _entry("/large", response=Response("y" * 10_000, mimetype="text/plain")),
        _entry("/not-json", response=Response("{oops", mimetype="application/json")),
        _entry("/stream", response=Response(iter([b"a", b"b"]), direct_passthrough=True)),
    ]
    page = render(_report(entries))
    assert "(malformed request)</b>" in page
    assert '<h5>request</h5><p class="none">not parsed</p>' in page
    assert "binary body, 256 bytes" in page
    assert "cut: the first 2048 characters of 10000 bytes" in page
    assert "not valid JSON" in page
    assert page.count('<p class="none">no body</p>') >= 2  # the GETs, and the stream


def test_the_page_shows_crashed_workers_problems_outside_tests_and_plain_request_lines() -> None:
    report = Report()
    report.add_test(
        per_test_data(
            nodeid=NODE,
            worker="gw0",
            url="http://localhost:1",
            findings=[],
            requests=1,
            entries=[_entry()],
        )
    )
    outside = Finding(
        Kind.NO_HANDLER,
        Stamp(None, NODE, "gw0", T0 + 2),
        request=RequestSummary.of(Request(EnvironBuilder(path="/late").get_environ())),
        expected="a request matching a registered handler",
    )
    report.add_session(
        session_data(
            worker="gw0",
            url="http://localhost:1",
            requests=2,
            tests=1,
            outside=[outside],
            portserver="",
            ports="",
        )
    )
    report.worker_down("gw1", "Not properly terminated")
    report.worker_crashed_in("gw1", "tests/test_b.py::test_b")
    page = render(report.to_builtins())
    assert "CRASHED while running tests/test_b.py::test_b: Not properly terminated" in page
    assert 'class="m outside" data-p="0"' in page
    assert "<pre>POST /items -&gt; 200 (matched)</pre>" in page  # no exchanges: its line
