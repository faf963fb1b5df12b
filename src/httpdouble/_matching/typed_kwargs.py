"""The keyword arguments of a matcher as ``TypedDict`` types, for typing code only.

:class:`RicherMatching` and :class:`RequestMatcherKwargs` are public at their old paths
(``richer``, ``request_matcher``, ``httpdouble``, ``httpdouble.httpserver``), which load
this module on first access: no request needs them, and their annotations cost every
import about 0.25 ms (issue 27, round 3).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from .query import QueryStringType

if TYPE_CHECKING:
    from .checks import Part
    from .host import HostType

MultipartSpec = Mapping[str, "bytes | str | Part"]
FormSpec = Mapping[str, str | list[str] | tuple[str, ...]]


class RicherMatching(TypedDict, total=False):
    """The richer keyword arguments of :class:`RequestMatcher` and ``expect_*``.

    .. versionadded:: 0.2

    .. versionchanged:: 0.4
       ``host``.
    """

    json_contains: Any
    body_contains: str | bytes | None
    body_regex: str | bytes | re.Pattern[str] | re.Pattern[bytes] | None
    form: FormSpec | None
    cookies: Mapping[str, str] | None
    multipart: MultipartSpec | None
    host: HostType | None


class RequestMatcherKwargs(RicherMatching, total=False):
    """The keyword arguments of ``expect_request()`` and its twins, besides ``uri``.

    For typing code that passes them around, as with ``bake(**kwargs)``.
    """

    method: str
    data: str | bytes | None
    data_encoding: str
    headers: Mapping[str, str] | None
    query_string: QueryStringType
    header_value_matcher: Callable[[str, str | None, str], bool] | None  # HVMATCHER_T
    json: Any
    data_form: Mapping[str, str] | None
