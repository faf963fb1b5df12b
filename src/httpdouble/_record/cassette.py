"""Cassettes: one readable JSON file per test holding the exchanges it recorded.

A cassette is made to be read in a diff and edited by hand: keys in a stable order, two
spaces of indent, a trailing newline, headers as ``"Name: value"`` lines in the order they
came, and each body in the most readable form: ``"json"`` (the decoded document, and
``"json_layout"`` when it was not written as ``json.dumps`` writes it by default; served back
byte for byte), ``"form"`` (``[name, value]`` fields of a request), ``"text"`` (UTF-8
text) or ``"base64"`` (any other bytes).
Secrets are scrubbed (:mod:`.scrub`) before a cassette is built.

It is written next to a temporary file and renamed over the old one, so a reader (another
xdist worker, an editor) never sees half a file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import HTTPDoubleUsageError
from . import scrub

FORMAT_VERSION = 1
CASSETTES_FOLDER = "cassettes"
JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json$")
FORM_TYPE = "application/x-www-form-urlencoded"
_UNSAFE = re.compile(r"[^A-Za-z0-9._\-\[\]]+")
_NAME_LIMIT = 120


@dataclass
class Exchange:
    """One request and the response the upstream gave it, as the cassette holds them.

    ``request`` and ``response`` are the cassette's own dicts (see the module docstring);
    :func:`exchange` builds them from what went over the wire.
    """

    request: dict[str, Any]
    response: dict[str, Any]


@dataclass
class Cassette:
    """The exchanges of one test, in the order they were recorded."""

    exchanges: list[Exchange] = field(default_factory=list)


def header_pairs(lines: list[str]) -> list[tuple[str, str]]:
    """Return a cassette's ``"Name: value"`` header lines as ``(name, value)`` pairs."""
    pairs = []
    for line in lines:
        name, _, value = str(line).partition(":")
        pairs.append((name.strip(), value.strip()))
    return pairs


def media_type(headers: list[tuple[str, str]]) -> str:
    """Return the ``Content-Type``'s media type (lower case, no parameters), or ``""``."""
    for name, value in headers:
        if name.lower() == "content-type":
            return value.partition(";")[0].strip().lower()
    return ""


def encode_body(raw: bytes, kind: str, *, request: bool) -> dict[str, Any]:
    """Return ``{"json": ...}``, ``{"form": ...}``, ``{"text": ...}``, ``{"base64": ...}`` or
    ``{}`` (no body) for ``raw``, its secrets scrubbed.

    :param kind: the media type of the body (see :func:`media_type`).
    :param request: a request body (form fields are kept as fields only for requests).
    """
    if not raw:
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}
    if JSON_TYPE.match(kind) or (not kind and text.lstrip()[:1] in ("{", "[")):
        try:
            decoded = json.loads(text)
        except ValueError:
            pass
        else:
            layout = json_layout(decoded, text)
            if layout is None and scrub.json_value(decoded) != decoded:
                layout = DEFAULT_LAYOUT  # secrets never kept: served back re-encoded
            if layout is not None:
                kept = {"json": scrub.json_value(decoded)}
                return kept if layout == DEFAULT_LAYOUT else {**kept, "json_layout": layout}
    if request and kind == FORM_TYPE:
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True)
        if urllib.parse.urlencode(pairs) == text:
            return {"form": scrub.form(pairs)}
    if kind == FORM_TYPE:
        return {"text": scrub.query(text)}
    return {"text": text}


_LAYOUTS: dict[str, dict[str, Any]] = {
    "spaced": {},
    "compact": {"separators": (",", ":")},
    "indent=2": {"indent": 2},
    "indent=4": {"indent": 4},
}
DEFAULT_LAYOUT = "spaced"
BODY_KEYS = ("json", "json_layout", "form", "text", "base64")


def json_layout(value: Any, text: str) -> str | None:
    """Return the name of the layout ``json.dumps`` writes ``text`` in, or ``None``.

    A JSON body is kept as JSON only when it is served back byte for byte: ``"spaced"``
    (Python's default), ``"compact"``, ``"indent=2"`` or ``"indent=4"``, each maybe with
    ``",ascii"`` (non-ASCII escaped) and ``",newline"`` (a trailing newline).
    """
    body, newline = (text[:-1], ",newline") if text.endswith("\n") else (text, "")
    for name, options in _LAYOUTS.items():
        for ascii_only in (False, True):
            if json.dumps(value, ensure_ascii=ascii_only, **options) == body:
                return name + (",ascii" if ascii_only else "") + newline
    return None


def _dumps(value: Any, layout: str) -> str:
    name, *flags = layout.split(",")
    options = _LAYOUTS.get(name, {})
    text = json.dumps(value, ensure_ascii="ascii" in flags, **options)
    return text + "\n" if "newline" in flags else text


def decode_body(body: dict[str, Any]) -> bytes:
    """Return the bytes a cassette's body stands for (an edited one too)."""
    if "json" in body:
        return _dumps(body["json"], str(body.get("json_layout", DEFAULT_LAYOUT))).encode()
    if "form" in body:
        return urllib.parse.urlencode([tuple(pair) for pair in body["form"]]).encode()
    if "text" in body:
        return str(body["text"]).encode()
    if "base64" in body:
        return base64.b64decode(body["base64"])
    return b""


def body_fields(message: dict[str, Any]) -> dict[str, Any]:
    """Return the body keys of a cassette's request or response dict."""
    return {
        k: message[k] for k in ("json", "json_layout", "form", "text", "base64") if k in message
    }


# ------------------------------------------------------------------------ files


def cassette_path(test_file: Path, test_name: str) -> Path:
    """Return ``cassettes/<module>/<test name>.json`` beside ``test_file``.

    :param test_name: the test's id within its module (``TestClass::test_x[param]``).
        Characters other than letters, digits, ``._-[]`` become ``-``; a name changed that
        way, or cut to length, gets a short hash of the whole id so two ids never share a file.
    """
    safe = _UNSAFE.sub("-", test_name.replace("::", "."))
    if safe != test_name.replace("::", ".") or len(safe) > _NAME_LIMIT:
        digest = hashlib.sha256(test_name.encode()).hexdigest()[:8]
        safe = f"{safe[:_NAME_LIMIT]}-{digest}"
    return test_file.parent / CASSETTES_FOLDER / test_file.stem / f"{safe}.json"


def to_json(cassette: Cassette) -> str:
    """Return the cassette's file text (stable key order, trailing newline)."""
    document = {
        "httpdouble_cassette": FORMAT_VERSION,
        "exchanges": [{"request": e.request, "response": e.response} for e in cassette.exchanges],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write(cassette: Cassette, path: Path) -> None:
    """Write ``cassette`` to ``path`` at once (a temporary file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(to_json(cassette))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path: Path) -> Cassette:
    """Read a cassette.

    :raises HTTPDoubleUsageError: when the file is not a cassette (what is wrong, and where).
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise _bad(path, "a JSON document", f"invalid JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("httpdouble_cassette") != FORMAT_VERSION:
        raise _bad(path, f'an object with "httpdouble_cassette": {FORMAT_VERSION}', document)
    exchanges = document.get("exchanges")
    if not isinstance(exchanges, list):
        raise _bad(path, 'an "exchanges" list', exchanges)
    cassette = Cassette()
    for number, item in enumerate(exchanges, 1):
        ok = isinstance(item, dict) and all(
            isinstance(item.get(k), dict) for k in ("request", "response")
        )
        request = item.get("request", {}) if ok else {}
        if not ok or not isinstance(request.get("method"), str) or "path" not in request:
            shape = '{"request": {"method": ..., "path": ...}, "response": {...}}'
            raise _bad(path, f"exchange {number}: {shape}", item)
        cassette.exchanges.append(Exchange(item["request"], item["response"]))
    return cassette


def _bad(path: Path, expected: str, got: object) -> HTTPDoubleUsageError:
    return HTTPDoubleUsageError(
        f"cassette {path}",
        expected=expected,
        got=got,
        remedy="fix the file by hand, or delete it and record it again (--httpserver-record=once)",
    )
