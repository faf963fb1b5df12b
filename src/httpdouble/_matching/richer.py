"""The richer keyword arguments of a matcher, checked once and turned into checks.

``RequestMatcher(..., json_contains=..., form=...)`` hands them to :func:`build_checks`,
which refuses a wrong type with a message naming the argument and returns only the
checks that were asked for.
"""

from __future__ import annotations

import json as _json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import MultiDict

from .._errors import HTTPDoubleUsageError
from . import typed_kwargs_getattr

# The check classes are imported by the argument that asks for one: a matcher with none of
# them (most are) never loads the check module and its multipart decoder (issue 27).
if TYPE_CHECKING:
    from .checks import Check, DataForm, Part
    from .typed_kwargs import FormSpec, MultipartSpec
    from .typed_kwargs import RicherMatching as RicherMatching


# RicherMatching, a type for typing code, lives in .typed_kwargs: loaded on first access (issue
# 27, round 3: its annotations cost every import about 0.25 ms).
__getattr__ = typed_kwargs_getattr(__name__, frozenset({"RicherMatching"}))


def _usage(argument: str, expected: str, got: object, remedy: str) -> HTTPDoubleUsageError:
    return HTTPDoubleUsageError(argument, expected=expected, got=got, remedy=remedy)


def build_checks(
    *,
    json_contains: Any,
    json_unset: object,
    body_contains: str | bytes | None,
    body_regex: str | bytes | re.Pattern[str] | re.Pattern[bytes] | None,
    form: FormSpec | None,
    cookies: Mapping[str, str] | None,
    multipart: MultipartSpec | None,
) -> tuple[Check, ...]:
    """Validate the richer arguments once and return the checks they ask for.

    :raises HTTPDoubleUsageError: naming the argument, when one has the wrong type.
    """
    checks: list[Check] = []
    if json_contains is not json_unset:
        if not isinstance(json_contains, (dict, list)):
            raise _usage(
                "json_contains",
                "a dict (or list) of the keys and values the JSON body must hold",
                json_contains,
                "pass e.g. {'user': {'id': 1}}; use json= to compare a whole value",
            )
        try:
            _json.dumps(json_contains)
        except (TypeError, ValueError) as exc:
            raise _usage(
                "json_contains",
                "a JSON-serialisable value",
                json_contains,
                f"use dicts, lists, str, numbers, bool and None ({exc})",
            ) from None
        from .checks import JSONContains

        checks.append(JSONContains(json_contains))
    if body_contains is not None:
        if not isinstance(body_contains, (str, bytes)) or not body_contains:
            raise _usage(
                "body_contains",
                "a non-empty str (encoded as UTF-8) or bytes",
                body_contains,
                "pass the text the body must hold, e.g. body_contains='needle'",
            )
        needle = body_contains.encode("utf-8") if isinstance(body_contains, str) else body_contains
        from .checks import BodyContains

        checks.append(BodyContains(needle))
    if body_regex is not None:
        if isinstance(body_regex, (str, bytes)):
            try:
                body_regex = re.compile(body_regex)
            except re.error as exc:
                raise _usage(
                    "body_regex", "a valid regular expression", body_regex, str(exc)
                ) from None
        if not isinstance(body_regex, re.Pattern):
            raise _usage(
                "body_regex",
                "a regular expression: str, bytes or re.compile(...)",
                body_regex,
                "pass e.g. re.compile(r'id=[0-9]+')",
            )
        from .checks import BodyRegex

        checks.append(BodyRegex(body_regex))
    if form is not None:
        from .checks import FormFields

        checks.append(FormFields(_form_fields(form)))
    if cookies is not None:
        if not isinstance(cookies, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in cookies.items()
        ):
            raise _usage(
                "cookies",
                "a mapping of cookie name to str value",
                cookies,
                "write every value as a string, e.g. {'session': 'abc'}",
            )
        from .checks import Cookies

        checks.append(Cookies(tuple(cookies.items())))
    if multipart is not None:
        from .checks import MultipartParts

        checks.append(MultipartParts(_multipart_parts(multipart)))
    return tuple(checks)


def _form_fields(form: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    fields: list[tuple[str, tuple[str, ...]]] = []
    if isinstance(form, Mapping):
        for key, value in form.items():
            values = (value,) if isinstance(value, str) else value
            if not isinstance(key, str) or not (
                isinstance(values, (list, tuple)) and all(isinstance(v, str) for v in values)
            ):
                break
            fields.append((key, tuple(values)))
        else:
            return tuple(fields)
    raise _usage(
        "form",
        "a mapping of field name to a str value (or a list of them, in order)",
        form,
        "write every value as a string, e.g. {'qty': '2', 'tag': ['a', 'b']}",
    )


def _multipart_parts(multipart: object) -> tuple[tuple[str, Part], ...]:
    from .checks import Part

    parts: list[tuple[str, Part]] = []
    if isinstance(multipart, Mapping):
        for name, spec in multipart.items():
            if not isinstance(name, str):
                break
            if isinstance(spec, (bytes, str)):
                spec = Part(content=spec)
            if not isinstance(spec, Part):
                break
            parts.append((name, spec))
        else:
            return tuple(parts)
    raise _usage(
        "multipart",
        "a mapping of part name to its content (bytes or str) or a Part",
        multipart,
        "pass e.g. {'file': Part(b'data', filename='a.txt', content_type='text/plain')}",
    )


def data_form_check(data_form: object) -> DataForm:
    """Check ``data_form=`` once and return its check.

    :raises HTTPDoubleUsageError: when it is not a mapping of str to str.
    """
    all_values = isinstance(data_form, MultiDict)
    if isinstance(data_form, Mapping):
        fields: list[tuple[str, tuple[str, ...]]] = []
        for key in data_form:
            values = (
                data_form.getlist(key) if isinstance(data_form, MultiDict) else [data_form[key]]
            )
            if not isinstance(key, str) or not all(isinstance(v, str) for v in values):
                break
            fields.append((key, tuple(values)))
        else:
            from .checks import DataForm

            return DataForm(tuple(fields), all_values, data_form)
    raise _usage(
        "data_form",
        "a mapping of field name to str value (the first value of each field is compared),"
        " or a werkzeug MultiDict (every value is compared)",
        data_form,
        "write every value as a string; for several values of one field pass"
        " MultiDict([('tag', 'a'), ('tag', 'b')]), or use form={'tag': ['a', 'b']}"
        " to name only some fields",
    )
