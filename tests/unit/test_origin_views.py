"""Which requests the views show with ``scheme://host``, and how each view shows them."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from httpdouble import Finding, Kind, RequestSummary, Stamp
from httpdouble._log.request_log import LogEntry, Outcome, RequestLog, pack
from httpdouble._report.exchanges import exchange_data
from httpdouble._report.replay import curl_line, expect_request_line
from httpdouble._report.report import Report, ReportMode
from httpdouble._report.worker_data import per_test_data
from httpdouble._wire.origin import origin_of
from httpdouble._wire.target import TUNNEL_KEY as TUNNEL

SERVER = {"SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "wsgi.url_scheme": "http"}


@pytest.mark.parametrize(
    ("extra", "origin"),
    [
        ({"HTTP_HOST": "127.0.0.1:8000", "REQUEST_URI": "/x"}, ""),
        ({"HTTP_HOST": "localhost:8000", "REQUEST_URI": "/x"}, ""),
        ({"HTTP_HOST": "[::1]:8000", "REQUEST_URI": "/x"}, ""),
        ({"REQUEST_URI": "/x"}, ""),  # HTTP/1.0 without Host
        # absolute form: a proxy's request; to a loopback name, when for another port
        (
            {"HTTP_HOST": "api.example.test", "REQUEST_URI": "http://api.example.test/x"},
            "http://api.example.test",
        ),
        (
            {"HTTP_HOST": "localhost:9", "REQUEST_URI": "http://localhost:9/x"},
            "http://localhost:9",
        ),
        ({"HTTP_HOST": "localhost:8000", "REQUEST_URI": "http://localhost:8000/x"}, ""),
        # a Host of its own
        ({"HTTP_HOST": "API.example.test:80", "REQUEST_URI": "/x"}, "http://api.example.test"),
        # through a tunnel: https, default port left out
        (
            {
                "HTTP_HOST": "api.example.test:443",
                "REQUEST_URI": "/x",
                TUNNEL: "api.example.test:443",
                "wsgi.url_scheme": "https",
            },
            "https://api.example.test",
        ),
        (
            {
                "HTTP_HOST": "api.example.test:8443",
                "REQUEST_URI": "/x",
                "wsgi.url_scheme": "https",
            },
            "https://api.example.test:8443",
        ),
        # inside a tunnel, SERVER_NAME and SERVER_PORT stay the server's own: a tunnel to
        # another port of the server's name is for another host
        (
            {
                "HTTP_HOST": "127.0.0.1:8443",
                "REQUEST_URI": "/x",
                TUNNEL: "127.0.0.1:8443",
                "wsgi.url_scheme": "https",
            },
            "https://127.0.0.1:8443",
        ),
    ],
)
def test_origin_is_shown_for_requests_meant_for_another_host(
    extra: dict[str, str], origin: str
) -> None:
    assert origin_of({**SERVER, **extra}) == origin


def _intercepted(method: str = "POST", path: str = "/v1/charges", body: bytes = b"") -> Request:
    environ = EnvironBuilder(
        path, base_url="https://api.example.test", method=method, data=body
    ).get_environ()
    environ["REQUEST_URI"] = path
    environ[TUNNEL] = "api.example.test:443"
    return Request(environ)


def test_every_view_of_an_intercepted_request_shows_its_scheme_and_host() -> None:
    request = _intercepted(body=b'{"amount": 5}')
    summary = RequestSummary.of(request)
    assert summary.line() == "POST https://api.example.test/v1/charges"
    assert expect_request_line(summary) == (
        "httpserver.expect_request('https://api.example.test/v1/charges', method='POST',"
        " json={'amount': 5})"
    )
    curl = curl_line(summary, "http://127.0.0.1:8000")
    assert curl.startswith(
        "curl -X POST --proxy http://127.0.0.1:8000 --insecure https://api.example.test/v1/charges"
    )
    assert curl_line(summary).startswith("curl -X POST --proxy $HTTPSERVER --insecure https://")
    entry = LogEntry(request, Response("no", 500), Outcome.NO_HANDLER, Stamp("t", None, "main", 0))
    assert exchange_data(entry)["target"] == "https://api.example.test/v1/charges"
    data: dict[str, Any] = per_test_data(
        nodeid="t",
        worker="main",
        url="http://127.0.0.1:8000",
        findings=[],
        requests=1,
        entries=[entry],
    )
    assert data["request_lines"] == [
        "POST https://api.example.test/v1/charges -> 500 (no handler)"
    ]


def test_the_origin_survives_the_trip_to_builtins_and_tells_findings_apart() -> None:
    finding = Finding(
        Kind.NO_HANDLER, Stamp("t", None, "gw0", 0), RequestSummary.of(_intercepted())
    )
    again = Finding.from_builtins(finding.to_builtins())
    assert again == finding
    assert again.headline() == "no handler matched: POST https://api.example.test/v1/charges"
    ordinary = RequestSummary("POST", "/v1/charges", "")
    assert ordinary.line() == "POST /v1/charges"
    assert Finding(Kind.NO_HANDLER, finding.stamp, ordinary) != finding


def test_the_log_counts_requests_per_other_host_and_a_clear_starts_again() -> None:
    log = RequestLog()
    stamp = Stamp("t", None, "main", 0)
    request = _intercepted()
    for outcome in (Outcome.MATCHED, Outcome.NO_HANDLER, Outcome.MATCHED):
        record = pack(request, (200, (), b""), outcome, stamp)
        log.append_record(record, origin=origin_of(request.environ))
    log.append_record(pack(request, (200, (), b""), Outcome.MATCHED, stamp))  # the server's own
    assert log.hosts() == {"api.example.test": [3, 1]}
    log.clear()
    assert log.hosts() == {}


def test_the_report_adds_hosts_over_tests_busiest_first_and_shows_ten() -> None:
    report = Report()
    common: dict[str, Any] = {"worker": "main", "url": "http://127.0.0.1:1", "findings": []}
    report.add_test(
        per_test_data(nodeid="a", requests=3, hosts={"b.test": [1, 1], "a.test": [2, 0]}, **common)
    )
    report.add_test(per_test_data(nodeid="b", requests=2, hosts={"b.test": [2, 0]}, **common))
    assert report.hosts() == {"b.test": (3, 1), "a.test": (2, 0)}
    lines = report.render(ReportMode.PROBLEMS)
    assert lines[1:] == [
        "  requests for other hosts (through the proxy, or with a Host of their own):",
        "    b.test: 3 requests, 1 unmatched",
        "    a.test: 2 requests",
    ]
    many = {f"h{i:02}.test": [1, 0] for i in range(12)}
    report.add_test(per_test_data(nodeid="c", requests=12, hosts=many, **common))
    assert report.render(ReportMode.PROBLEMS)[-1] == "    and 4 more hosts (in the JSON report)"
    assert len(report.to_builtins()["hosts"]) == 14


def test_a_run_without_requests_for_other_hosts_reports_as_before() -> None:
    report = Report()
    report.add_test(
        per_test_data(nodeid="a", worker="main", url="http://127.0.0.1:1", findings=[], requests=1)
    )
    assert report.render(ReportMode.PROBLEMS) == [
        "httpdouble: 1 server, 1 test used httpserver, 1 request, no HTTP problems"
    ]
    assert report.to_builtins()["hosts"] == []


def test_a_wrong_scheme_says_that_a_url_matches_its_own_scheme_only() -> None:
    from httpdouble import Mismatch
    from httpdouble._report.sides import Side, side_of

    side, sentence = side_of(Mismatch("scheme", "'https'", "'http'"))
    assert side is Side.EITHER
    assert sentence.startswith("scheme: your code used 'http' where the handler has 'https'")
    assert "host= and a path for both" in sentence
