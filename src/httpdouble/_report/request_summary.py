"""The summary of a request a person needs to recognise it, masked and cut to size.

Findings show it and the replay lines are built from it; both import it from here
(issue 25: this broke the findings/replay import cycle).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from werkzeug.wrappers import Request

from .._matching import body_masking as _body_masking
from .._matching import masking as _masking
from .._wire.origin import origin_of

BODY_LIMIT = 300
HEADER_VALUE_LIMIT = 120
MAX_HEADERS_SHOWN = 10
_BORING_HEADERS = frozenset(
    {"host", "user-agent", "accept-encoding", "connection", "accept", "content-length"}
)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_OR_LINE_END = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def printable(text: str, *, one_line: bool = False) -> str:
    """Return ``text`` with its control characters escaped (``\\x1b``): a request must
    not clear the reader's terminal or forge lines of a CI log.

    :param one_line: escape line ends too (a request line); else they and tabs stay.
    """
    pattern = _CONTROL_OR_LINE_END if one_line else _CONTROL
    return pattern.sub(lambda found: f"\\x{ord(found.group(0)):02x}", text)


@dataclass(frozen=True, slots=True)
class RequestSummary:
    """The parts of a request a person needs to recognise it, cut to a readable size.

    Credentials are masked (see :ref:`secrets`): the values of ``Authorization``,
    ``Cookie`` and similar headers, of query parameters such as ``token``, and of secret
    keys and fields in the body (JSON at any depth, forms, multipart parts).

    ``origin`` is ``scheme://host`` of a request meant for another host (through a proxy,
    or with a ``Host`` of its own), ``""`` for one sent to the server itself.
    """

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    origin: str = ""

    @classmethod
    def of(cls, request: Request) -> RequestSummary:
        headers = tuple(
            (name, _cut(_masking.header_value(name, value), HEADER_VALUE_LIMIT))
            for name, value in request.headers.items()
            if name.lower() not in _BORING_HEADERS
        )[:MAX_HEADERS_SHOWN]
        try:
            raw = request.get_data()
        except Exception as exc:  # a body that never arrived: describing it must not fail
            raw = f"(the body did not arrive: {exc})".encode()
        # Masked whole, then cut: a body cut first might no longer decode as JSON.
        content_type = request.headers.get("Content-Type", "")
        whole = raw[: _body_masking.STRUCTURE_LIMIT]
        body = _cut(_body_masking.body(whole, content_type), BODY_LIMIT) if raw else ""
        return cls(
            method=request.method,
            path=request.path,
            query=_masking.query(request.query_string.decode("latin-1")),
            headers=headers,
            body=body,
            origin=origin_of(request.environ),
        )

    def line(self) -> str:
        """Return ``METHOD /path?query`` (``METHOD https://host/path?query`` for a request
        meant for another host), control characters escaped."""
        line = f"{self.method} {self.origin}{self.path}" + (f"?{self.query}" if self.query else "")
        return printable(line, one_line=True)

    def lines(self) -> list[str]:
        out = [self.line()]
        out.extend(f"  {name}: {value}" for name, value in self.headers)
        if self.body:
            out.append(f"  body: {self.body!r}")
        return out
