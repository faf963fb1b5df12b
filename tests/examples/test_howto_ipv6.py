"""How-to: listen on the IPv6 loopback address."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests

from httpdouble import HTTPServer


def _has_ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


requires_ipv6 = pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback here")


@pytest.fixture
def ipv6_server() -> Iterator[HTTPServer]:
    with HTTPServer(host="::1") as server:
        yield server
        server.check()


@requires_ipv6
def test_the_url_puts_the_ipv6_address_in_brackets(ipv6_server):
    ipv6_server.expect_request("/v6").respond_with_data("over IPv6")

    url = ipv6_server.url_for("/v6")
    assert url == f"http://[::1]:{ipv6_server.port}/v6"
    assert requests.get(url, timeout=5).text == "over IPv6"


@requires_ipv6
def test_the_default_localhost_server_answers_on_both_loopback_addresses(httpserver):
    httpserver.expect_request("/both").respond_with_data("hi")

    for host in ("127.0.0.1", "[::1]"):
        url = f"http://{host}:{httpserver.port}/both"
        assert requests.get(url, timeout=5).text == "hi"
