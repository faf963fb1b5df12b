"""The request targets a proxy gets: CONNECT's host:port and absolute URLs (no sockets)."""

from __future__ import annotations

import pytest

from httpdouble._wire.target import (
    is_authority,
    split_authority,
    take_absolute_form,
    tunnel_host,
)


@pytest.mark.parametrize(
    ("target", "scheme", "host"),
    [
        (b"http://api.example.test/x", "http", "api.example.test"),
        (b"http://api.example.test:80/x", "http", "api.example.test"),
        (b"https://api.example.test:443/x?q=1", "https", "api.example.test"),
        (b"http://api.example.test:8080/x", "http", "api.example.test:8080"),
        (b"http://api.example.test:8/x", "http", "api.example.test:8"),
        (b"https://api.example.test:80/x", "https", "api.example.test:80"),
        (b"http://user:secret@api.example.test/x", "http", "api.example.test"),
        (b"http://[::1]:80/x", "http", "[::1]"),
        (b"http://[::1]:8080/x", "http", "[::1]:8080"),
        (b"HTTP://api.example.test?q=1", "http", "api.example.test"),
    ],
)
def test_an_absolute_url_gives_the_request_its_scheme_and_host(target, scheme, host):
    environ = {"HTTP_HOST": "elsewhere.test", "wsgi.url_scheme": "http"}
    take_absolute_form(environ, target)
    assert (environ["wsgi.url_scheme"], environ["HTTP_HOST"]) == (scheme, host)


@pytest.mark.parametrize(
    ("target", "valid"),
    [
        (b"api.example.test:443", True),
        (b"127.0.0.1:80", True),
        (b"[::1]:443", True),
        (b"api.example.test", False),
        (b"/path", False),
        (b"http://api.example.test:443", False),
        (b"api.example.test:443/x", False),
        (b"api.example.test:123456", False),
    ],
)
def test_connect_takes_host_and_port_only(target, valid):
    assert is_authority(target) is valid


def test_a_tunnel_without_host_uses_its_target_without_the_default_port():
    assert split_authority("[::1]:8443") == ("::1", 8443)
    assert tunnel_host("api.example.test:443", "https") == "api.example.test"
    assert tunnel_host("api.example.test:8443", "https") == "api.example.test:8443"
    assert tunnel_host("api.example.test:80", "http") == "api.example.test"
    assert tunnel_host("api.example.test:443", "http") == "api.example.test:443"
