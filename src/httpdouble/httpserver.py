"""pytest-httpserver's ``pytest_httpserver.httpserver`` path: names only, no logic."""

from werkzeug.datastructures import Authorization, MultiDict
from werkzeug.wrappers import Request, Response

from ._app.expectations import HandlerType, RequestHandler
from ._app.expectations import HeadersType as HEADERS_T
from ._app.expectations import RequestHandler as RequestHandlerBase
from ._app.registration import BakedHTTPServer
from ._app.registry import RequestHandlerList
from ._app.waiting import Waiting, WaitingSettings
from ._errors import (
    Error,
    HTTPServerError,
    NoHandlerError,
    NoMethodFoundForMatchingHeaderValueError,
)
from ._matching.headers import CaseInsensitiveHeaderValueMatcher, HeaderValueMatcher
from ._matching.query import (
    BooleanQueryMatcher,
    MappingQueryMatcher,
    QueryMatcher,
    StringQueryMatcher,
)
from ._matching.request_matcher import (
    HVMATCHER_T,
    METHOD_ALL,
    UNDEFINED,
    URI_DEFAULT,
    RequestMatcher,
    RequestMatcherKwargs,
    URIPattern,
)
from ._matching.request_matcher import _Undefined as Undefined
from ._server.server import HTTPServer
from ._server.server import HTTPServer as HTTPServerBase

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
