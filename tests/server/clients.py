"""Four real HTTP client libraries behind one small interface, for the server tier."""

from __future__ import annotations

import http.client
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
import requests
import urllib3
from werkzeug.datastructures import Headers

CLIENT_NAMES = ["requests", "httpx", "urllib3", "http.client"]


@dataclass
class Reply:
    """What a client got back, the same shape whatever the client."""

    status: int
    headers: Headers
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class HTTPClient:
    """One real HTTP client library behind a small common interface."""

    name = ""

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Reply:
        raise NotImplementedError

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Reply:
        return self.request("GET", url, headers=headers)

    def post(self, url: str, body: bytes, *, headers: Mapping[str, str] | None = None) -> Reply:
        return self.request("POST", url, headers=headers, body=body)

    def close(self) -> None:
        """Release every connection."""


class RequestsClient(HTTPClient):
    name = "requests"

    def __init__(self) -> None:
        self.session = requests.Session()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Reply:
        with self.session.request(
            method, url, headers=dict(headers or {}), data=body, timeout=30
        ) as response:
            return Reply(response.status_code, Headers(response.headers.items()), response.content)

    def close(self) -> None:
        self.session.close()


class HttpxClient(HTTPClient):
    name = "httpx"

    def __init__(self) -> None:
        self.client = httpx.Client(timeout=30)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Reply:
        response = self.client.request(method, url, headers=dict(headers or {}), content=body)
        return Reply(
            response.status_code, Headers(response.headers.multi_items()), response.content
        )

    def close(self) -> None:
        self.client.close()


class Urllib3Client(HTTPClient):
    name = "urllib3"

    def __init__(self) -> None:
        self.pool = urllib3.PoolManager(retries=False, timeout=30)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Reply:
        response = self.pool.request(
            method, url, headers=dict(headers or {}), body=body, redirect=False
        )
        return Reply(response.status, Headers(list(response.headers.iteritems())), response.data)

    def close(self) -> None:
        self.pool.clear()


class HttpClientClient(HTTPClient):
    """The standard library's http.client, one connection per request."""

    name = "http.client"

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Reply:
        parts = urllib.parse.urlsplit(url)
        assert parts.hostname is not None
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            connection.request(method, target, body=body, headers=dict(headers or {}))
            response = connection.getresponse()
            data = response.read()
            return Reply(response.status, Headers(response.getheaders()), data)
        finally:
            connection.close()


CLIENTS: dict[str, type[HTTPClient]] = {
    "requests": RequestsClient,
    "httpx": HttpxClient,
    "urllib3": Urllib3Client,
    "http.client": HttpClientClient,
}
