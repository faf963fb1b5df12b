"""Counted handlers and response sequences over real sockets, with sync and async clients."""

from __future__ import annotations

import asyncio

import httpx
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry
from werkzeug.wrappers import Response

from httpdouble import HTTPServer, Kind


def test_requests_with_urllib3_retry_gets_through_a_sequence_of_503s(server: HTTPServer) -> None:
    server.expect_request("/flaky", times=3).respond_with_sequence(
        [Response(status=503), Response(status=503), Response("ok")]
    )
    retry = Retry(total=3, status_forcelist=[503], backoff_factor=0)
    with requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=retry))
        reply = session.get(server.url_for("/flaky"), timeout=10)

    assert (reply.status_code, reply.text) == (200, "ok")
    assert [r.status_code for _, r in server.log] == [503, 503, 200]
    assert server.take_findings() == []


def test_a_client_that_gives_up_early_leaves_a_shortfall(server: HTTPServer) -> None:
    server.expect_request("/flaky", method="GET", times=3).respond_with_sequence(
        [Response(status=503), Response(status=503), Response("ok")]
    )
    retry = Retry(total=1, status_forcelist=[503], backoff_factor=0, raise_on_status=False)
    with requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=retry))
        assert session.get(server.url_for("/flaky"), timeout=10).status_code == 503

    [finding] = server.take_findings(include_unused=True)
    assert finding.kind is Kind.SHORTFALL
    assert finding.headline() == "expectation used 2 of 3 times: GET '/flaky'"


def test_concurrent_async_requests_each_get_a_different_item(server: HTTPServer) -> None:
    count = 8
    server.expect_request("/n", times=count).respond_with_sequence(
        [str(n) for n in range(count)], then="fail"
    )

    async def fetch_all() -> list[str]:
        async with httpx.AsyncClient(timeout=10) as client:
            replies = await asyncio.gather(
                *(client.get(server.url_for("/n")) for _ in range(count))
            )
        return [reply.text for reply in replies]

    bodies = asyncio.run(fetch_all())

    assert sorted(bodies, key=int) == [str(n) for n in range(count)]
    assert server.take_findings() == []


def test_wait_settles_only_after_the_last_counted_use(server: HTTPServer) -> None:
    server.expect_request("/x", times=2).respond_with_data("ok")

    with server.wait(raise_assertions=False, timeout=0.2) as waiting:
        assert requests.get(server.url_for("/x"), timeout=10).text == "ok"
    assert not waiting.result  # one of two uses: still pending

    with server.wait(timeout=10) as waiting:
        assert requests.get(server.url_for("/x"), timeout=10).text == "ok"
    assert waiting.result


def test_async_client_past_a_fail_sequence_gets_500_and_a_finding(server: HTTPServer) -> None:
    server.expect_request("/once").respond_with_sequence(["only"], then="fail")

    async def fetch_twice() -> list[tuple[int, str]]:
        async with httpx.AsyncClient(timeout=10) as client:
            first = await client.get(server.url_for("/once"))
            second = await client.get(server.url_for("/once"))
        return [(first.status_code, first.text), (second.status_code, second.text)]

    first, second = asyncio.run(fetch_twice())

    assert first == (200, "only")
    assert second[0] == 500
    assert "the sequence of 1 response was used up" in second[1]
    assert [f.kind for f in server.take_findings()] == [Kind.SEQUENCE_USED_UP]
