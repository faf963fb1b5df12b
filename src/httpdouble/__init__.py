"""pytest-httpdouble: a real HTTP server on loopback for testing HTTP clients.

The public API is declared here, once. Modules starting with ``_`` are private.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

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
from ._log import LogEntry, Outcome, Stamp
from ._matchers import Part
from ._matching import (
    METHOD_ALL,
    UNDEFINED,
    URI_DEFAULT,
    HeaderValueMatcher,
    Mismatch,
    RequestMatcher,
    RequestMatcherKwargs,
    URIPattern,
)
from ._query import BooleanQueryMatcher, MappingQueryMatcher, QueryMatcher, StringQueryMatcher
from ._registration import BakedHTTPServer, MethodTypoWarning
from ._richer import RicherMatching
from ._server import HTTPServer, NonLoopbackWarning
from ._streaming import Fault, ServerSentEvent, StreamedResponse
from ._template import URITemplate
from ._tls import TLSCertificates
from ._waiting import Waiting, WaitingSettings
from ._wire import Limits

try:
    __version__ = version("pytest-httpdouble")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

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
]
