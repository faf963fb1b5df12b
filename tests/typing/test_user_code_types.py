"""User-style code that must pass ``mypy --strict`` (``nox -s typecheck``) and run as tests."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator

import pytest
from werkzeug.wrappers import Request, Response

from httpdouble import (
    METHOD_ALL,
    URI_DEFAULT,
    CaseInsensitiveHeaderValueMatcher,
    HandlerType,
    HeaderValueMatcher,
    HTTPServer,
    Part,
    RequestHandler,
    RequestMatcher,
    URIPattern,
    URITemplate,
    WaitingSettings,
)


class VersionedPath(URIPattern):
    """Matches ``/v<digits>/<name>``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def match(self, uri: str) -> bool:
        return re.fullmatch(rf"/v\d+/{re.escape(self.name)}", uri) is not None


def echo(request: Request) -> Response:
    return Response(json.dumps({"path": request.path}), mimetype="application/json")


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        status: int = response.status
        return status, response.read().decode()


@pytest.fixture
def own_server() -> Iterator[HTTPServer]:
    with HTTPServer(default_waiting_settings=WaitingSettings(timeout=5)) as server:
        yield server


def test_registrations_and_handlers_are_typed(httpserver: HTTPServer) -> None:
    handler: RequestHandler = httpserver.expect_request("/items", method="GET")
    handler.respond_with_json({"items": [1, 2]}, status=200, headers={"X-Count": "2"})
    httpserver.expect_request(re.compile(r"/echo/\d+")).respond_with_handler(echo)
    httpserver.expect_request(VersionedPath("users")).respond_with_data("users")
    matcher = RequestMatcher("/pages", method="GET", query_string={"page": "1"})
    httpserver.expect(matcher, HandlerType.PERMANENT).respond_with_data("page one")

    assert fetch(httpserver.url_for("/pages?page=1")) == (200, "page one")
    status, text = fetch(httpserver.url_for("/items"))
    assert (status, json.loads(text)) == (200, {"items": [1, 2]})
    assert fetch(httpserver.url_for("/echo/7")) == (200, '{"path": "/echo/7"}')
    assert fetch(httpserver.url_for("/v2/users")) == (200, "users")
    # Oneshot handlers are looked up before permanent ones: register it last.
    httpserver.expect_oneshot_request(URI_DEFAULT, method=METHOD_ALL).respond_with_response(
        Response("fallback", status=203)
    )
    assert fetch(httpserver.url_for("/anything")) == (203, "fallback")
    count: int = httpserver.get_matching_requests_count(RequestMatcher("/echo/7"))
    assert count == 1
    httpserver.assert_request_made(RequestMatcher(URI_DEFAULT), count=5)
    httpserver.check()


def test_library_use_without_the_fixture(own_server: HTTPServer) -> None:
    own_server.expect_oneshot_request("/once", headers={"X-Key": "k"}).respond_with_data("ok")
    with own_server.wait(raise_assertions=True, timeout=5) as waiting:
        request = urllib.request.Request(own_server.url_for("/once"), headers={"X-Key": "k"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.read() == b"ok"
    assert waiting.result
    entries = own_server.log
    assert len(entries) == 1
    first_request, first_response = entries[0]
    assert first_request.path == "/once"
    assert first_response.status_code == 200
    matcher: HeaderValueMatcher = HeaderValueMatcher()
    assert matcher("X-Key", "k", "k")


def test_richer_matchers_are_typed(httpserver: HTTPServer) -> None:
    users = URITemplate("/users/{id:int}")

    def user(request: Request) -> Response:
        return Response(str(users.params(request)["id"]))

    httpserver.expect_request(users, method="GET", cookies={"s": "1"}).respond_with_handler(user)
    either: RequestMatcher = RequestMatcher("/a", json_contains={"k": 1}) | RequestMatcher(
        "/a", body_regex=re.compile(rb"k"), form={"k": ["1", "2"]}
    )
    httpserver.expect(either & ~RequestMatcher("/a", body_contains="x"))
    httpserver.expect_oneshot_request("/up", multipart={"f": Part(b"x", filename="f.txt")})
    httpserver.clear()
    httpserver.expect_request(users).respond_with_handler(user)

    request = urllib.request.Request(httpserver.url_for("/users/7"), headers={"Cookie": "s=1"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.read() == b"7"


def test_pytest_httpserver_121_names_are_typed(httpserver: HTTPServer) -> None:
    lenient = CaseInsensitiveHeaderValueMatcher({"x-key": lambda actual, expected: True})
    httpserver.expect_request(
        "/form",
        method="POST",
        data_form={"k": "v"},
        headers={"X-Key": "?"},
        header_value_matcher=lenient,
    ).respond_with_data("ok")
    with httpserver.with_check() as checked:
        request = urllib.request.Request(
            checked.url_for("/form"), data=b"k=v", headers={"X-Key": "k"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.read() == b"ok"
