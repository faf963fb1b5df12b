"""pytest-httpserver's ``pytest_httpserver.httpserver`` path: names only, no logic."""

from werkzeug.datastructures import Authorization, MultiDict
from werkzeug.wrappers import Request, Response

from ._errors import (
    Error,
    HTTPServerError,
    NoHandlerError,
    NoMethodFoundForMatchingHeaderValueError,
)
from ._expectations import HandlerType, RequestHandler
from ._expectations import HeadersType as HEADERS_T
from ._expectations import RequestHandler as RequestHandlerBase
from ._headers import CaseInsensitiveHeaderValueMatcher, HeaderValueMatcher
from ._matching import (
    HVMATCHER_T,
    METHOD_ALL,
    UNDEFINED,
    URI_DEFAULT,
    RequestMatcher,
    RequestMatcherKwargs,
    URIPattern,
)
from ._matching import _Undefined as Undefined
from ._query import BooleanQueryMatcher, MappingQueryMatcher, QueryMatcher, StringQueryMatcher
from ._registration import BakedHTTPServer
from ._registry import RequestHandlerList
from ._server import HTTPServer
from ._server import HTTPServer as HTTPServerBase
from ._waiting import Waiting, WaitingSettings

__all__ = [
    "HEADERS_T",
    "HVMATCHER_T",
    "METHOD_ALL",
    "UNDEFINED",
    "URI_DEFAULT",
    "Authorization",
    "BakedHTTPServer",
    "BooleanQueryMatcher",
    "CaseInsensitiveHeaderValueMatcher",
    "Error",
    "HTTPServer",
    "HTTPServerBase",
    "HTTPServerError",
    "HandlerType",
    "HeaderValueMatcher",
    "MappingQueryMatcher",
    "MultiDict",
    "NoHandlerError",
    "NoMethodFoundForMatchingHeaderValueError",
    "QueryMatcher",
    "Request",
    "RequestHandler",
    "RequestHandlerBase",
    "RequestHandlerList",
    "RequestMatcher",
    "RequestMatcherKwargs",
    "Response",
    "StringQueryMatcher",
    "URIPattern",
    "Undefined",
    "Waiting",
    "WaitingSettings",
]
