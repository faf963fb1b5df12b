"""The public names, declared once, and the builtins form of findings."""

from __future__ import annotations

import json

import httpdouble
from httpdouble import Finding, Kind, Mismatch, RequestSummary, Stamp


def _isort_key(name: str) -> tuple[int, str]:
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def test_all_lists_exactly_the_public_names_sorted() -> None:
    expected = [
        "METHOD_ALL",
        "UNDEFINED",
        "URI_DEFAULT",
        "AllOf",
        "AnyOf",
        "BakedHTTPServer",
        "BlockingHTTPServer",
        "BlockingRequestHandler",
        "BooleanQueryMatcher",
        "CaseInsensitiveHeaderValueMatcher",
        "Error",
        "Fault",
        "Finding",
        "HTTPDoubleFailure",
        "HTTPDoubleUsageError",
        "HTTPServer",
        "HTTPServerError",
        "HandlerTimeout",
        "HandlerType",
        "HeaderValueMatcher",
        "Interception",
        "Kind",
        "Limits",
        "LogEntry",
        "MappingQueryMatcher",
        "MethodTypoWarning",
        "Mismatch",
        "NoHandlerError",
        "NoMethodFoundForMatchingHeaderValueError",
        "NonLoopbackWarning",
        "Not",
        "Outcome",
        "Part",
        "QueryMatcher",
        "RequestDispatcher",
        "RequestHandler",
        "RequestMatcher",
        "RequestMatcherKwargs",
        "RequestSummary",
        "RicherMatching",
        "SequenceUsedUp",
        "ServerSentEvent",
        "ServerStartError",
        "Stamp",
        "StreamedResponse",
        "StringQueryMatcher",
        "TLSCertificates",
        "URIPattern",
        "URITemplate",
        "Waiting",
        "WaitingSettings",
        "__version__",
        "add_secret_names",
        "intercept",
    ]
    assert httpdouble.__all__ == expected
    # Sorted the way ruff's RUF022 sorts: constants, then classes, then the rest.
    assert httpdouble.__all__ == sorted(httpdouble.__all__, key=_isort_key)


def test_every_public_name_exists_and_is_documented() -> None:
    for name in httpdouble.__all__:
        value = getattr(httpdouble, name)
        if isinstance(value, type):
            assert value.__doc__, f"{name} has no docstring"


def test_version_is_a_non_empty_string() -> None:
    assert isinstance(httpdouble.__version__, str)
    assert httpdouble.__version__


def test_exceptions_name_the_public_module() -> None:
    for name in ("Error", "HTTPDoubleUsageError", "ServerStartError", "HTTPDoubleFailure"):
        assert getattr(httpdouble, name).__module__ == "httpdouble"


def test_test_outcome_failures_are_assertion_errors_and_misuse_is_ours() -> None:
    assert issubclass(httpdouble.HTTPDoubleFailure, AssertionError)
    assert issubclass(httpdouble.HTTPDoubleUsageError, httpdouble.Error)
    assert issubclass(httpdouble.HTTPDoubleUsageError, TypeError)
    # pytest-httpserver raises ValueError for some bad arguments: code catching it still works.
    assert issubclass(httpdouble.HTTPDoubleUsageError, ValueError)
    assert issubclass(httpdouble.ServerStartError, httpdouble.HTTPServerError)
    assert issubclass(httpdouble.HTTPServerError, httpdouble.Error)


def _full_finding() -> Finding:
    return Finding(
        Kind.NO_HANDLER,
        Stamp("tests/test_x.py::test_y", None, "gw3", 1_700_000_000.25),
        RequestSummary(
            method="POST",
            path="/items",
            query="a=1&b=%20",
            headers=(("X-Trace", "abc"), ("Content-Type", "application/json")),
            body='{"id": 7}',
        ),
        expected="a request matching a registered handler",
        closest="GET '/items'",
        differences=(Mismatch("method", "'GET'", "'POST'"),),
        detail="line one\nline two",
        cause=ValueError("not carried"),
    )


def test_finding_round_trips_through_json_compatible_builtins() -> None:
    finding = _full_finding()
    builtins = finding.to_builtins()
    wire = json.loads(json.dumps(builtins))
    rebuilt = Finding.from_builtins(wire)
    assert rebuilt == finding
    assert rebuilt.cause is None
    assert rebuilt.render() == finding.render()


def test_finding_without_request_round_trips_too() -> None:
    finding = Finding(
        Kind.UNUSED,
        Stamp(None, "tests/test_x.py::test_before", "main", 12.5),
        expected="oneshot GET '/never'",
    )
    rebuilt = Finding.from_builtins(json.loads(json.dumps(finding.to_builtins())))
    assert rebuilt == finding
    assert rebuilt.request is None


def test_finding_builtins_contain_only_plain_types() -> None:
    def check(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                assert type(key) is str
                check(item)
        elif isinstance(value, list):
            for item in value:
                check(item)
        else:
            assert value is None or type(value) in (str, int, float, bool), repr(value)

    check(_full_finding().to_builtins())
