"""Replay: each exchange of a cassette becomes a oneshot expectation, in recorded order.

Oneshot handlers, not ordered ones: a recorded exchange the code no longer makes stays
unused (the teardown check names it), a request the cassette lacks is "no handler matched"
(named too, with the closest recorded exchange), and a request made twice with two recorded
answers gets them in the order they were recorded; but one request out of place does not
refuse every request after it, as an ordered expectation would, so the report lists each
difference rather than the first.

The same expectations print as code (:func:`to_code`) for ``python -m httpdouble cassette``.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import MultiDict

from .._matching.query import QueryMatcher
from . import scrub
from .cassette import Exchange, body_fields, decode_body, header_pairs

if TYPE_CHECKING:
    from .._app.expectations import RequestHandler
    from .._server.server import HTTPServer

# Headers a replayed response does not repeat: the server frames the body and sends its own.
NOT_REPLAYED = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "date", "server"}
)


class ScrubbedQuery(QueryMatcher):
    """Matches a query string whose secret values the cassette scrubbed: those parameters
    must be there, with any value; every other parameter must equal the recorded one."""

    def __init__(self, recorded: str) -> None:
        self.recorded = recorded
        self.scrubbed = scrub.scrubbed_params(recorded)

    def _parsed(self, query: str) -> MultiDict[str, str]:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        return MultiDict([(k, scrub.SCRUBBED if k in self.scrubbed else v) for k, v in pairs])

    def get_comparing_values(self, request_query_string: bytes) -> tuple[Any, Any]:
        actual = request_query_string.decode("utf-8", "replace")
        return self._parsed(self.recorded), self._parsed(actual)

    def describe(self) -> str:
        return f"{self.recorded!r} (scrubbed values: any)"

    def __repr__(self) -> str:
        return f"ScrubbedQuery({self.recorded!r})"


@dataclass(frozen=True)
class Expectation:
    """What one exchange expects and answers, as arguments of the public API."""

    uri: str
    match: dict[str, Any]  # keyword arguments of expect_oneshot_request
    status: int
    headers: list[tuple[str, str]]
    content_type: str | None
    body: bytes
    json_body: Any  # the decoded JSON response body (when has_json)
    has_json: bool


def expectation(exchange: Exchange) -> Expectation:
    """Return the expectation an exchange stands for."""
    request, response = exchange.request, exchange.response
    match: dict[str, Any] = {"method": request["method"]}
    query = str(request.get("query") or "")
    if query:
        scrubbed = scrub.scrubbed_params(query)
        match["query_string"] = ScrubbedQuery(query) if scrubbed else query
    if "json" in request:
        value = request["json"]
        if scrub.holds_scrubbed(value) and isinstance(value, dict):
            match["json_contains"] = scrub.without_scrubbed(value)
        elif not scrub.holds_scrubbed(value):
            match["json"] = value
    elif "form" in request:
        fields = [(k, v) for k, v in request["form"] if v != scrub.SCRUBBED]
        if fields:
            match["form"] = dict(fields)
    if request.get("host"):  # an intercepted request: its host is part of what it was
        match["host"] = str(request["host"])
    headers = header_pairs(response.get("headers", []))
    content_type = next((v for n, v in headers if n.lower() == "content-type"), None)
    body = body_fields(response)
    return Expectation(
        uri=str(request["path"]),
        match=match,
        status=int(response.get("status", 200)),
        headers=[
            (n, v)
            for n, v in headers
            if n.lower() not in NOT_REPLAYED and n.lower() != "content-type"
        ],
        content_type=content_type,
        body=decode_body(body),
        json_body=body.get("json"),
        has_json="json" in body,
    )


def register(server: HTTPServer, exchanges: list[Exchange]) -> list[RequestHandler]:
    """Register one oneshot expectation per exchange on ``server``, in recorded order."""
    handlers = []
    for exchange in exchanges:
        wanted = expectation(exchange)
        handler = server.expect_oneshot_request(wanted.uri, **wanted.match)
        handler.respond_with_data(
            wanted.body, wanted.status, wanted.headers, content_type=wanted.content_type
        )
        handlers.append(handler)
    return handlers


# ------------------------------------------------------------------------- code


def to_code(exchanges: list[Exchange], server: str = "httpserver") -> str:
    """Return the ``expect_oneshot_request(...)`` lines of ``exchanges``, in recorded order."""
    lines = []
    for exchange in exchanges:
        wanted = expectation(exchange)
        args = [repr(wanted.uri)]
        for name, value in wanted.match.items():
            if isinstance(value, ScrubbedQuery):
                lines.append(f"# query {value.recorded!r}: scrubbed values, query not matched")
                continue
            args.append(f"{name}={_literal(value)}")
        head = f"{server}.expect_oneshot_request({', '.join(args)})"
        if wanted.has_json and wanted.content_type and "json" in wanted.content_type:
            answer = [_literal(wanted.json_body)]
            if wanted.status != 200:
                answer.append(f"status={wanted.status}")
            if wanted.headers:
                answer.append(f"headers={_headers(wanted.headers)}")
            if wanted.content_type != "application/json":
                answer.append(f"content_type={wanted.content_type!r}")
            lines.append(f"{head}.respond_with_json({', '.join(answer)})")
            continue
        answer = [_data(wanted.body)]
        if wanted.status != 200:
            answer.append(f"status={wanted.status}")
        if wanted.headers:
            answer.append(f"headers={_headers(wanted.headers)}")
        if wanted.content_type is not None:
            answer.append(f"content_type={wanted.content_type!r}")
        lines.append(f"{head}.respond_with_data({', '.join(answer)})")
    return "\n".join(lines) + ("\n" if lines else "")


def _literal(value: Any) -> str:
    """Python source for a JSON value (``true`` becomes ``True``)."""
    return repr(json.loads(json.dumps(value)))


def _data(body: bytes) -> str:
    try:
        return repr(body.decode("utf-8"))
    except UnicodeDecodeError:
        return repr(body)


def _headers(headers: list[tuple[str, str]]) -> str:
    names = [n.lower() for n, _ in headers]
    if len(set(names)) == len(names):
        return repr(dict(headers))
    return repr(headers)
