"""The richer body and header checks of a :class:`RequestMatcher`.

``json_contains=``, ``body_contains=``, ``body_regex=``, ``form=``, ``cookies=`` and
``multipart=`` each become one small check object, built once at registration. A
matcher keeps only the checks that were asked for, so a field left unset costs
nothing per request. Each check answers ``match`` fast and explains itself, line by
line, in ``differences`` (run only on a miss).

This module knows nothing of :class:`RequestMatcher`; the matcher turns the
``(field, expected, actual)`` triples into :class:`Mismatch` lines.
"""

from __future__ import annotations

import abc
import enum
import io
import json as _json
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypedDict

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.formparser import FormDataParser
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData
from werkzeug.wrappers import Request

from .bodydiff import (
    Difference,
    bounded,
    json_subset_differences,
    mapping_differences,
    mapping_subset_differences,
)
from .json_equality import json_equal as json_equal  # its home before issue 27

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _short(value: object, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _lines(field: str, found: list[Difference]) -> list[Difference]:
    return [
        (f"{field} {where}" if where else field, expected, actual)
        for where, expected, actual in bounded(found)
    ]


def json_contains(expected: Any, actual: Any) -> bool:
    """Whether decoded JSON ``actual`` holds ``expected``: objects may have more keys.

    Lists compare item by item, by position, and must be as long; inside them the
    same rule applies. Scalars compare as ``json=`` does: ``true`` is not ``1``.
    """
    if isinstance(expected, enum.Enum):
        expected = expected.value
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and json_contains(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, (list, tuple)):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(json_contains(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return expected == actual
    return type(expected) is type(actual) and bool(expected == actual)


class Check(abc.ABC):
    """One richer expectation on a request: matched fast, explained on a miss."""

    __slots__ = ()
    # Whether match() reads the body: the dispatcher then reads it before its lock.
    reads_body: ClassVar[bool] = True

    @abc.abstractmethod
    def match(self, request: Request) -> bool:
        """Return whether ``request`` meets this expectation."""

    @abc.abstractmethod
    def differences(self, request: Request) -> list[Difference]:
        """Return ``(field, expected, actual)`` lines; empty when ``request`` matches."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Return the expectation as short readable text."""

    def upstream_values(self, request: Request) -> tuple[Any, Any] | None:
        """``(actual, expected)`` as pytest-httpserver's ``difference()`` gives them, if any."""
        return None


def _decoded_json(request: Request) -> tuple[bool, Any]:
    try:
        return True, _json.loads(request.get_data())
    except (ValueError, RecursionError):  # RecursionError: nested too deep to decode
        return False, None


@dataclass(frozen=True, slots=True)
class JSONContains(Check):
    """``json_contains=``: the body is JSON holding at least these keys and values."""

    expected: Any

    def match(self, request: Request) -> bool:
        ok, decoded = _decoded_json(request)
        return ok and json_contains(self.expected, decoded)

    def differences(self, request: Request) -> list[Difference]:
        if self.match(request):
            return []
        body = request.get_data()
        try:
            decoded = _json.loads(body)
        except (ValueError, RecursionError) as exc:
            shown = f"a body that is not valid JSON ({exc.args[0]}): {_short(body)}"
            return [("json_contains", _short(self.expected), shown)]
        return _lines("json_contains", json_subset_differences(self.expected, decoded))

    def describe(self) -> str:
        return f"json_contains {_short(self.expected, 80)}"


@dataclass(frozen=True, slots=True)
class BodyContains(Check):
    """``body_contains=``: the raw body holds these bytes somewhere."""

    needle: bytes

    def match(self, request: Request) -> bool:
        return self.needle in request.get_data()

    def differences(self, request: Request) -> list[Difference]:
        body = request.get_data()
        if self.needle in body:
            return []
        return [
            ("body_contains", f"a body containing {self.needle!r}", _shown_body(body)),
        ]

    def describe(self) -> str:
        return f"body_contains {_short(self.needle, 80)}"


@dataclass(frozen=True, slots=True)
class BodyRegex(Check):
    """``body_regex=``: ``pattern.search`` finds a match in the body.

    A ``bytes`` pattern searches the raw body; a ``str`` pattern searches the body
    decoded with the request's charset (UTF-8 when it names none; bad bytes replaced).
    """

    pattern: re.Pattern[str] | re.Pattern[bytes]

    def _subject(self, request: Request) -> str | bytes:
        body = request.get_data()
        if isinstance(self.pattern.pattern, bytes):
            return body
        charset = request.mimetype_params.get("charset", "utf-8")
        try:
            return body.decode(charset, "replace")
        except (LookupError, UnicodeError, ValueError):  # unknown, or no "replace" for it
            return body.decode("utf-8", "replace")

    def match(self, request: Request) -> bool:
        return self.pattern.search(self._subject(request)) is not None  # type: ignore[arg-type]

    def differences(self, request: Request) -> list[Difference]:
        if self.match(request):
            return []
        return [
            (
                "body_regex",
                f"a body matching regex {self.pattern.pattern!r}",
                _shown_body(request.get_data()),
            )
        ]

    def describe(self) -> str:
        return f"body_regex {self.pattern.pattern!r}"


def _shown_body(body: bytes) -> str:
    return "an empty body" if not body else f"{_short(body)} ({len(body)} bytes)"


def _in_memory(*args: object, **kwargs: object) -> io.BytesIO:
    return io.BytesIO()


def _parsed_form(request: Request) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
    # Parsed from the cached body into memory, never through request.form: that
    # would leave the request holding temporary files nobody closes, and change what
    # the handler sees.
    body = request.get_data()
    parser = FormDataParser(stream_factory=_in_memory)
    _, form, files = parser.parse(
        io.BytesIO(body), request.mimetype, len(body), request.mimetype_params
    )
    return form, files


def _form_of(request: Request) -> dict[str, list[str]] | None:
    if request.mimetype not in FORM_TYPES:
        return None
    form, _ = _parsed_form(request)
    return {key: form.getlist(key) for key in form}


@dataclass(frozen=True, slots=True)
class FormFields(Check):
    """``form=``: a urlencoded or multipart form has at least these fields and values."""

    fields: tuple[tuple[str, tuple[str, ...]], ...]

    def _expected(self) -> dict[str, list[str]]:
        return {key: list(values) for key, values in self.fields}

    def match(self, request: Request) -> bool:
        form = _form_of(request)
        return form is not None and all(
            form.get(key) == list(values) for key, values in self.fields
        )

    def differences(self, request: Request) -> list[Difference]:
        form = _form_of(request)
        if form is None:
            return [
                (
                    "form",
                    f"a form body ({' or '.join(FORM_TYPES)})",
                    f"Content-Type {request.headers.get('Content-Type', 'none')!r}",
                )
            ]
        return _lines("form", mapping_subset_differences(self._expected(), form))

    def describe(self) -> str:
        return f"form {_short(self._expected(), 80)}"


@dataclass(frozen=True, slots=True)
class DataForm(Check):
    """``data_form=`` (pytest-httpserver 1.2.1): the parsed form has exactly these fields.

    A plain mapping compares each field's first value; a werkzeug ``MultiDict`` compares
    every value of each field, in order. Fields not named must be absent. A body that is not
    a form (by its ``Content-Type``) has no fields. Parsed from the cached body, so a
    handler still reads the raw body and ``request.form``.
    """

    fields: tuple[tuple[str, tuple[str, ...]], ...]
    all_values: bool
    given: Any = field(compare=False, repr=False)  # as passed, for upstream's difference tuple

    def _expected(self) -> dict[str, list[str]]:
        return {key: list(values) for key, values in self.fields}

    def _sent(self, request: Request) -> tuple[MultiDict[str, str], dict[str, list[str]]]:
        form = _parsed_form(request)[0] if request.mimetype in FORM_TYPES else MultiDict()
        if self.all_values:
            return form, {key: form.getlist(key) for key in form}
        return form, {key: [value] for key, value in form.items()}

    def match(self, request: Request) -> bool:
        return self._sent(request)[1] == self._expected()

    def differences(self, request: Request) -> list[Difference]:
        sent = self._sent(request)[1]
        found = mapping_differences(self._expected(), sent)
        if not found:
            return []
        shown = _short(sent if self.all_values else {k: v[0] for k, v in sent.items()})
        if request.mimetype not in FORM_TYPES:
            shown = (
                f"no form fields: Content-Type {request.headers.get('Content-Type', 'none')!r}"
                f" is not {' or '.join(FORM_TYPES)}"
            )
        else:
            shown += " (" + "; ".join(_form_line(*line) for line in bounded(found)) + ")"
        return [("data_form", self.describe().partition("=")[2], shown)]

    def upstream_values(self, request: Request) -> tuple[Any, Any] | None:
        return self._sent(request)[0], self.given

    def describe(self) -> str:
        if self.all_values:
            return f"data_form={_short(self._expected(), 120)}"
        return f"data_form={_short({k: v[0] for k, v in self.fields}, 120)}"


def _form_line(where: str, expected: str, actual: str) -> str:
    if actual.startswith(("missing field", "extra field")) or not where:
        return actual or where
    return f"{where} {actual} instead of {expected}"


@dataclass(frozen=True, slots=True)
class Cookies(Check):
    """``cookies=``: the ``Cookie`` header holds at least these cookies with these values."""

    reads_body: ClassVar[bool] = False

    cookies: tuple[tuple[str, str], ...]

    def match(self, request: Request) -> bool:
        sent = request.cookies
        return all(sent.get(name) == value for name, value in self.cookies)

    def differences(self, request: Request) -> list[Difference]:
        # Cookie values are credentials, masked as the Cookie header is, with the place
        # where they first differ; HTTPDOUBLE_SHOW_SECRETS=1 shows them in full.
        from .secret_names import first_difference  # late: _masking imports _matching

        sent = request.cookies
        found: list[Difference] = []
        for name, value in self.cookies:
            actual = sent.get(name)
            if actual == value:
                continue
            if actual is None:
                shown = f"no cookie {name!r} (cookies sent: {sorted(sent)})"
            else:
                shown = _secret(actual)
                position = first_difference(value, actual)
                if shown != repr(actual) and position is not None:
                    shown += f" (differ at char {position})"
            found.append((f"cookie {name}", _secret(value), shown))
        return found

    def describe(self) -> str:
        return "cookies " + ", ".join(f"{name}={_secret(value)}" for name, value in self.cookies)


def _secret(value: str) -> str:
    from .secret_names import mask, showing_secrets  # late: _masking imports _matching

    return repr(value if showing_secrets() else mask(value))


@dataclass(frozen=True, slots=True)
class Part:
    """What one part of a ``multipart/form-data`` body must hold.

    Each field left ``None`` is not compared.

    :param content: the part's content (``str`` is encoded as UTF-8).
    :param filename: the ``filename`` the part declares.
    :param content_type: the part's ``Content-Type`` (without parameters).

    .. versionadded:: 0.2
    """

    content: bytes | str | None = None
    filename: str | None = None
    content_type: str | None = None


class _SentPart(TypedDict):
    content: bytes
    filename: str | None
    content_type: str | None


def _parts_of(request: Request) -> dict[str, _SentPart] | None:
    """Every part of a ``multipart/form-data`` body by name (the first of a name), raw.

    Read with werkzeug's sans-IO decoder, so a part keeps its bytes and its own
    ``Content-Type`` whether or not it has a filename. ``None`` when the body is not
    multipart or does not parse.
    """
    if request.mimetype != "multipart/form-data":
        return None
    boundary = request.mimetype_params.get("boundary")
    if not boundary:
        return None
    decoder = MultipartDecoder(boundary.encode("latin-1", "replace"))
    try:
        decoder.receive_data(request.get_data())
        decoder.receive_data(None)
        parts: dict[str, _SentPart] = {}
        name: str | None = None
        for _ in range(100_000):  # events: two or three per part
            event = decoder.next_event()
            if isinstance(event, Field | File):
                name = event.name
                if name not in parts:
                    parts[name] = {
                        "content": b"",
                        "filename": event.filename if isinstance(event, File) else None,
                        "content_type": event.headers.get("Content-Type") or None,
                    }
                else:
                    name = None  # a later part of the same name: the first one counts
            elif isinstance(event, Data):
                if name is not None:
                    parts[name]["content"] += event.data
            elif isinstance(event, Epilogue | NeedData):
                break
        return parts
    except ValueError:  # werkzeug's decoder refuses a malformed body
        return None


@dataclass(frozen=True, slots=True)
class MultipartParts(Check):
    """``multipart=``: a ``multipart/form-data`` body has at least these parts."""

    parts: tuple[tuple[str, Part], ...]

    def match(self, request: Request) -> bool:
        sent = _parts_of(request)
        return sent is not None and not any(
            _part_differences(name, spec, sent.get(name)) for name, spec in self.parts
        )

    def differences(self, request: Request) -> list[Difference]:
        sent = _parts_of(request)
        if sent is None:
            return [
                (
                    "multipart",
                    "a multipart/form-data body",
                    f"Content-Type {request.headers.get('Content-Type', 'none')!r}",
                )
            ]
        found: list[Difference] = []
        for name, spec in self.parts:
            found.extend(_part_differences(name, spec, sent.get(name), sorted(sent)))
        return bounded(found)

    def describe(self) -> str:
        return "multipart parts " + ", ".join(repr(name) for name, _ in self.parts)


def _part_differences(
    name: str, spec: Part, sent: _SentPart | None, names: list[str] | None = None
) -> list[Difference]:
    field = f"multipart {name}"
    if sent is None:
        return [(field, "a part of that name", f"no such part (parts sent: {names})")]
    found: list[Difference] = []
    content = spec.content.encode("utf-8") if isinstance(spec.content, str) else spec.content
    if content is not None and sent["content"] != content:
        found.append((f"{field} content", _short(content), _shown_body(sent["content"])))
    if spec.filename is not None and sent["filename"] != spec.filename:
        found.append((f"{field} filename", repr(spec.filename), repr(sent["filename"])))
    if spec.content_type is not None and sent["content_type"] != spec.content_type:
        found.append(
            (f"{field} content_type", repr(spec.content_type), repr(sent["content_type"]))
        )
    return found
