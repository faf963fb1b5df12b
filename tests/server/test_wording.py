"""Issue 23: what a newcomer reads, word for word (approved texts), through real sockets.

Each text is the teardown failure the plugin raises: :func:`failure_message` of the
findings the server keeps, as the ``httpserver`` fixture takes them at teardown.
"""

from __future__ import annotations

import pytest
import requests
from werkzeug.wrappers import Request, Response

from httpdouble import HTTPServer
from httpdouble._matching.secret_names import SHOW_SECRETS_ENV
from httpdouble._report.findings import failure_message

from ..plugin.approval import normalised

TIMEOUT = 10.0


def _teardown_text(server: HTTPServer) -> str:
    """The teardown failure's message, as the ``httpserver`` fixture raises it."""
    findings = server.take_findings(include_unused=True, clear=True)
    return normalised(failure_message(findings, at_teardown=False))


APPROVED_NO_RESPONSE = """\
httpserver: 1 HTTP problem in this test
1. handler has no response: GET /x
     request:  GET /x
     expected: any method '/x'
     no respond_with_* was called on it
to do:
  - call respond_with_data, respond_with_json, respond_with_response or respond_with_handler \
on the handler for any method '/x': it was registered without one"""


def test_a_handler_registered_without_a_response_says_to_call_respond_with(
    server: HTTPServer,
) -> None:
    server.expect_request("/x")
    assert requests.get(server.url_for("/x"), timeout=TIMEOUT).status_code == 500
    assert _teardown_text(server) == APPROVED_NO_RESPONSE


APPROVED_MISSING_KEY = """\
httpserver: 1 HTTP problem in this test
1. handler raised: GET /v1/forecast?city=Turin
     request:  GET /v1/forecast?city=Turin
     expected: any method '/v1/forecast'
     BadRequestKeyError: the request has no 'days' (request.args['days'], .form or .files \
raise it for a key the request lacks; .get('days') returns None instead); its traceback is \
above, as the cause
to do:
  - fix the handler function: its exception is chained above as the cause"""


def test_a_missing_request_key_in_a_handler_is_named(server: HTTPServer) -> None:
    def handler(request: Request) -> Response:
        return Response(request.args["days"])  # werkzeug hides 'days' unless in debug mode

    server.expect_request("/v1/forecast").respond_with_handler(handler)
    requests.get(server.url_for("/v1/forecast?city=Turin"), timeout=TIMEOUT)
    [cause] = server.handler_errors
    assert str(cause).endswith("\nKeyError: 'days'")  # the traceback pytest prints says it too
    assert _teardown_text(server) == APPROVED_MISSING_KEY


APPROVED_OUT_OF_ORDER = """\
httpserver: 2 HTTP problems in this test
1. ordered request out of order: POST /v1/login
     request:  POST /v1/login
     expected: the next ordered request first: any method '/v1/forecast'
     order:    POST '/v1/login' came before any method '/v1/forecast'; they were registered \
in the other order
2. refused: an ordered request was out of order earlier: GET /v1/forecast?city=Lima
     request:  GET /v1/forecast?city=Lima
     expected: nothing: the server refuses requests since an ordered request came out of \
order; call clear() to reset it
     closest:  any method '/v1/forecast'
to do:
  - send the requests in the order their expect_ordered_request calls were made, or make \
those calls in the order your code sends them; the refused requests came after the \
out-of-order one and follow from it"""


def test_an_ordered_flow_violation_says_what_came_in_which_order(server: HTTPServer) -> None:
    server.expect_ordered_request("/v1/forecast").respond_with_json({"high": 9})
    server.expect_ordered_request("/v1/login", method="POST").respond_with_data("ok")
    with requests.Session() as session:  # logs in, then fetches: the other order
        session.post(server.url_for("/v1/login"), timeout=TIMEOUT)
        session.get(server.url_for("/v1/forecast?city=Lima"), timeout=TIMEOUT)
    assert _teardown_text(server) == APPROVED_OUT_OF_ORDER


APPROVED_TAKEN = """\
httpserver: 1 HTTP problem in this test
1. expectation never used: oneshot any method '/v1/forecast' query {'city': 'Oslo'}
     taken by: oneshot any method '/v1/forecast' (registered earlier) answered \
GET /v1/forecast?city=Oslo, a request this one matches
to do:
  - another handler answered the request an unused expectation was meant for: register \
the narrower one first, or narrow the broader one"""


def test_an_unused_expectation_names_the_earlier_handler_that_took_its_request(
    server: HTTPServer,
) -> None:
    server.expect_oneshot_request("/v1/forecast").respond_with_json({"high": 0})
    server.expect_oneshot_request("/v1/forecast", query_string={"city": "Oslo"}).respond_with_json(
        {"high": 5}
    )
    requests.get(server.url_for("/v1/forecast?city=Oslo"), timeout=TIMEOUT)
    assert _teardown_text(server) == APPROVED_TAKEN


APPROVED_MISSING_HEADER = """\
httpserver: 1 HTTP problem in this test
1. no handler matched: GET /v1/forecast?city=Oslo
     request:  GET /v1/forecast?city=Oslo
     expected: a request matching a registered handler
     closest:  any method '/v1/forecast' header Authorization='Bearer s…(len 13)'
       - header Authorization: expected 'Bearer s…(len 13)', got no such header
     to replay it: curl -X GET 'http://localhost:PORT/v1/forecast?city=Oslo'
to do:
  - your code sent no Authorization header; the expectation asks for 'Bearer s…(len 13)': \
make your code send it (keep the check: it is what the test is for)"""


def test_a_missing_header_points_at_the_request_and_keeps_the_header_check(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SHOW_SECRETS_ENV, raising=False)
    server.expect_request(
        "/v1/forecast", headers={"Authorization": "Bearer s3cret"}
    ).respond_with_json({"high": 1})
    requests.get(server.url_for("/v1/forecast?city=Oslo"), timeout=TIMEOUT)
    text = _teardown_text(server)
    assert text == APPROVED_MISSING_HEADER
    assert "to match it" not in text  # its handler, for the request as sent, drops the check


APPROVED_JSON_TYPES = """\
httpserver: 2 HTTP problems in this test
1. no handler matched: POST /v1/observations
     request:  POST /v1/observations
               Content-Type: application/json
               body: '{"city": "Oslo", "t": -3.5}'
     expected: a request matching a registered handler
     closest:  POST '/v1/observations' json {'city': 'Oslo', 't': '-3.5'}
       - json t: expected '-3.5' (str), got -3.5 (float)
     to match it: httpserver.expect_request('/v1/observations', method='POST', \
json={'city': 'Oslo', 't': -3.5})
     to replay it: curl -X POST http://localhost:PORT/v1/observations -H \
'Content-Type: application/json' --data-raw '{"city": "Oslo", "t": -3.5}'
2. no handler matched: POST /v1/orders
     request:  POST /v1/orders
               Content-Type: application/json
               body: '{"qty": "9"}'
     expected: a request matching a registered handler
     closest:  POST '/v1/orders' json {'qty': 9}
       - json qty: expected 9 (int), got '9' (str)
     to replay it: curl -X POST http://localhost:PORT/v1/orders -H \
'Content-Type: application/json' --data-raw '{"qty": "9"}'
to do:
  - json t: the expectation has the number in quotes ('-3.5'); your code sent the number \
-3.5: change the expectation to -3.5, unless the API takes a string there (then your code \
is the one to change)
  - json qty: your code sent the number in quotes ('9'); the expectation has the number 9: \
make your code send a number"""


def test_a_json_type_difference_says_which_side_has_the_number_in_quotes(
    server: HTTPServer,
) -> None:
    server.expect_request(
        "/v1/observations", method="POST", json={"city": "Oslo", "t": "-3.5"}
    ).respond_with_data("", status=201)
    server.expect_request("/v1/orders", method="POST", json={"qty": 9}).respond_with_data("")
    with requests.Session() as session:
        session.post(
            server.url_for("/v1/observations"), json={"city": "Oslo", "t": -3.5}, timeout=TIMEOUT
        )
        session.post(server.url_for("/v1/orders"), json={"qty": "9"}, timeout=TIMEOUT)
    assert _teardown_text(server) == APPROVED_JSON_TYPES
