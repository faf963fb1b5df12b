"""pytest-httpserver's ``pytest_httpserver.pytest_plugin`` path: names only, no logic.

The plugin itself is :mod:`httpdouble.plugin`, loaded through its entry point.
"""

from ._pytest.fixtures import (
    Plugin,
    PluginHTTPServer,
    get_httpserver_listen_address,
    httpserver,
    httpserver_ipv4,
    httpserver_ipv6,
    httpserver_listen_address,
    httpserver_ssl_context,
    make_httpserver,
    make_httpserver_ipv4,
    make_httpserver_ipv6,
)

__all__ = [
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
]
