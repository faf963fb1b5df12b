"""Static responses: checked when they are registered, copied fresh for each request.

``respond_with_data``, ``respond_with_json``, ``respond_with_response`` and the items of
``respond_with_sequence`` become response functions built here. Their headers are
refused at registration if the wire could not carry them, and because no user code runs
in them, the I/O loop may call them itself (:func:`runs_no_user_code`).
"""

from __future__ import annotations

import re
import types
from collections.abc import Awaitable, Callable, Sequence
from typing import cast

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from .._errors import HTTPDoubleUsageError

# respond_with_fault(STALL)'s default: here, not in .streaming, which loads on first use.
DEFAULT_STALL_SECONDS = 30.0

# An async def handler function returns an awaitable of the response (see _awaiting).
ResponseHandler = Callable[[Request], "Response | Awaitable[Response]"]


def check_status(status: object) -> int:
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 999:
        raise HTTPDoubleUsageError(
            "status",
            expected="an int HTTP status from 100 to 999",
            got=status,
            remedy="pass e.g. status=404",
        )
    return status


def headers_of(headers: object) -> list[tuple[str, str]]:
    if not headers:
        return []
    try:
        pairs = list(Headers(headers).items())  # type: ignore[arg-type]
    except (TypeError, ValueError):
        pairs = None
    if pairs is None or not all(isinstance(v, str) for _, v in pairs):
        raise HTTPDoubleUsageError(
            "headers",
            expected="a mapping or a list of (name, value) pairs of str",
            got=headers,
            remedy="pass headers={'X-Request-Id': 'abc'}",
        )
    check_header_pairs(pairs)
    return pairs


# RFC 9110 token characters: what a field name may be made of.
# Checked when a handler is registered: compiled then, by re's own cache (issue 27).
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_BAD_IN_VALUE = r"[\x00-\x08\x0a-\x1f\x7f]"


def check_header_pairs(pairs: list[tuple[str, str]]) -> None:
    """Refuse, at registration, a response header the wire could not carry as given.

    Names must be tokens; values must be latin-1 and free of CR, LF, NUL and other
    control characters (a tab is allowed).
    """
    for name, value in pairs:
        if not isinstance(name, str) or not re.fullmatch(_TOKEN, name):
            raise HTTPDoubleUsageError(
                "header name",
                expected="a token: letters, digits and !#$%&'*+-.^_`|~ (no space, colon, CR/LF)",
                got=name,
                remedy="spell the header name as it goes on the wire, e.g. 'X-Request-Id'",
            )
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            encodable = False
        else:
            encodable = True
        if not encodable or re.search(_BAD_IN_VALUE, value):
            raise HTTPDoubleUsageError(
                f"value of header {name}",
                expected="latin-1 text without CR, LF, NUL or other control characters",
                got=value,
                remedy="percent-encode or base64 the value, or send it in the body",
            )


def data_maker(
    data: str | bytes,
    status: int | str,
    header_list: list[tuple[str, str]],
    mimetype: str | None = None,
    content_type: str | None = None,
) -> ResponseHandler:
    body = data.encode() if isinstance(data, str) else data
    if mimetype is None and content_type is None:
        mimetype = "text/plain"

    def make_response(request: Request) -> Response:
        return Response(body, status, header_list, mimetype, content_type)

    return make_response


def response_maker(response: Response) -> ResponseHandler:
    check_status(response.status_code)
    body = response.get_data()
    status = response.status
    header_list = list(response.headers.items())
    check_header_pairs(header_list)

    def make_response(request: Request) -> Response:
        return Response(body, status, header_list)

    return make_response


# The code of the response functions built above (each maker's one nested function): a
# handler whose ``request_handler`` runs one of them runs no code of the user's (the I/O loop
# builds its response itself). Read from the makers' constants: building a Response here
# cost every import about 0.3 ms (issue 27).
_OUR_MAKERS = frozenset(
    constant
    for maker in (data_maker, response_maker)
    for constant in maker.__code__.co_consts
    if isinstance(constant, types.CodeType)
)


def runs_no_user_code(request_handler: object) -> bool:
    """Return whether ``request_handler`` is a static response built by this module."""
    return getattr(request_handler, "__code__", None) in _OUR_MAKERS


def sequence_maker(item: object, index: int) -> ResponseHandler:
    if item is None or isinstance(item, (str, bytes)):
        return data_maker(item or b"", 200, [])
    if isinstance(item, Response) and not item.is_sequence:
        # Reading a generator's body here would hang on an endless one.
        raise HTTPDoubleUsageError(
            f"responses[{index}]",
            expected="a Response with a body of bytes (a sequence item is copied per request)",
            got=item,
            remedy="stream it from a handler function instead: lambda request:"
            " StreamedResponse(chunks()), or use respond_with_stream() on a handler of its own",
        )
    if isinstance(item, Response):
        return response_maker(item)
    if callable(item):
        return cast(ResponseHandler, item)
    raise HTTPDoubleUsageError(
        f"responses[{index}]",
        expected="a werkzeug Response, a str or bytes body, None, or a handler function",
        got=item,
        remedy="wrap JSON as Response(json.dumps(obj), mimetype='application/json')",
    )


def check_sequence(responses: object, then: object) -> None:
    """Refuse what ``respond_with_sequence`` cannot serve: no list, an empty one, bad ``then``."""
    if isinstance(responses, (str, bytes, Response)) or not isinstance(responses, Sequence):
        raise HTTPDoubleUsageError(
            "responses",
            expected="a list or tuple of responses",
            got=responses,
            remedy="pass e.g. respond_with_sequence([Response(status=503), 'ok'])",
        )
    if not responses:
        raise HTTPDoubleUsageError(
            "responses",
            expected="at least one response",
            got=responses,
            remedy="pass e.g. respond_with_sequence([Response(status=503), 'ok'])",
        )
    if then not in ("repeat", "fail"):
        raise HTTPDoubleUsageError(
            "then",
            expected="'repeat' (answer with the last response again) or 'fail'",
            got=then,
            remedy="pass then='repeat' or then='fail'",
        )


def check_data(response_data: object, status: int, mimetype: object, content_type: object) -> None:
    """Refuse what ``respond_with_data`` cannot send: a body other than text or bytes, a bad
    status, a mimetype or content type that is no header value."""
    if not isinstance(response_data, (str, bytes)):
        raise HTTPDoubleUsageError(
            "response_data",
            expected="str or bytes",
            got=response_data,
            remedy="use respond_with_json() for objects",
        )
    check_status(status)
    for name, value in (("mimetype", mimetype), ("content_type", content_type)):
        if value is not None and not isinstance(value, str):
            raise HTTPDoubleUsageError(
                name,
                expected="a str such as 'text/html' or None",
                got=value,
                remedy=f"pass {name}='application/xml', or leave it out",
            )
        if value is not None:
            check_header_pairs([("Content-Type", value)])
