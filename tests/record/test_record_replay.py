"""Record a real upstream through the double, then replay it: real sockets, real clients.

The upstream is a second loopback server (``api``, ``tls_api``); no other network is used.
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
from httpdouble._report.findings import Kind
from httpdouble._server.tls import TLSCertificates

from .conftest import PNG, TOKEN


def _traffic(base: str) -> list[object]:
    """What the code under test does against the API: four calls, four kinds of body."""
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {TOKEN}"
        listed = session.get(f"{base}/items", params={"page": "1", "access_token": TOKEN})
        made = session.post(f"{base}/items", json={"name": "ink", "password": TOKEN})
        logo = session.get(f"{base}/logo.png")
        login = session.post(f"{base}/login", data={"user": "ann", "password": TOKEN})
    return [listed.json(), (made.status_code, made.json()), logo.content, login.json()["user"]]


def _base(server: HTTPServer) -> str:
    return server.url_for("/").rstrip("/")


def _record(double: HTTPServer, path: Path, mode: RecordMode, upstream: str) -> Recording:
    recording = Recording(path, mode, upstream=Upstream(upstream))
    recording.start(double)
    return recording


def _problems(double: HTTPServer) -> list[str]:
    return [f.render() for f in double.take_findings(include_unused=True, clear=True)]


def test_once_records_a_missing_cassette_then_replays_it_without_the_upstream(
    double: HTTPServer, api: HTTPServer, cassette: Path
) -> None:
    recording = _record(double, cassette, RecordMode.ONCE, api.url_for("/"))
    recorded = _traffic(_base(double))
    assert recording.finish() == cassette
    assert recorded == [
        {"items": [{"id": 1, "name": "pen"}]},
        (201, {"id": 2, "name": "ink", "password": TOKEN}),
        PNG,
        "ann",
    ]
    double.clear()
    upstream_requests = api.logged_requests
    replay = _record(double, cassette, RecordMode.ONCE, api.url_for("/"))
    scrubbed_echo = (201, {"id": 2, "name": "ink", "password": "<scrubbed>"})
    assert _traffic(_base(double)) == [recorded[0], scrubbed_echo, PNG, "ann"]
    assert replay.finish() is None  # a cassette there: once replays only
    assert api.logged_requests == upstream_requests
    assert _problems(double) == []


def test_a_token_sent_by_the_client_is_in_no_cassette_byte(
    double: HTTPServer, api: HTTPServer, cassette: Path
) -> None:
    recording = _record(double, cassette, RecordMode.ALL, api.url_for("/"))
    _traffic(_base(double))
    recording.finish()
    data = cassette.read_bytes()
    assert TOKEN.encode() not in data
    assert b"<scrubbed>" in data
    document = json.loads(data)
    first, _, logo, login = document["exchanges"]
    assert "Authorization: Bearer <scrubbed>" in first["request"]["headers"]
    assert first["request"]["query"] == "page=1&access_token=<scrubbed>"
    assert set(logo["response"]) == {"status", "headers", "base64"}
    assert login["request"]["form"] == [["user", "ann"], ["password", "<scrubbed>"]]
    assert "Set-Cookie: <scrubbed>" in login["response"]["headers"]


def test_replay_reports_both_a_request_the_cassette_lacks_and_an_exchange_no_longer_made(
    double: HTTPServer, api: HTTPServer, cassette: Path
) -> None:
    recording = _record(double, cassette, RecordMode.ONCE, api.url_for("/"))
    _traffic(_base(double))
    recording.finish()
    double.clear()
    recording = Recording(cassette, RecordMode.NONE)
    recording.start(double)
    base = _base(double)
    assert requests.get(f"{base}/items", params={"page": "1", "access_token": "x"}).ok
    assert requests.get(f"{base}/readme").status_code == 500  # new: not in the cassette
    recording.finish()
    findings = double.take_findings(include_unused=True, clear=True)
    kinds = sorted(f.kind.value for f in findings)
    assert kinds == sorted(
        [Kind.NO_HANDLER.value, Kind.UNUSED.value, Kind.UNUSED.value, Kind.UNUSED.value]
    )
    text = "\n".join(f.render() for f in findings)
    assert "GET /readme" in text
    assert "oneshot POST '/login'" in text


def test_an_edited_cassette_changes_the_replay(
    double: HTTPServer, api: HTTPServer, cassette: Path
) -> None:
    recording = _record(double, cassette, RecordMode.ONCE, api.url_for("/"))
    requests.get(double.url_for("/items/1"))
    recording.finish()
    double.clear()
    document = json.loads(cassette.read_text())
    document["exchanges"][0]["response"]["json"]["name"] = "quill"
    document["exchanges"][0]["response"]["status"] = 203
    cassette.write_text(json.dumps(document))
    Recording(cassette, RecordMode.NONE).start(double)
    answer = requests.get(double.url_for("/items/1"))
    assert (answer.status_code, answer.json()) == (203, {"id": 1, "name": "quill"})
    assert _problems(double) == []


def test_none_never_forwards_and_a_missing_cassette_replays_nothing(
    double: HTTPServer, api: HTTPServer, cassette: Path
) -> None:
    before = api.logged_requests
    recording = _record(double, cassette, RecordMode.NONE, api.url_for("/"))
    assert requests.get(double.url_for("/items")).status_code == 500
    assert recording.finish() is None
    assert not cassette.exists()
    assert api.logged_requests == before
    assert [f.kind for f in double.take_findings(clear=True)] == [Kind.NO_HANDLER]


def test_new_episodes_replays_what_is_there_and_records_the_rest(
    double: HTTPServer, api: HTTPServer, cassette: Path
) -> None:
    recording = _record(double, cassette, RecordMode.ONCE, api.url_for("/"))
    requests.get(double.url_for("/items/1"))
    requests.get(double.url_for("/readme"))
    recording.finish()
    double.clear()
    before = api.logged_requests
    recording = _record(double, cassette, RecordMode.NEW_EPISODES, api.url_for("/"))
    assert requests.get(double.url_for("/items/1")).json()["name"] == "pen"  # replayed
    assert requests.get(double.url_for("/items")).ok  # new: recorded
    recording.finish()
    assert api.logged_requests == before + 1
    paths = [e["request"]["path"] for e in json.loads(cassette.read_text())["exchanges"]]
    assert paths == ["/items/1", "/readme", "/items"]
    assert _problems(double) == []  # /readme unused: kept, not reported while recording


def test_all_records_everything_again(double: HTTPServer, api: HTTPServer, cassette: Path) -> None:
    recording = _record(double, cassette, RecordMode.ONCE, api.url_for("/"))
    requests.get(double.url_for("/readme"))
    recording.finish()
    double.clear()
    recording = _record(double, cassette, RecordMode.ALL, api.url_for("/"))
    requests.get(double.url_for("/items/1"))
    recording.finish()
    paths = [e["request"]["path"] for e in json.loads(cassette.read_text())["exchanges"]]
    assert paths == ["/items/1"]


def test_tls_upstream_recorded_through_httpx_async_and_replayed(
    double: HTTPServer,
    tls_api: HTTPServer,
    httpsserver_certificates: TLSCertificates,
    cassette: Path,
) -> None:
    async def calls() -> list[object]:
        async with httpx.AsyncClient(base_url=_base(double)) as client:
            listed = await client.get("/items")
            made = await client.post("/items", json={"name": "ink"})
            return [listed.json(), made.status_code, made.json()]

    upstream = Upstream(tls_api.url_for("/"), str(httpsserver_certificates.ca_bundle))
    assert upstream.scheme == "https"
    recording = Recording(cassette, RecordMode.ONCE, upstream=upstream)
    recording.start(double)
    recorded = asyncio.run(calls())
    recording.finish()
    assert recorded == [{"items": [{"id": 1, "name": "pen"}]}, 201, {"id": 2, "name": "ink"}]
    double.clear()
    Recording(cassette, RecordMode.NONE).start(double)
    assert asyncio.run(calls()) == recorded
    assert _problems(double) == []


CHILD = """
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/items/1") as answer:
    print(answer.status, answer.read().decode())
"""


def test_a_child_process_is_recorded_and_replayed(
    double: HTTPServer, api: HTTPServer, cassette: Path
) -> None:
    def child() -> str:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, _base(double)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    recording = _record(double, cassette, RecordMode.ONCE, api.url_for("/"))
    recorded = child()
    recording.finish()
    double.clear()
    Recording(cassette, RecordMode.NONE).start(double)
    assert child() == recorded
    assert recorded.startswith("200 ")
    assert _problems(double) == []


def test_an_upstream_that_cannot_be_reached_is_a_finding_naming_the_forwarding(
    double: HTTPServer, cassette: Path
) -> None:
    gone = HTTPServer("127.0.0.1", 0)
    gone.start()
    address = gone.url_for("/")
    gone.stop()
    recording = _record(double, cassette, RecordMode.ONCE, address)
    answer = requests.get(double.url_for("/items"))
    recording.finish()
    assert answer.status_code == 500
    assert "forwarding to the upstream failed" in answer.text
    [finding] = double.take_findings(clear=True)
    assert "ConnectionRefusedError" in finding.render()
    assert not cassette.exists()


def test_a_request_to_the_server_itself_without_an_upstream_says_what_to_set(
    double: HTTPServer, cassette: Path
) -> None:
    recording = Recording(cassette, RecordMode.ONCE)
    recording.start(double)
    requests.get(double.url_for("/items"))
    recording.finish()
    [finding] = double.take_findings(clear=True)
    assert 'httpserver_record(upstream="https://...")' in finding.render()


def test_hop_by_hop_headers_go_neither_way_and_the_upstream_gets_its_own_host(
    double: HTTPServer, api: HTTPServer, cassette: Path
) -> None:
    recording = _record(double, cassette, RecordMode.ONCE, api.url_for("/"))
    requests.get(
        double.url_for("/readme"),
        headers={"Proxy-Authorization": "Basic eA==", "TE": "trailers", "X-Kept": "1"},
    )
    recording.finish()
    seen = api.log_entries[-1].request
    assert seen is not None
    upstream_headers = {k.lower(): v for k, v in seen.headers.items()}
    assert upstream_headers["host"] == api.url_for("/").split("//")[1].rstrip("/")
    assert upstream_headers["x-kept"] == "1"
    assert "proxy-authorization" not in upstream_headers
    assert "te" not in upstream_headers


def test_an_absolute_form_request_goes_to_its_host_through_the_upstreams_mapping(
    double: HTTPServer, api: HTTPServer, cassette: Path
) -> None:
    import http.client

    recording = Recording(
        cassette, RecordMode.ONCE, upstreams={"api.example.test": Upstream(api.url_for("/"))}
    )
    recording.start(double)
    connection = http.client.HTTPConnection("127.0.0.1", double.port, timeout=10)
    try:
        connection.request("GET", "http://api.example.test/items/1")
        answer = connection.getresponse()
        body = json.loads(answer.read())
    finally:
        connection.close()
    recording.finish()
    assert body == {"id": 1, "name": "pen"}
    [exchange] = json.loads(cassette.read_text())["exchanges"]
    assert (exchange["request"]["scheme"], exchange["request"]["host"]) == (
        "http",
        "api.example.test",
    )
    seen = api.log_entries[-1].request
    assert seen is not None
    assert seen.headers["Host"] == "api.example.test"
