"""Recording through interception: the code calls ``https://api.example.test`` itself, the
server is its proxy, and ``upstreams`` points that host at a local TLS upstream.

Hosts are under ``.test``, which never resolves; the upstream is a loopback server.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import requests

from httpdouble import HTTPServer
from httpdouble._record.forward import Upstream
from httpdouble._record.recorder import Recording, RecordMode
from httpdouble._server.tls import TLSCertificates

API = "api.example.test"

CHILD = """\
import sys
import requests
sys.stdout.write(requests.get(sys.argv[1], timeout=10).text)
"""


def _calls() -> list[object]:
    async def with_httpx() -> object:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(f"https://{API}/items", json={"name": "ink"})
            return (answer.status_code, answer.json())

    listed = requests.get(f"https://{API}/items", timeout=10).json()
    plain = requests.get(f"http://{API}/readme", timeout=10).text
    made = asyncio.run(with_httpx())
    child = subprocess.run(
        [sys.executable, "-c", CHILD, f"https://{API}/items/1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return [listed, plain, made, child]


def test_intercepted_requests_are_recorded_with_their_host_then_replayed(
    httpserver_intercept: HTTPServer,
    tls_api: HTTPServer,
    api: HTTPServer,
    httpsserver_certificates: TLSCertificates,
    cassette: Path,
) -> None:
    ca = str(httpsserver_certificates.ca_bundle)
    upstreams = {
        API: Upstream(tls_api.url_for("/"), ca),
        f"http://{API}": Upstream(api.url_for("/")),  # plain HTTP for that host: elsewhere
    }
    recording = Recording(cassette, RecordMode.ONCE, upstreams=upstreams)
    recording.start(httpserver_intercept)
    recorded = _calls()
    assert recording.finish() == cassette
    assert recorded == [
        {"items": [{"id": 1, "name": "pen"}]},
        "plain text\n",
        (201, {"id": 2, "name": "ink"}),
        json.dumps({"id": 1, "name": "pen"}, indent=4),
    ]
    exchanges = json.loads(cassette.read_text())["exchanges"]
    assert [(e["request"]["scheme"], e["request"]["host"]) for e in exchanges] == [
        ("https", API),
        ("http", API),
        ("https", API),
        ("https", API),
    ]

    httpserver_intercept.clear()
    assert api.logged_requests == 1  # the plain HTTP request went to its own upstream
    before = tls_api.logged_requests + api.logged_requests
    Recording(cassette, RecordMode.NONE).start(httpserver_intercept)
    assert _calls() == recorded
    assert tls_api.logged_requests + api.logged_requests == before


def test_a_replayed_exchange_answers_its_own_host_only(
    httpserver_intercept: HTTPServer, api: HTTPServer, cassette: Path
) -> None:
    recording = Recording(cassette, RecordMode.ONCE, upstreams={API: Upstream(api.url_for("/"))})
    recording.start(httpserver_intercept)
    assert requests.get(f"http://{API}/readme", timeout=10).ok
    recording.finish()
    httpserver_intercept.clear()
    Recording(cassette, RecordMode.NONE).start(httpserver_intercept)
    other = requests.get("http://other.example.test/readme", timeout=10)
    findings = httpserver_intercept.take_findings(include_unused=True, clear=True)
    assert other.status_code == 500
    text = "\n".join(f.render() for f in findings)
    assert "no handler matched: GET http://other.example.test/readme" in text
    assert "expectation never used" in text
