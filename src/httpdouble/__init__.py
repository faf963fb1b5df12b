"""pytest-httpdouble: a real HTTP server on loopback for testing HTTP clients.

The public API is declared here, once. Modules starting with ``_`` are private.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The public names are imported on first access (PEP 562): ``import httpdouble.plugin``,
# which pytest does in every run, then imports no server code and no werkzeug (issue 15).
if TYPE_CHECKING:
    from ._app.dispatch import RequestDispatcher
    from ._app.expectations import HandlerType, RequestHandler, SequenceUsedUp
    from ._app.registration import BakedHTTPServer, MethodTypoWarning
    from ._app.streaming import Fault, ServerSentEvent, StreamedResponse
    from ._app.waiting import Waiting, WaitingSettings
    from ._errors import (
        Error,
        HandlerTimeout,
        HTTPDoubleFailure,
        HTTPDoubleUsageError,
        HTTPServerError,
        NoHandlerError,
        NoMethodFoundForMatchingHeaderValueError,
        ServerStartError,
    )
    from ._intercept.interception import Interception, intercept
    from ._log.request_log import LogEntry, Outcome, Stamp
    from ._matching.checks import Part
    from ._matching.composite import AllOf, AnyOf, Not
    from ._matching.headers import CaseInsensitiveHeaderValueMatcher, HeaderValueMatcher
    from ._matching.mismatch import Mismatch
    from ._matching.query import (
        BooleanQueryMatcher,
        MappingQueryMatcher,
        QueryMatcher,
        StringQueryMatcher,
    )
    from ._matching.request_matcher import (
        METHOD_ALL,
        UNDEFINED,
        URI_DEFAULT,
        RequestMatcher,
        RequestMatcherKwargs,
        URIPattern,
    )
    from ._matching.richer import RicherMatching
    from ._matching.secret_names import add_secret_names
    from ._matching.uri_template import URITemplate
    from ._report.findings import Finding, Kind
    from ._report.request_summary import RequestSummary
    from ._server.blocking import BlockingHTTPServer, BlockingRequestHandler
    from ._server.server import HTTPServer, NonLoopbackWarning
    from ._server.tls import TLSCertificates
    from ._wire.request import Limits

_LAZY: dict[str, str] = {
    "AllOf": "._matching.composite",
    "AnyOf": "._matching.composite",
    "BakedHTTPServer": "._app.registration",
    "BlockingHTTPServer": "._server.blocking",
    "BlockingRequestHandler": "._server.blocking",
    "BooleanQueryMatcher": "._matching.query",
    "CaseInsensitiveHeaderValueMatcher": "._matching.headers",
    "Error": "._errors",
    "Fault": "._app.streaming",
    "Finding": "._report.findings",
    "HTTPDoubleFailure": "._errors",
    "HTTPDoubleUsageError": "._errors",
    "HTTPServer": "._server.server",
    "HTTPServerError": "._errors",
    "HandlerTimeout": "._errors",
    "HandlerType": "._app.expectations",
    "HeaderValueMatcher": "._matching.headers",
    "Interception": "._intercept.interception",
    "intercept": "._intercept.interception",
    "Kind": "._report.findings",
    "Limits": "._wire.request",
    "LogEntry": "._log.request_log",
    "METHOD_ALL": "._matching.request_matcher",
    "MappingQueryMatcher": "._matching.query",
    "MethodTypoWarning": "._app.registration",
    "Mismatch": "._matching.mismatch",
    "NoHandlerError": "._errors",
    "NoMethodFoundForMatchingHeaderValueError": "._errors",
    "NonLoopbackWarning": "._server.server",
    "Not": "._matching.composite",
    "Outcome": "._log.request_log",
    "Part": "._matching.checks",
    "QueryMatcher": "._matching.query",
    "RequestDispatcher": "._app.dispatch",
    "RequestHandler": "._app.expectations",
    "RequestMatcher": "._matching.request_matcher",
    "RequestMatcherKwargs": "._matching.typed_kwargs",
    "RequestSummary": "._report.request_summary",
    "RicherMatching": "._matching.typed_kwargs",
    "SequenceUsedUp": "._app.expectations",
    "ServerSentEvent": "._app.streaming",
    "ServerStartError": "._errors",
    "Stamp": "._log.request_log",
    "StreamedResponse": "._app.streaming",
    "StringQueryMatcher": "._matching.query",
    "TLSCertificates": "._server.tls",
    "UNDEFINED": "._matching.request_matcher",
    "URIPattern": "._matching.request_matcher",
    "URITemplate": "._matching.uri_template",
    "URI_DEFAULT": "._matching.request_matcher",
    "Waiting": "._app.waiting",
    "WaitingSettings": "._app.waiting",
    "add_secret_names": "._matching.secret_names",
}


def _version() -> str:
    # Read on first use: importlib.metadata scans the installed distributions (2 ms).
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pytest-httpdouble")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


__all__ = [
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


def __getattr__(name: str) -> Any:
    if name == "__version__":
        globals()[name] = value = _version()
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # the next access does not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
