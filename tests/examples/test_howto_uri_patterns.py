"""How-to: match paths with a regular expression or a rule of your own."""

from __future__ import annotations

import re

import requests

from httpdouble import URI_DEFAULT, URIPattern


def test_a_compiled_regex_matches_at_the_start_of_the_path(httpserver):
    httpserver.expect_request(re.compile(r"/users/[0-9]+$")).respond_with_data("a user")
    httpserver.expect_request(re.compile(r"/files/")).respond_with_data("a file")

    assert requests.get(httpserver.url_for("/users/123"), timeout=5).text == "a user"
    # Anchored at the start only, as re.match: "/files/" matches every path under it ...
    assert requests.get(httpserver.url_for("/files/a/b.txt"), timeout=5).text == "a file"
    # ... and "$" makes "/users/123/extra" no match.
    assert requests.get(httpserver.url_for("/users/123/extra"), timeout=5).status_code == 500
    httpserver.clear_assertions()


class PrefixPattern(URIPattern):
    """Matches every path under a prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def match(self, uri: str) -> bool:
        return uri.startswith(self.prefix)

    def __repr__(self) -> str:
        return f"<paths under {self.prefix!r}>"


def test_a_uri_pattern_subclass_decides_with_its_own_rule(httpserver):
    httpserver.expect_request(PrefixPattern("/static/")).respond_with_data("file")

    assert requests.get(httpserver.url_for("/static/css/site.css"), timeout=5).text == "file"
    assert requests.get(httpserver.url_for("/static/logo.png"), timeout=5).text == "file"


def test_uri_default_matches_any_path(httpserver):
    httpserver.expect_request("/health").respond_with_data("up")
    httpserver.expect_request(URI_DEFAULT).respond_with_data("fallback", status=404)

    # The oldest matching handler wins, so the exact path is registered first.
    assert requests.get(httpserver.url_for("/health"), timeout=5).text == "up"
    assert requests.get(httpserver.url_for("/anything/else"), timeout=5).status_code == 404
