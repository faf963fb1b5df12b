"""Every bad argument raises HTTPDoubleUsageError that says expected, got and what to do."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from httpdouble import (
    HTTPDoubleUsageError,
    HTTPServer,
    NonLoopbackWarning,
    RequestDispatcher,
    RequestMatcher,
    StringQueryMatcher,
)


def assert_usage_error(
    excinfo: pytest.ExceptionInfo[HTTPDoubleUsageError],
    argument: str,
    expected: str,
    got: str,
) -> None:
    """The message is four lines: what, expected, got, to fix."""
    error = excinfo.value
    assert isinstance(error, TypeError)
    lines = str(error).splitlines()
    assert len(lines) == 4, str(error)
    assert lines[0] == f"invalid {argument}"
    assert lines[1].startswith("  expected: ")
    assert expected in lines[1]
    assert lines[2].startswith("  got:      ")
    assert got in lines[2]
    assert lines[3].startswith("  to fix:   ")
    assert len(lines[3]) > len("  to fix:   ") + 5
    assert error.argument == argument


MATCHER_CASES: list[tuple[dict[str, Any], str, str, str]] = [
    ({"uri": 42}, "uri", "a URIPattern, or an object with its own __eq__", "42 (int)"),
    ({"uri": b"/bytes"}, "uri", "a path str", "b'/bytes' (bytes)"),
    ({"uri": "/", "method": 1}, "method", "HTTP method name", "1 (int)"),
    ({"uri": "/", "method": ""}, "method", "or METHOD_ALL", "'' (str)"),
    ({"uri": "/", "data": {"a": 1}}, "data", "str, bytes or None", "{'a': 1} (dict)"),
    (
        {"uri": "/", "data": "x", "json": {"a": 1}},
        "data/json",
        "at most one of data= and json=",
        "data='x', json={'a': 1}",
    ),
    (
        {"uri": "/", "headers": {"X-N": 3}},
        "headers",
        "mapping of header name to str value",
        "{'X-N': 3} (dict)",
    ),
    (
        {"uri": "/", "headers": [("X-N", "3")]},
        "headers",
        "mapping of header name",
        "[('X-N', '3')] (list)",
    ),
    ({"uri": "/", "json": {1, 2}}, "json", "JSON-serialisable", "{1, 2} (set)"),
    ({"uri": "/", "query_string": 5}, "query_string", "a QueryMatcher or None", "5 (int)"),
    (
        {"uri": "/", "query_string": {"page": 2}},
        "query_string",
        "a mapping of str to str",
        "{'page': 2} (dict)",
    ),
    (
        {"uri": "/", "data_encoding": "no-such-codec"},
        "data_encoding",
        "text encoding",
        "'no-such-codec' (str)",
    ),
    (
        {"uri": "/", "header_value_matcher": "strict"},
        "header_value_matcher",
        "HeaderValueMatcher",
        "'strict' (str)",
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "argument", "expected", "got"),
    MATCHER_CASES,
    ids=[case[1] + "-" + str(i) for i, case in enumerate(MATCHER_CASES)],
)
def test_bad_matcher_argument_is_refused_by_every_registration_method(
    dispatcher: RequestDispatcher, kwargs: dict[str, Any], argument: str, expected: str, got: str
) -> None:
    for register in (
        RequestMatcher,
        dispatcher.expect_request,
        dispatcher.expect_oneshot_request,
        dispatcher.expect_ordered_request,
    ):
        with pytest.raises(HTTPDoubleUsageError) as excinfo:
            register(**kwargs)
        assert_usage_error(excinfo, argument, expected, got)
    assert dispatcher.format_matchers().count("none") == 3


def test_string_query_matcher_refuses_other_types() -> None:
    with pytest.raises(HTTPDoubleUsageError) as excinfo:
        StringQueryMatcher(["a=1"])  # type: ignore[arg-type]
    assert_usage_error(excinfo, "query_string", "str or bytes", "['a=1'] (list)")


def test_long_values_are_cut_in_the_message() -> None:
    with pytest.raises(HTTPDoubleUsageError) as excinfo:
        RequestMatcher("/", data=list(range(1000)))  # type: ignore[arg-type]
    assert_usage_error(excinfo, "data", "str, bytes or None", "...")
    assert len(str(excinfo.value)) < 400


def test_expect_refuses_a_non_matcher_and_a_bad_handler_type(
    dispatcher: RequestDispatcher,
) -> None:
    with pytest.raises(HTTPDoubleUsageError) as excinfo:
        dispatcher.expect("/path")  # type: ignore[arg-type]
    assert_usage_error(excinfo, "matcher", "a RequestMatcher", "'/path' (str)")
    with pytest.raises(HTTPDoubleUsageError) as excinfo:
        dispatcher.expect(RequestMatcher("/"), "oneshot")  # type: ignore[arg-type]
    assert_usage_error(excinfo, "handler_type", "a HandlerType", "'oneshot' (str)")


HandlerCall = Callable[[Any], None]


@pytest.mark.parametrize(
    ("call", "argument", "expected", "got"),
    [
        (lambda h: h.respond_with_data(123), "response_data", "str or bytes", "123 (int)"),
        (lambda h: h.respond_with_data("x", status="200"), "status", "100 to 999", "'200'"),
        (lambda h: h.respond_with_data("x", status=99), "status", "100 to 999", "99 (int)"),
        (lambda h: h.respond_with_data("x", status=1000), "status", "100 to 999", "1000"),
        (lambda h: h.respond_with_data("x", status=True), "status", "an int", "True (bool)"),
        (lambda h: h.respond_with_json(object()), "response_json", "JSON-serialisable", "object"),
        (lambda h: h.respond_with_json({}, status=0), "status", "100 to 999", "0 (int)"),
        (lambda h: h.respond_with_response(b"ok"), "response", "werkzeug", "b'ok' (bytes)"),
        (lambda h: h.respond_with_handler("f"), "func", "a callable", "'f' (str)"),
    ],
)
def test_bad_respond_with_argument_is_refused(
    dispatcher: RequestDispatcher, call: HandlerCall, argument: str, expected: str, got: str
) -> None:
    handler = dispatcher.expect_request("/")
    with pytest.raises(HTTPDoubleUsageError) as excinfo:
        call(handler)
    assert_usage_error(excinfo, argument, expected, got)
    assert handler.request_handler is None


@pytest.mark.parametrize(
    ("call", "argument", "expected", "got"),
    [
        (lambda d: d.assert_request_made("/x"), "matcher", "RequestMatcher", "'/x' (str)"),
        (lambda d: d.get_matching_requests_count(None), "matcher", "RequestMatcher", "None"),
        (lambda d: list(d.iter_matching_requests(3)), "matcher", "RequestMatcher", "3 (int)"),
        (
            lambda d: d.assert_request_made(RequestMatcher("/"), count=-1),
            "count",
            "0 or more",
            "-1 (int)",
        ),
        (
            lambda d: d.assert_request_made(RequestMatcher("/"), count="1"),
            "count",
            "an int",
            "'1' (str)",
        ),
    ],
)
def test_bad_verification_argument_is_refused(
    dispatcher: RequestDispatcher,
    call: Callable[[RequestDispatcher], object],
    argument: str,
    expected: str,
    got: str,
) -> None:
    with pytest.raises(HTTPDoubleUsageError) as excinfo:
        call(dispatcher)
    assert_usage_error(excinfo, argument, expected, got)


@pytest.mark.parametrize(
    ("timeout", "got"), [(-1, "-1 (int)"), ("5", "'5' (str)"), (float("nan"), "nan (float)")]
)
def test_wait_refuses_a_bad_timeout_before_the_block_runs(
    dispatcher: RequestDispatcher, timeout: Any, got: str
) -> None:
    ran = False
    with pytest.raises(HTTPDoubleUsageError) as excinfo, dispatcher.wait(timeout=timeout):
        ran = True
    assert_usage_error(excinfo, "timeout", "number of seconds", got)
    assert not ran


@pytest.mark.parametrize(
    ("kwargs", "argument", "expected", "got"),
    [
        ({"no_handler_status_code": "500"}, "no_handler_status_code", "100 to 999", "'500'"),
        ({"no_handler_status_code": 42}, "no_handler_status_code", "100 to 999", "42 (int)"),
        ({"default_waiting_settings": 5}, "default_waiting_settings", "WaitingSettings", "5"),
    ],
)
def test_bad_dispatcher_setting_is_refused(
    kwargs: dict[str, Any], argument: str, expected: str, got: str
) -> None:
    with pytest.raises(HTTPDoubleUsageError) as excinfo:
        RequestDispatcher(**kwargs)
    assert_usage_error(excinfo, argument, expected, got)


@pytest.mark.parametrize(
    ("kwargs", "argument", "expected", "got"),
    [
        ({"host": 127}, "host", "host name or IP address", "127 (int)"),
        ({"host": ""}, "host", "host name or IP address", "'' (str)"),
        ({"port": -1}, "port", "from 0 to 65535", "-1 (int)"),
        ({"port": 65536}, "port", "from 0 to 65535", "65536 (int)"),
        ({"port": "8080"}, "port", "an int", "'8080' (str)"),
        ({"port": True}, "port", "an int", "True (bool)"),
        ({"ssl_context": "tls"}, "ssl_context", "ssl.SSLContext", "'tls' (str)"),
        ({"host": "192.0.2.1"}, "host", "a loopback address", "'192.0.2.1' (str)"),
        ({"no_handler_status_code": 1}, "no_handler_status_code", "100 to 999", "1 (int)"),
    ],
)
def test_bad_server_argument_is_refused_without_touching_the_network(
    kwargs: dict[str, Any], argument: str, expected: str, got: str
) -> None:
    with pytest.raises(HTTPDoubleUsageError) as excinfo:
        HTTPServer(**kwargs)
    assert_usage_error(excinfo, argument, expected, got)


def test_non_loopback_host_needs_consent_and_warns_even_then() -> None:
    with pytest.warns(NonLoopbackWarning, match=re.escape("listens on 192.0.2.1")):
        server = HTTPServer("192.0.2.1", allow_non_loopback=True)
    assert not server.is_running()


@pytest.mark.parametrize("field", ["max_request_line", "max_header_count", "max_body_bytes"])
@pytest.mark.parametrize("bad", [0, -1, "10", True])
def test_limits_reject_values_that_are_not_positive_ints(field: str, bad: object) -> None:
    from httpdouble import Limits

    with pytest.raises(HTTPDoubleUsageError) as info:
        Limits(**{field: bad})  # type: ignore[arg-type]
    assert f"invalid Limits({field}=...)" in str(info.value)
    assert "expected: a positive int" in str(info.value)


def test_server_rejects_bad_limits_port_source_and_url_suffix() -> None:
    from httpdouble import HTTPServer

    with pytest.raises(HTTPDoubleUsageError, match="invalid limits"):
        HTTPServer(limits="x")  # type: ignore[arg-type]
    with pytest.raises(HTTPDoubleUsageError, match="invalid port_source"):
        HTTPServer(port_source=3)  # type: ignore[arg-type]
    with pytest.raises(HTTPDoubleUsageError, match="expected: a str path"):
        HTTPServer().url_for(5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"headers": 5}, "headers"),
        ({"headers": "X-Key: k"}, "headers"),
        ({"mimetype": 5}, "mimetype"),
        ({"content_type": b"text/html"}, "content_type"),
    ],
)
def test_respond_with_data_rejects_bad_headers_and_types(
    dispatcher: RequestDispatcher, kwargs: dict[str, object], argument: str
) -> None:
    handler = dispatcher.expect_request("/x")
    with pytest.raises(HTTPDoubleUsageError) as info:
        handler.respond_with_data("body", **kwargs)  # type: ignore[arg-type]
    text = str(info.value)
    assert f"invalid {argument}" in text
    assert "expected:" in text
    assert "to fix:" in text
