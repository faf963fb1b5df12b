"""Secrets in bodies and in texts that show values by name, masked; and their placeholders.

A body is masked by what it is: a JSON document key by key at any depth (its shape and
every other value stay, so it still decodes), a form field by field, a multipart body
part by part; any other text, or a body cut too short to decode, by the ``'name': value``,
``"name": value``, ``name=value`` and multipart pairs found in it. The names are those of
:mod:`httpdouble._matching.secret_names`, the same for headers, query parameters and bodies.

Paste-ready lines (``to match it``, ``curl``) must never carry a masked value: there
:func:`placeholders` puts ``<your NAME>`` instead, which reads as "put yours here".
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from typing import Any

from .secret_names import MASKED, is_secret_name, mask, placeholder, showing_secrets

STRUCTURE_LIMIT = 1 << 20
"""Bodies up to this size (bytes) are decoded to be masked key by key; larger ones by text."""

TEXT_LIMIT = 64 * 1024
"""How much of a body masked by text is kept: every view shows far less, and the scan of a
large text would cost more than the report is worth."""

# ``name=value`` in a query string or form body (raw, or quoted as a repr shows it).
PAIR = re.compile(r"(?:(?<=^)|(?<=[?&'\"\s]))([^=&'\"\s]+)=([^&'\"\s#]+)")
# ``'name':`` or ``"name":`` in a repr or a JSON text; the value follows.
_KEY = re.compile(r"""(['"])((?:(?!\1)[^\\\n]|\\.){1,200})\1\s*:\s*""")
# One multipart part: its name, the rest of its head, then its content up to the boundary
# (raw line ends, or escaped ones as a bytes repr shows them).
_NL = r"(?:\r\n|\n|\\r\\n|\\n)"
_PART_NAME = re.compile(r'name="([^"\r\n]*)"')
_BLANK_LINE = re.compile(rf"{_NL}{_NL}")
_NEXT_BOUNDARY = re.compile(rf"{_NL}--")
_HEAD_LIMIT = 1024  # a part's head after its name is a line or two: looked for no further
_CLOSING = {"[": "]", "{": "}", "(": ")"}
_MASKED_TOKEN = re.compile(r"[^\s,\]})'\"]*…\(len \d+\)")
_TOKEN_END = re.compile(r"[,\]})\s]|$")
_LEFTOVER = re.compile(r"(?:[A-Za-z]+ )?[^\s'\"&=:<>]*…\(len \d+\)")


def _literal(raw: str) -> Any:
    """The value a repr or JSON token stands for, or the raw text when it is not one."""
    if raw.startswith('"'):
        try:
            return json.loads(raw)
        except ValueError:
            pass
    with warnings.catch_warnings():  # an escape Python does not know warns
        warnings.simplefilter("ignore")
        try:
            return ast.literal_eval(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return raw


def _string_end(text: str, start: int) -> int:
    quote = text[start]
    at = start + 1
    while at < len(text):
        if text[at] == "\\":
            at += 2
        elif text[at] == quote:
            return at + 1
        else:
            at += 1
    return len(text)  # a text cut inside the string


def value_end(text: str, start: int) -> int:
    """Where the value that starts at ``start`` ends: a string, a bracketed structure, a word."""
    if start >= len(text):
        return start
    first = text[start]
    if first in "bB" and text[start + 1 : start + 2] in ("'", '"'):
        return _string_end(text, start + 1)
    if first in "'\"":
        return _string_end(text, start)
    if first in "[{(":
        depth, at = 0, start
        while at < len(text):
            char = text[at]
            if char in "'\"":
                at = _string_end(text, at)
                continue
            if char in "[{(":
                depth += 1
            elif char in "]})":
                depth -= 1
                if depth == 0:
                    return at + 1
            at += 1
        return len(text)
    masked = _MASKED_TOKEN.match(text, start)  # a bare masked value: "…(len 4)"
    if masked:
        return masked.end()
    found = _TOKEN_END.search(text, start)
    return found.start() if found else len(text)


def _masked_string(value: str, quote: str, prefix: str = "") -> str:
    masked = mask(value)
    if quote == '"' and not prefix:
        return json.dumps(masked, ensure_ascii=False)
    return prefix + repr(masked)


def masked_value(raw: str) -> str:
    """Return one value as a repr or JSON text shows it, masked; its quoting stays."""
    if not raw or MASKED.search(raw) or raw in ("None", "null", "True", "False", "true", "false"):
        return raw
    prefix = raw[0] if raw[0] in "bB" and raw[1:2] in ("'", '"') else ""
    body = raw[len(prefix) :]
    if body[:1] in ("'", '"'):
        value = _literal(raw)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif not isinstance(value, str) or value == raw:  # cut: unquote it by hand
            value = body[1:-1] if len(body) > 1 and body[-1] == body[0] else body[1:]
        return _masked_string(value, body[0], prefix)
    if body[:1] == "[":
        items = _literal(raw)
        if isinstance(items, list) and all(isinstance(item, str) for item in items):
            if raw.startswith('["'):
                return json.dumps([mask(item) for item in items], ensure_ascii=False)
            return repr([mask(item) for item in items])
    if body[:1] in "[{(":
        return f"{body[0]}…(len {len(raw)}){_CLOSING[body[0]]}"
    return f"…(len {len(raw)})"


def mask_pairs(text: str) -> str:
    """Return ``text`` with the value of every secret ``'name': value`` (or JSON) pair masked."""
    out: list[str] = []
    at = 0
    for found in _KEY.finditer(text):
        if found.start() < at:
            continue  # inside a value masked already
        name = _literal(found.group(1) + found.group(2) + found.group(1))
        if not is_secret_name(name if isinstance(name, str) else found.group(2)):
            continue
        start = found.end()
        end = value_end(text, start)
        out.append(text[at:start])
        out.append(masked_value(text[start:end]))
        at = end
    out.append(text[at:])
    return "".join(out)


def _mask_form_pair(found: re.Match[str]) -> str:
    name, value = found.group(1), found.group(2)
    if not is_secret_name(name) or "…" in value:
        return found.group(0)
    return f"{name}={mask(value)}"


def mask_form(text: str) -> str:
    """Return a query string or form body with the values of secret fields masked."""
    return PAIR.sub(_mask_form_pair, text)


def mask_multipart(text: str) -> str:
    """Return a multipart body (or its repr) with the content of secret parts masked.

    Each ``name="..."`` starts a part whose head ends at the next blank line (within
    :data:`_HEAD_LIMIT` characters) and whose content ends at the next boundary line; one
    pass over the text, so a body made to look like many heads costs no more.
    """
    out: list[str] = []
    at = 0
    for found in _PART_NAME.finditer(text):
        if found.start() < at or not is_secret_name(found.group(1)):
            continue
        blank = _BLANK_LINE.search(text, found.end(), found.end() + _HEAD_LIMIT)
        if blank is None:
            continue
        start = blank.end()
        end_found = _NEXT_BOUNDARY.search(text, start)
        end = end_found.start() if end_found else len(text)
        content = text[start:end]
        if content and not MASKED.search(content):
            out.append(text[at:start])
            out.append(mask(content))
            at = end
    out.append(text[at:])
    return "".join(out)


def _mask_json(value: Any, secret: bool = False) -> Any:
    if isinstance(value, dict):
        return {
            key: _mask_json(item, secret or is_secret_name(str(key)))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_mask_json(item, secret) for item in value]
    if not secret or value is None or isinstance(value, bool):
        return value
    return mask(value if isinstance(value, str) else json.dumps(value))


def mask_json(value: Any) -> Any:
    """Return a decoded JSON value with every value under a secret key masked (a copy)."""
    return value if showing_secrets() else _mask_json(value)


def body_text(text: str, content_type: str = "") -> str:
    """Return a body's text with its secrets masked, by what its ``Content-Type`` says it is.

    :param text: the body, decoded (whole: mask before cutting it to a size).
    :param content_type: the ``Content-Type`` header's value, or ``""``.
    :returns: the masked text; of a body not masked as JSON, the first :data:`TEXT_LIMIT`
        characters only.
    """
    if showing_secrets() or not text:
        return text
    kind = content_type.partition(";")[0].strip().lower()
    stripped = text.lstrip()
    if ("json" in kind or stripped[:1] in ("{", "[")) and len(text) <= STRUCTURE_LIMIT:
        try:
            decoded = json.loads(text)
        except (ValueError, RecursionError):
            pass
        else:
            masked = _mask_json(decoded)
            return text if masked == decoded else json.dumps(masked, ensure_ascii=False)
    text = text[:TEXT_LIMIT]  # what follows is never shown: left out, not left unmasked
    if kind == "multipart/form-data":
        return mask_multipart(text)
    if kind == "application/x-www-form-urlencoded":
        return mask_form(text)
    return mask_form(mask_multipart(mask_pairs(text)))


def body(raw: bytes, content_type: str = "") -> str:
    """Return a body's bytes as text (bad UTF-8 replaced), its secrets masked."""
    return body_text(raw.decode("utf-8", "replace"), content_type)


# ----------------------------------------------------------------- paste-ready lines


def _pair_placeholder(found: re.Match[str]) -> str:
    return f"{found.group(1)}={placeholder(found.group(1), found.group(2))}"


_MASKED_PAIR = re.compile(r"([^=&'\"\s?]+)=([^&'\"\s#]*…\(len \d+\))")
_MASKED_ITEM = re.compile(
    r"""(['"])((?:(?!\1)[^\\\n]|\\.){1,200})\1(\s*:\s*)(['"])([^'"\n]*…\(len \d+\))\4"""
)
_MASKED_PART = re.compile(
    rf"(name=\"([^\"]*)\"(?:(?!{_NL}{_NL}).)*?{_NL}{_NL})([^\r\n\\]*…\(len \d+\))", re.DOTALL
)


def _item_placeholder(found: re.Match[str]) -> str:
    quote, name, colon, value_quote, value = found.groups()
    return f"{quote}{name}{quote}{colon}{value_quote}{placeholder(name, value)}{value_quote}"


def placeholders(text: str) -> str:
    """Return a paste-ready text with each masked value replaced by ``<your NAME>``.

    The name is the key, field or parameter the value belongs to; a masked value with no
    name beside it becomes ``<your secret>``.
    """
    if not MASKED.search(text):
        return text
    text = _MASKED_ITEM.sub(_item_placeholder, text)
    text = _MASKED_PAIR.sub(_pair_placeholder, text)
    text = _MASKED_PART.sub(lambda m: m.group(1) + placeholder(m.group(2), m.group(3)), text)
    return _LEFTOVER.sub(lambda m: placeholder("secret", m.group(0)), text)
