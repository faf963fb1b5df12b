"""How-to: match part of a body, form fields, cookies, path templates; combine matchers."""

from __future__ import annotations

import asyncio
import re

import httpx
import requests
from werkzeug import Request, Response

from httpdouble import Part, RequestMatcher, URITemplate


def test_json_contains_checks_only_the_keys_you_name(httpserver):
    httpserver.expect_request(
        "/orders", method="POST", json_contains={"customer": {"id": 7}}
    ).respond_with_data("", status=201)

    # Other keys, at any depth, are free.
    order = {"customer": {"id": 7, "name": "Ann"}, "items": [{"sku": "tea"}]}
    assert requests.post(httpserver.url_for("/orders"), json=order, timeout=5).status_code == 201


def test_body_contains_and_body_regex_look_inside_any_body(httpserver):
    httpserver.expect_request("/graphql", body_contains="mutation AddUser").respond_with_data("a")
    httpserver.expect_request(
        "/ingest", body_regex=re.compile(r"^level=error", re.M)
    ).respond_with_data("b")

    query = '{"query": "mutation AddUser { id }"}'
    assert requests.post(httpserver.url_for("/graphql"), data=query, timeout=5).text == "a"
    logs = "level=info msg=up\nlevel=error msg=disk full\n"
    assert requests.post(httpserver.url_for("/ingest"), data=logs, timeout=5).text == "b"


def test_form_checks_some_fields_of_a_form(httpserver):
    httpserver.expect_request(
        "/login", method="POST", form={"user": "ann", "scope": ["read", "write"]}
    ).respond_with_data("welcome")

    # urlencoded or multipart alike; the password field is left free.
    fields = {"user": "ann", "password": "s3cret", "scope": ["read", "write"]}
    assert requests.post(httpserver.url_for("/login"), data=fields, timeout=5).text == "welcome"


def test_cookies_checks_the_cookies_you_name(httpserver):
    httpserver.expect_request("/me", cookies={"session": "abc"}).respond_with_data("ann")

    cookies = {"session": "abc", "theme": "dark"}
    assert requests.get(httpserver.url_for("/me"), cookies=cookies, timeout=5).text == "ann"


def test_a_uri_template_names_parts_of_the_path(httpserver):
    user_posts = URITemplate("/users/{user_id:int}/posts/{slug}")

    def show_post(request: Request) -> Response:
        params = user_posts.params(request)  # {'user_id': 42, 'slug': 'hello'}
        return Response(f"post {params['slug']} of user {params['user_id']}")

    httpserver.expect_request(user_posts, method="GET").respond_with_handler(show_post)

    async def fetch() -> str:
        async with httpx.AsyncClient() as client:
            response = await client.get(httpserver.url_for("/users/42/posts/hello"))
            return response.text

    assert asyncio.run(fetch()) == "post hello of user 42"


def test_matchers_combine_with_and_or_not(httpserver):
    reads = RequestMatcher("/items", method="GET") | RequestMatcher("/items", method="HEAD")
    not_internal = ~RequestMatcher("/items", headers={"X-Internal": "1"})
    httpserver.expect(reads & not_internal).respond_with_data("items")

    assert requests.get(httpserver.url_for("/items"), timeout=5).text == "items"
    assert requests.head(httpserver.url_for("/items"), timeout=5).status_code == 200
    internal = requests.get(httpserver.url_for("/items"), headers={"X-Internal": "1"}, timeout=5)
    assert internal.status_code == 500  # no handler: this request was not meant to come
    httpserver.clear_assertions()

    # The log answers the same questions after the fact.
    httpserver.assert_request_made(reads & not_internal, count=2)


def test_multipart_checks_the_uploaded_parts(httpserver):
    httpserver.expect_request(
        "/upload",
        method="POST",
        multipart={
            "avatar": Part(b"\x89PNG", filename="me.png", content_type="image/png"),
            "caption": "me",
        },
    ).respond_with_data("stored")

    files = {"avatar": ("me.png", b"\x89PNG", "image/png"), "caption": (None, "me")}
    assert requests.post(httpserver.url_for("/upload"), files=files, timeout=5).text == "stored"


def test_a_miss_is_explained_field_by_field(httpserver):
    httpserver.expect_request("/users", json_contains={"user": {"id": 1}}).respond_with_data("")

    requests.post(httpserver.url_for("/users"), json={"user": {"id": 2}}, timeout=5)

    [failure] = httpserver.assertions
    assert "json_contains user.id: expected 1 (int), got 2 (int)" in str(failure)
    httpserver.clear_assertions()
