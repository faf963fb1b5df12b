"""The standard library's urllib.request against the plugin's server."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest


def test_urllib_request_reads_a_body_and_response_headers(httpserver):
    httpserver.expect_request("/std").respond_with_data("plain", headers={"X-Served-By": "double"})

    with urllib.request.urlopen(httpserver.url_for("/std"), timeout=5) as response:
        assert response.read() == b"plain"
        assert response.headers["X-Served-By"] == "double"


def test_urllib_request_raises_http_error_for_a_404(httpserver):
    httpserver.expect_request("/missing").respond_with_data("gone", status=404)

    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(httpserver.url_for("/missing"), timeout=5)
    assert info.value.code == 404
    info.value.close()
