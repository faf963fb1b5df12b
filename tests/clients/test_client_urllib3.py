"""urllib3's pool manager against the plugin's server."""

from __future__ import annotations

import json

import urllib3


def test_urllib3_pool_manager_posts_a_body(httpserver):
    httpserver.expect_request("/u3", method="POST", data=b"raw bytes").respond_with_json(
        {"got": "it"}
    )

    with urllib3.PoolManager() as pool:
        response = pool.request("POST", httpserver.url_for("/u3"), body=b"raw bytes")
        assert response.status == 200
        assert json.loads(response.data) == {"got": "it"}
