"""pytest-httpdouble: a real HTTP server on loopback for testing HTTP clients.

The public API is declared here, once. Modules starting with ``_`` are private.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The public names are imported on first access (PEP 562): ``import httpdouble.plugin``,
# which pytest does in every run, then imports no server code and no werkzeug (issue 15).
if TYPE_CHECKING:
    from ._blocking import BlockingHTTPServer, BlockingRequestHandler
    from ._composite import AllOf, AnyOf, Not
    from ._dispatch import RequestDispatcher
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
    from ._expectations import HandlerType, RequestHandler, SequenceUsedUp
    from ._findings import Finding, Kind, RequestSummary
    from ._headers import CaseInsensitiveHeaderValueMatcher, HeaderValueMatcher
    from ._log import LogEntry, Outcome, Stamp
    from ._matchers import Part
    from ._matching import (
        METHOD_ALL,
        UNDEFINED,
        URI_DEFAULT,
        RequestMatcher,
        RequestMatcherKwargs,
        URIPattern,
    )
    from ._mismatch import Mismatch
    from ._query import BooleanQueryMatcher, MappingQueryMatcher, QueryMatcher, StringQueryMatcher
    from ._registration import BakedHTTPServer, MethodTypoWarning
    from ._richer import RicherMatching
    from ._secret_names import add_secret_names
    from ._server import HTTPServer, NonLoopbackWarning
    from ._streaming import Fault, ServerSentEvent, StreamedResponse
    from ._template import URITemplate
    from ._tls import TLSCertificates
    from ._waiting import Waiting, WaitingSettings
    from ._wire import Limits

_LAZY: dict[str, str] = {
    "AllOf": "._composite",
    "AnyOf": "._composite",
    "BakedHTTPServer": "._registration",
    "BlockingHTTPServer": "._blocking",
    "BlockingRequestHandler": "._blocking",
    "BooleanQueryMatcher": "._query",
    "CaseInsensitiveHeaderValueMatcher": "._headers",
    "Error": "._errors",
    "Fault": "._streaming",
    "Finding": "._findings",
    "HTTPDoubleFailure": "._errors",
    "HTTPDoubleUsageError": "._errors",
    "HTTPServer": "._server",
    "HTTPServerError": "._errors",
    "HandlerTimeout": "._errors",
    "HandlerType": "._expectations",
    "HeaderValueMatcher": "._headers",
    "Kind": "._findings",
    "Limits": "._wire",
    "LogEntry": "._log",
    "METHOD_ALL": "._matching",
    "MappingQueryMatcher": "._query",
    "MethodTypoWarning": "._registration",
    "Mismatch": "._mismatch",
    "NoHandlerError": "._errors",
    "NoMethodFoundForMatchingHeaderValueError": "._errors",
    "NonLoopbackWarning": "._server",
    "Not": "._composite",
    "Outcome": "._log",
    "Part": "._matchers",
    "QueryMatcher": "._query",
    "RequestDispatcher": "._dispatch",
    "RequestHandler": "._expectations",
    "RequestMatcher": "._matching",
    "RequestMatcherKwargs": "._matching",
    "RequestSummary": "._findings",
    "RicherMatching": "._richer",
    "SequenceUsedUp": "._expectations",
    "ServerSentEvent": "._streaming",
    "ServerStartError": "._errors",
    "Stamp": "._log",
    "StreamedResponse": "._streaming",
    "StringQueryMatcher": "._query",
    "TLSCertificates": "._tls",
    "UNDEFINED": "._matching",
    "URIPattern": "._matching",
    "URITemplate": "._template",
    "URI_DEFAULT": "._matching",
    "Waiting": "._waiting",
    "WaitingSettings": "._waiting",
    "add_secret_names": "._secret_names",
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
