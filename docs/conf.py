"""Sphinx configuration. Built offline: no intersphinx, so third-party types are listed below."""

from __future__ import annotations

from importlib.metadata import version as _version

project = "pytest-httpdouble"
author = "pytest-httpdouble developers"
copyright = "the pytest-httpdouble developers"
release = _version("pytest-httpdouble")
version = ".".join(release.split(".")[:2])

# myst_parser reads CHANGELOG.md into the changelog page: one changelog, not two copies.
extensions = ["sphinx.ext.autodoc", "myst_parser"]

html_theme = "furo"
html_title = f"pytest-httpdouble {release}"
exclude_patterns = ["_build"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True, "show-inheritance": True}

nitpicky = True
# Types from other projects: without intersphinx (the build runs offline) Sphinx cannot link
# them, so each one is named here rather than silencing every missing reference.
nitpick_ignore = [
    ("py:class", "collections.abc.Sequence"),
    # Documented at its public path, httpdouble.httpserver.RequestHandlerList.
    ("py:class", "httpdouble._app.registry.RequestHandlerList"),
    # The base of our small immutable values (equality, repr, immutability): not public.
    ("py:class", "httpdouble._values.Value"),
    ("py:class", "_Exchange"),  # private: what a BlockingRequestHandler answers
    ("py:class", "werkzeug.wrappers.Request"),
    ("py:class", "werkzeug.wrappers.Response"),
    ("py:class", "werkzeug.wrappers.request.Request"),
    ("py:class", "werkzeug.wrappers.response.Response"),
    ("py:class", "werkzeug.datastructures.Headers"),
    ("py:class", "werkzeug.datastructures.MultiDict"),
    ("py:class", "werkzeug.datastructures.structures.MultiDict"),
    ("py:class", "werkzeug.datastructures.headers.Headers"),
    ("py:class", "MultiDict"),
    # The standard library, which intersphinx would link if the build could go online.
    ("py:class", "ssl.SSLContext"),
    ("py:class", "collections.abc.Callable"),
    ("py:class", "collections.abc.Awaitable"),
    ("py:class", "collections.abc.Iterator"),
    ("py:class", "collections.abc.Iterable"),
    ("py:class", "collections.abc.AsyncIterator"),
    ("py:class", "collections.abc.Mapping"),
    ("py:class", "enum.Enum"),
    ("py:class", "abc.ABC"),
    ("py:class", "WSGIEnvironment"),
    ("py:class", "StartResponse"),
    ("py:class", "pytest.Config"),
    ("py:class", "_pytest.config.Config"),
    # Private type aliases in signatures; the parameter descriptions spell out what they allow.
    ("py:class", "URIType"),
    ("py:class", "QueryStringType"),
    ("py:class", "HVMATCHER_T"),
    ("py:class", "HeaderComparator"),
    ("py:class", "FormSpec"),
    ("py:class", "MultipartSpec"),
    ("py:class", "HostType"),
    ("py:class", "httpdouble._matching.host.HostPattern"),
    ("py:class", "re.Pattern"),
    ("py:class", "Seconds"),  # a delay: seconds, or a (low, high) pair
    # The headers a respond_with_* takes; shown by name where the signature also names a
    # type imported only for annotations (streaming loads on first use: issue 27).
    ("py:class", "HeadersType"),
    # The private mixin of the registration shortcuts; its methods are documented on the server.
    ("py:class", "httpdouble._app.registration.Registration"),
    ("py:class", "Registration"),
    ("py:class", "Path"),
]
