"""The standard library's http.client, on one keep-alive connection."""

from __future__ import annotations

import http.client


def test_http_client_sends_several_requests_on_one_connection(httpserver):
    httpserver.expect_request("/a").respond_with_data("A")
    httpserver.expect_request("/b", method="POST", data="body").respond_with_data("B")

    connection = http.client.HTTPConnection("localhost", httpserver.port, timeout=5)
    try:
        bodies = []
        for method, path, body in (
            ("GET", "/a", None),
            ("POST", "/b", "body"),
            ("GET", "/a", None),
        ):
            connection.request(method, path, body=body)
            bodies.append(connection.getresponse().read())
    finally:
        connection.close()

    assert bodies == [b"A", b"B", b"A"]
