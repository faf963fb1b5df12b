"""The richer matchers over real sockets: a sync client and an async one for each.

json_contains, body_contains, body_regex, form, cookies, URITemplate, & | ~ and
multipart: the request that fits is served, the one that does not is answered
with the field-by-field difference.
"""

from __future__ import annotations

import asyncio
import re

import aiohttp
import httpx
import requests
from werkzeug import Request, Response

from httpdouble import HTTPServer, Part, RequestMatcher, URITemplate


def _async_post(url: str, **kwargs: object) -> tuple[int, str]:
    async def send() -> tuple[int, str]:
        async with httpx.AsyncClient() as client:
            response = await client.post(url, **kwargs)  # type: ignore[arg-type]
            return response.status_code, response.text

    return asyncio.run(send())


def _aiohttp(method: str, url: str, **kwargs: object) -> tuple[int, str]:
    async def send() -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, url, **kwargs) as response,  # type: ignore[arg-type]
        ):
            return response.status, await response.text()

    return asyncio.run(send())


def _difference_lines(text: str) -> list[str]:
    return [line.strip()[2:] for line in text.splitlines() if line.strip().startswith("- ")]


# ------------------------------------------------------------------ json_contains


def test_json_contains_serves_a_body_with_more_keys_and_explains_a_wrong_value(
    server: HTTPServer,
) -> None:
    server.expect_request(
        "/users", method="POST", json_contains={"user": {"id": 1}}
    ).respond_with_data("ok")
    url = server.url_for("/users")

    assert requests.post(url, json={"user": {"id": 1, "name": "ann"}, "v": 2}).text == "ok"
    assert _async_post(url, json={"user": {"id": 1}, "extra": [1]}) == (200, "ok")

    status, text = _async_post(url, json={"user": {"id": 2, "name": "ann"}})
    assert status == 500
    assert "json_contains user.id: expected 1 (int), got 2 (int)" in _difference_lines(text)
    reply = requests.post(url, json={"user": {"name": "ann"}})
    assert "json_contains user.id: expected 1 (int), got missing key 'id'" in (
        _difference_lines(reply.text)
    )
    server.clear()


def test_json_contains_compares_lists_item_by_item_and_says_when_not_json(
    server: HTTPServer,
) -> None:
    server.expect_request("/tags", json_contains={"tags": [{"n": "a"}]}).respond_with_data("ok")
    url = server.url_for("/tags")

    assert requests.post(url, json={"tags": [{"n": "a", "id": 3}]}).text == "ok"
    status, text = _async_post(url, json={"tags": [{"n": "a"}, {"n": "b"}]})
    assert status == 500
    assert any("json_contains tags[1]: " in line for line in _difference_lines(text))
    reply = requests.post(url, data=b"tags=a")
    assert any(
        line.startswith("json_contains: expected ") and "not valid JSON" in line
        for line in _difference_lines(reply.text)
    )
    server.clear()


# ------------------------------------------------------------- body_contains/regex


def test_body_contains_and_body_regex_search_the_body(server: HTTPServer) -> None:
    server.expect_request("/log", body_contains="needle").respond_with_data("contains")
    server.expect_request("/re", body_regex=re.compile(r"id=[0-9]+\b")).respond_with_data("re")
    server.expect_request("/raw", body_regex=rb"\x00\xff").respond_with_data("raw")

    assert requests.post(server.url_for("/log"), data="hay needle hay").text == "contains"
    assert _aiohttp("POST", server.url_for("/re"), data=b"a=1&id=42&b") == (200, "re")
    assert _async_post(server.url_for("/raw"), content=b"..\x00\xff..") == (200, "raw")

    status, text = _aiohttp("POST", server.url_for("/log"), data=b"hay only")
    assert status == 500
    assert "body_contains: expected a body containing b'needle', got b'hay only' (8 bytes)" in (
        _difference_lines(text)
    )
    reply = requests.post(server.url_for("/re"), data="id=x")
    assert (
        "body_regex: expected a body matching regex 'id=[0-9]+\\\\b', got b'id=x' (4 bytes)"
        in _difference_lines(reply.text)
    )
    server.clear()


# --------------------------------------------------------------------------- form


def test_form_fields_match_urlencoded_and_multipart_bodies(server: HTTPServer) -> None:
    server.expect_request(
        "/form", method="POST", form={"qty": "2", "tag": ["a", "b"]}
    ).respond_with_data("ok")
    url = server.url_for("/form")

    assert requests.post(url, data={"qty": "2", "tag": ["a", "b"], "other": "x"}).text == "ok"
    assert requests.post(url, files={"qty": (None, "2"), "tag": (None, "a")}).status_code == 500
    form = aiohttp.FormData()
    for key, value in (("qty", "2"), ("tag", "a"), ("tag", "b")):
        form.add_field(key, value)
    form.add_field("f", b"bytes", filename="f.bin")  # a file part: the form is multipart
    assert _aiohttp("POST", url, data=form) == (200, "ok")

    status, text = _async_post(url, data={"qty": "3", "tag": ["a", "b"]})
    assert status == 500
    assert "form qty: expected '2', got '3'" in _difference_lines(text)
    reply = requests.post(url, json={"qty": "2"})
    assert (
        "form: expected a form body (application/x-www-form-urlencoded or multipart/form-data),"
        " got Content-Type 'application/json'"
    ) in _difference_lines(reply.text)
    server.clear()


def test_form_matching_leaves_the_body_readable_for_the_handler(server: HTTPServer) -> None:
    def echo(request: Request) -> Response:
        return Response(request.get_data())

    server.expect_request("/echo", form={"a": "1"}).respond_with_handler(echo)
    assert requests.post(server.url_for("/echo"), data={"a": "1", "b": "2"}).text == "a=1&b=2"


# ------------------------------------------------------------------------ cookies


def test_cookies_match_at_least_the_named_ones(server: HTTPServer) -> None:
    server.expect_request("/me", cookies={"session": "abc"}).respond_with_data("me")
    url = server.url_for("/me")

    assert requests.get(url, cookies={"session": "abc", "theme": "dark"}).text == "me"
    assert _aiohttp("GET", url, headers={"Cookie": "theme=dark; session=abc"}) == (200, "me")

    status, text = _aiohttp("GET", url, headers={"Cookie": "session=abd"})
    assert status == 500
    # Cookie values are credentials: masked, with where they first differ.
    assert "cookie session: expected '…(len 3)', got '…(len 3)' (differ at char 3)" in (
        _difference_lines(text)
    )
    reply = requests.get(url, cookies={"theme": "dark"})
    assert (
        "cookie session: expected '…(len 3)', got no cookie 'session' (cookies sent: ['theme'])"
        in (_difference_lines(reply.text))
    )
    server.clear()


# ------------------------------------------------------------------ URITemplate


def test_uri_template_matches_named_segments_and_hands_them_to_the_handler(
    server: HTTPServer,
) -> None:
    users = URITemplate("/users/{id:int}/files/{name:path}")

    def handler(request: Request) -> Response:
        params = users.params(request)
        return Response(f"{params['id'] + 1} {params['name']}")

    server.expect_request(users, method="GET").respond_with_handler(handler)

    assert requests.get(server.url_for("/users/41/files/a/b.txt")).text == "42 a/b.txt"

    async def get() -> tuple[int, str]:
        async with httpx.AsyncClient() as client:
            response = await client.get(server.url_for("/users/7/files/x"))
            return response.status_code, response.text

    assert asyncio.run(get()) == (200, "8 x")
    missed = requests.get(server.url_for("/users/abc/files/x"))
    assert missed.status_code == 500
    assert (
        "uri: expected URITemplate('/users/{id:int}/files/{name:path}'), got '/users/abc/files/x'"
        in _difference_lines(missed.text)
    )
    server.clear()


def test_a_plain_str_uri_with_braces_stays_an_exact_path_beside_a_template(
    server: HTTPServer,
) -> None:
    server.expect_request("/a/{id}").respond_with_data("literal")
    server.expect_request(URITemplate("/a/{id}")).respond_with_data("template")
    assert requests.get(server.url_for("/a/%7Bid%7D")).text == "literal"
    assert requests.get(server.url_for("/a/1")).text == "template"


# -------------------------------------------------------------------- composition


def test_composed_matchers_serve_and_explain_each_part(server: HTTPServer) -> None:
    admin = RequestMatcher("/admin") | RequestMatcher("/root", method="POST")
    not_delete = ~RequestMatcher(URITemplate("/{any:path}"), method="DELETE")
    server.expect(admin & not_delete).respond_with_data("admin")

    assert requests.get(server.url_for("/admin")).text == "admin"
    assert _async_post(server.url_for("/root")) == (200, "admin")

    reply = requests.delete(server.url_for("/admin"))
    assert reply.status_code == 500
    assert (
        "not: expected not to match DELETE URITemplate('/{any:path}'), got a request that matches"
        in _difference_lines(reply.text)
    )
    status, text = _aiohttp("GET", server.url_for("/root"))
    assert status == 500
    assert "method (alternative 2 of 2): expected 'POST', got 'GET'" in _difference_lines(text)
    server.clear()


def test_assert_request_made_takes_a_composed_matcher(server: HTTPServer) -> None:
    server.expect_request("/a").respond_with_data("")
    requests.post(server.url_for("/a"), json={"k": 1})
    _async_post(server.url_for("/a"), json={"k": 2})

    server.assert_request_made(RequestMatcher("/a") & RequestMatcher("/a", json_contains={"k": 1}))
    server.assert_request_made(~RequestMatcher("/a", json_contains={"k": 1}), count=1)
    server.assert_request_made(
        RequestMatcher("/a", json_contains={"k": 1}) | RequestMatcher("/a", body_contains="2"),
        count=2,
    )


# ---------------------------------------------------------------------- multipart


def test_multipart_parts_match_content_filename_and_type(server: HTTPServer) -> None:
    server.expect_request(
        "/upload",
        method="POST",
        multipart={
            "file": Part(b"\x00data", filename="a.bin", content_type="application/octet-stream"),
            "note": "hi",
        },
    ).respond_with_data("stored")
    url = server.url_for("/upload")

    files = {"file": ("a.bin", b"\x00data", "application/octet-stream"), "note": (None, "hi")}
    assert requests.post(url, files=files).text == "stored"
    status, text = _async_post(
        url, files={"file": ("b.bin", b"\x00dat", "application/octet-stream")}, data={"x": "1"}
    )
    assert status == 500
    lines = _difference_lines(text)
    assert "multipart file content: expected b'\\x00data', got b'\\x00dat' (4 bytes)" in lines
    assert "multipart file filename: expected 'a.bin', got 'b.bin'" in lines
    assert "multipart note: expected a part of that name, got no such part (parts sent:" in (
        "\n".join(lines)
    )
    server.clear()
