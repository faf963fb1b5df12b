"""pytest-httpserver's module paths: every public name, handed on and nothing more.

The lists are the names pytest-httpserver 1.1.5 and 1.2.1 have in each module (facts of its
API; 1.2.1 added ``CaseInsensitiveHeaderValueMatcher`` to the first two),
so that renaming ``pytest_httpserver`` to ``httpdouble`` in a suite keeps every import working.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

UPSTREAM_NAMES = {
    "httpdouble": [
        "METHOD_ALL",
        "URI_DEFAULT",
        "BakedHTTPServer",
        "BlockingHTTPServer",
        "BlockingRequestHandler",
        "CaseInsensitiveHeaderValueMatcher",
        "Error",
        "HTTPServer",
        "HTTPServerError",
        "HeaderValueMatcher",
        "NoHandlerError",
        "RequestHandler",
        "RequestMatcher",
        "RequestMatcherKwargs",
        "URIPattern",
        "WaitingSettings",
    ],
    "httpdouble.httpserver": [
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
    ],
    "httpdouble.hooks": ["Chain", "Delay", "Garbage", "Request", "Response"],
    "httpdouble.bake": ["BakedHTTPServer"],
    "httpdouble.blocking_httpserver": ["BlockingHTTPServer", "BlockingRequestHandler"],
    "httpdouble.pytest_plugin": [
        "Plugin",
        "PluginHTTPServer",
        "get_httpserver_listen_address",
        "httpserver",
        "httpserver_ipv4",
        "httpserver_ipv6",
        "httpserver_listen_address",
        "httpserver_ssl_context",
        "make_httpserver",
        "make_httpserver_ipv4",
        "make_httpserver_ipv6",
    ],
}

MIRRORS = [name for name in UPSTREAM_NAMES if name != "httpdouble"]


@pytest.mark.parametrize("module_name", list(UPSTREAM_NAMES))
def test_every_upstream_name_imports_from_the_same_path(module_name: str) -> None:
    module = importlib.import_module(module_name)
    missing = [name for name in UPSTREAM_NAMES[module_name] if not hasattr(module, name)]
    assert missing == []


@pytest.mark.parametrize("module_name", MIRRORS)
def test_a_mirror_module_only_hands_names_on(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(UPSTREAM_NAMES[module_name])
    source = inspect.getsource(module)
    # Imports, __all__ and a docstring: no def, no class, no logic of its own.
    assert "def " not in source
    assert "class " not in source
    for name in module.__all__:
        value = getattr(module, name)
        assert getattr(value, "__module__", "") != module_name, name


def test_the_mirrors_give_the_same_objects_as_the_package() -> None:
    import httpdouble
    from httpdouble import bake, hooks, httpserver, pytest_plugin

    assert httpserver.HTTPServer is httpdouble.HTTPServer
    assert httpserver.RequestMatcher is httpdouble.RequestMatcher
    assert bake.BakedHTTPServer is httpdouble.BakedHTTPServer
    assert pytest_plugin.PluginHTTPServer is httpdouble.HTTPServer
    assert hooks.Request is httpserver.Request
