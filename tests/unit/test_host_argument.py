"""``host=`` and the full-URL ``uri`` without a socket: what they accept, refuse and explain."""

from __future__ import annotations

import re

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from httpdouble import HTTPDoubleUsageError, RequestDispatcher, RequestMatcher
from httpdouble._matching.ranking import covers


def _request(url: str, method: str = "GET") -> Request:
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    path, _, query = path.partition("?")
    return Request(
        EnvironBuilder(
            "/" + path, base_url=f"{scheme}://{host}", method=method, query_string=query
        ).get_environ()
    )


@pytest.mark.parametrize(
    ("host", "url", "matches"),
    [
        ("api.example.test", "https://api.example.test:443/x", True),
        ("api.example.test", "http://API.EXAMPLE.TEST/x", True),
        ("api.example.test", "http://api.example.test:8080/x", False),
        ("api.example.test:8080", "http://api.example.test:8080/x", True),
        ("api.example.test:443", "https://api.example.test/x", True),
        ("api.example.test:443", "http://api.example.test/x", False),
        ("[::1]:8080", "http://[::1]:8080/x", True),
        (re.compile(r"api\.[a-z]+\.test"), "https://api.example.test/x", True),
        (re.compile(r"api\.[a-z]+\.test"), "https://api.example.test:8443/x", False),
    ],
)
def test_host_matches_by_name_and_port_with_default_ports_left_out(
    host: str | re.Pattern[str], url: str, matches: bool
) -> None:
    assert RequestMatcher("/x", host=host).match(_request(url)) is matches


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (42, "a host str ('api.example.test'), a compiled regex, or an object with a match"),
        (b"api.example.test", "a host str"),
        ("https://api.example.test", "a host name, with a port if it is not the scheme's"),
        ("api.example.test/v1", "a host name, with a port"),
        ("api.example.test:0", "a port from 1 to 65535"),
        ("", "a host name or address"),
    ],
)
def test_a_bad_host_is_refused_with_what_to_pass(host: object, expected: str) -> None:
    with pytest.raises(HTTPDoubleUsageError, match="invalid host") as info:
        RequestMatcher("/x", host=host)  # type: ignore[arg-type]
    assert f"expected: {expected}" in str(info.value)
    assert "to fix:" in str(info.value)


def test_a_full_url_stands_for_path_host_scheme_and_query() -> None:
    matcher = RequestMatcher("https://API.example.test:443/v1/charges?a=1")
    assert matcher.uri == "/v1/charges"
    assert matcher.query_string == "a=1"
    assert matcher.exact_path == "/v1/charges"  # still indexed by path
    assert matcher.match(_request("https://api.example.test/v1/charges?a=1"))
    assert [
        str(m) for m in matcher.difference(_request("http://api.other.test/v1/charges?a=1"))
    ] == [
        "scheme: expected 'https', got 'http'",
        "host: expected 'api.example.test', got 'api.other.test'",
    ]
    assert RequestMatcher("https://api.example.test").uri == "/"


@pytest.mark.parametrize(
    ("kwargs", "argument", "words"),
    [
        ({"host": "api.other.test"}, "host", "no host=, or the URL's own host 'api.example.test'"),
        ({"query_string": "b=2"}, "query_string", "the query string once"),
    ],
)
def test_a_full_url_with_a_conflicting_argument_is_refused(
    kwargs: dict[str, str], argument: str, words: str
) -> None:
    with pytest.raises(HTTPDoubleUsageError, match=f"invalid {argument}") as info:
        RequestMatcher("https://api.example.test/v1?a=1", **kwargs)  # type: ignore[arg-type]
    assert words in str(info.value)


def test_a_full_url_and_the_same_host_again_are_accepted() -> None:
    matcher = RequestMatcher("https://api.example.test/v1", host="API.example.test:443")
    assert matcher.match(_request("https://api.example.test/v1"))


@pytest.mark.parametrize(
    "url", ["https://api.example.test/x#top", "https://me@api.example.test/x"]
)
def test_a_url_with_what_clients_never_send_is_refused(url: str) -> None:
    with pytest.raises(HTTPDoubleUsageError, match="invalid uri"):
        RequestMatcher(url)


def test_a_path_is_not_a_url_and_matches_any_host_as_before() -> None:
    for uri in ("/x", ""):
        matcher = RequestMatcher(uri)
        assert matcher.host_matcher is None
        assert matcher.match(_request("http://anything.test/x"))


def test_registration_passes_host_to_the_matcher() -> None:
    dispatcher = RequestDispatcher()
    handler = dispatcher.expect_request("/x", host="api.example.test")
    assert handler.matcher.host_matcher is not None
    assert "host 'api.example.test'" in handler.matcher.describe()


def test_a_handler_for_one_host_does_not_shadow_one_for_another() -> None:
    any_host = RequestMatcher("/x")
    one = RequestMatcher("/x", host="a.test")
    other = RequestMatcher("/x", host="b.test")
    assert covers(any_host, one)
    assert not covers(one, other)
    assert covers(one, RequestMatcher("/x", host="A.test"))
    assert not covers(one, any_host)
