"""Which registered matcher a request was meant for, and which handler hides another.

Both questions are asked only when something went wrong (a request no handler took,
an expectation never used): they compare strings and walk every handler, which the
per-request lookup never does.
"""

from __future__ import annotations

import difflib
import json as _json
import re
from collections.abc import Iterable
from typing import Any

from werkzeug.wrappers import Request

from .headers import HeaderValueMatcher
from .json_equality import json_equal
from .mismatch import Mismatch
from .query import BooleanQueryMatcher, MappingQueryMatcher, StringQueryMatcher
from .request_matcher import METHOD_ALL, UNDEFINED, URI_DEFAULT, RequestMatcher


def closest(
    matchers: Iterable[RequestMatcher], request: Request
) -> tuple[RequestMatcher, list[Mismatch]] | None:
    """Return the matcher a person would pick as meant for ``request``, and how it differs.

    Candidates are ranked by :func:`similarity`; ties go to the more specific matcher
    (more fields constrained), then to the first one registered. ``None`` when there
    are none. Runs only when something went wrong: it compares strings.
    """
    best: tuple[float, int, RequestMatcher, list[Mismatch]] | None = None
    for matcher in matchers:
        diff = matcher.difference(request)
        score = similarity(matcher, request, diff)
        specific = specificity(matcher)
        if best is None or (score, specific) > (best[0], best[1]):
            best = (score, specific, matcher, diff)
    return None if best is None else (best[2], best[3])


# Weights of the fields in similarity(): the path says most about what a handler is for.
_URI_WEIGHT = 4.0
_METHOD_WEIGHT = 2.0
_HOST_WEIGHT = 2.0  # the host says which service a request was for
_OTHER_WEIGHT = 1.0
# A field that differs counts at most this share of its weight, scaled by how alike
# the texts are: a near miss on the path beats a wrong method, never a right field.
_NEAR_MISS = 0.6
_COMPARED_CHARS = 400


def text_ratio(expected: str, actual: str) -> float:
    """How alike two texts are, from 0 to 1 (difflib's ratio on their first characters)."""
    return difflib.SequenceMatcher(
        None, expected[:_COMPARED_CHARS], actual[:_COMPARED_CHARS], autojunk=False
    ).ratio()


def similarity(matcher: RequestMatcher, request: Request, diff: list[Mismatch]) -> float:
    """Score how close ``request`` comes to ``matcher``: higher is closer.

    Every field the request meets (or the matcher leaves free) earns its weight; a
    field that differs earns part of it, by how alike expected and actual text are.
    """
    fields = {m.field.split(" ", 1)[0] for m in diff}
    score = 0.0
    if "uri" in fields:
        uri = matcher.uri
        pattern = uri.pattern if isinstance(uri, re.Pattern) else getattr(uri, "template", uri)
        if isinstance(pattern, str):
            score += _URI_WEIGHT * _NEAR_MISS * text_ratio(pattern, request.path)
    else:
        score += _URI_WEIGHT
    if "method" not in fields:
        score += _METHOD_WEIGHT
    host, share = matcher.host_matcher, 1.0
    if host is not None and "host" in fields:
        share = _NEAR_MISS * text_ratio(host.describe_host().strip("'"), request.host)
    if host is not None and "scheme" in fields:
        share *= _NEAR_MISS
    score += _HOST_WEIGHT * share
    if "query_string" in fields:
        shown = matcher.query_matcher.describe() if matcher.query_matcher else ""
        actual = request.query_string.decode("latin-1")
        score += _OTHER_WEIGHT * _NEAR_MISS * text_ratio(shown.strip("'{}"), actual)
    else:
        score += _OTHER_WEIGHT
    if matcher.headers:
        missed = [m for m in diff if m.field.startswith("header ")]
        near = sum(text_ratio(m.expected, m.actual) for m in missed) * _NEAR_MISS
        score += _OTHER_WEIGHT * (len(matcher.headers) - len(missed) + near) / len(matcher.headers)
    else:
        score += _OTHER_WEIGHT
    if fields & {"data", "json", "form"} and (
        matcher.data is not None or matcher.json is not UNDEFINED
    ):
        expected_body = (
            matcher.data.decode("utf-8", "replace")
            if matcher.data is not None
            else _json.dumps(_plain_json(matcher.json), sort_keys=True)
        )
        body = request.get_data().decode("utf-8", "replace")
        score += _OTHER_WEIGHT * _NEAR_MISS * text_ratio(expected_body, _canonical_json(body))
    else:
        score += _OTHER_WEIGHT
    if matcher.checks:
        # The richer checks (json_contains, form, cookies, ...): each kind met earns its share.
        kinds_missed = len(fields & _CHECK_FIELDS)
        score += _OTHER_WEIGHT * (len(matcher.checks) - kinds_missed) / len(matcher.checks)
    return score


_CHECK_FIELDS = frozenset(
    {"json_contains", "body_contains", "body_regex", "form", "cookie", "multipart"}
)


def _plain_json(value: Any) -> Any:
    return _json.loads(_json.dumps(value, default=str))


def _canonical_json(body: str) -> str:
    try:
        return _json.dumps(_json.loads(body), sort_keys=True)
    except (ValueError, RecursionError):
        return body


def specificity(matcher: RequestMatcher) -> int:
    """How many fields ``matcher`` constrains (each header counts once)."""
    return (
        (matcher.method != METHOD_ALL)
        + (matcher.uri != URI_DEFAULT if isinstance(matcher.uri, str) else True)
        + (matcher.query_matcher is not None)
        + (matcher.host_matcher is not None)
        + len(matcher.headers)
        + (matcher.data is not None)
        + (matcher.json is not UNDEFINED)
        + len(matcher.checks)
    )


# ------------------------------------------------------------------ shadowing


def covers(earlier: RequestMatcher, later: RequestMatcher) -> bool:
    """Whether ``earlier`` matches every request ``later`` would match.

    Conservative: ``True`` only when each constraint of ``earlier`` is provably met by
    every request ``later`` accepts (a free field, the same value, a regex that matches
    ``later``'s exact path). Patterns, custom query matchers and custom header
    comparators count only when they are the very same object; subclasses of
    :class:`RequestMatcher` (which may match differently) never count.
    """
    if type(earlier) is not RequestMatcher or type(later) is not RequestMatcher:
        return False
    if earlier.method != METHOD_ALL and earlier.exact_method != later.exact_method:
        return False
    if not _uri_covers(earlier.uri, later.uri):
        return False
    if earlier.host_matcher is not None and earlier.host_matcher != later.host_matcher:
        return False
    if earlier.query_matcher is not None and not _query_covers(earlier, later):
        return False
    if earlier.headers:
        if not _same_comparison(earlier.header_value_matcher, later.header_value_matcher):
            return False
        later_headers = {k.lower(): v for k, v in later.headers.items()}
        if any(later_headers.get(k.lower()) != v for k, v in earlier.headers.items()):
            return False
    if earlier.data is not None and earlier.data != later.data:
        return False
    if any(check not in later.checks for check in earlier.checks):
        return False
    return earlier.json is UNDEFINED or (
        later.json is not UNDEFINED and json_equal(earlier.json, _plain_json(later.json))
    )


def _uri_covers(earlier: object, later: object) -> bool:
    if isinstance(earlier, str) and earlier == URI_DEFAULT:
        return True
    if isinstance(earlier, str) and isinstance(later, str):
        return later != URI_DEFAULT and earlier == later
    if isinstance(earlier, re.Pattern):
        if isinstance(later, re.Pattern):
            return (earlier.pattern, earlier.flags) == (later.pattern, later.flags)
        return isinstance(later, str) and later != URI_DEFAULT and earlier.match(later) is not None
    return earlier is later


def _query_covers(earlier: RequestMatcher, later: RequestMatcher) -> bool:
    mine, theirs = earlier.query_matcher, later.query_matcher
    if mine is theirs:
        return True
    if type(mine) is BooleanQueryMatcher:
        return mine.result  # BooleanQueryMatcher(False) matches nothing, so hides nothing
    if type(mine) is StringQueryMatcher and type(theirs) is StringQueryMatcher:
        return mine.query_string == theirs.query_string
    if type(mine) is MappingQueryMatcher and type(theirs) is MappingQueryMatcher:
        return mine.query_dict == theirs.query_dict and mine.first_only == theirs.first_only
    return False


def _same_comparison(first: object, second: object) -> bool:
    """Whether two header value matchers surely compare alike: the same object, or two
    plain :class:`HeaderValueMatcher` over the same comparators (each matcher gets its own
    default one)."""
    if first is second:
        return True
    return (
        type(first) is HeaderValueMatcher
        and type(second) is HeaderValueMatcher
        and first.matchers is second.matchers
    )
