"""pytest-httpserver's ``pytest_httpserver.httpserver`` path: names only, no logic."""

from typing import TYPE_CHECKING

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
from ._matching import typed_kwargs_getattr
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
    URIPattern,
)
from ._matching.request_matcher import _Undefined as Undefined
from ._server.server import HTTPServer
from ._server.server import HTTPServer as HTTPServerBase

if TYPE_CHECKING:
    from ._matching.typed_kwargs import RequestMatcherKwargs


# RequestMatcherKwargs is handed on at first access (a type for typing code; issue 27).
__getattr__ = typed_kwargs_getattr(__name__, frozenset({"RequestMatcherKwargs"}))


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
