"""Approved output: the end-of-run report and a teardown failure, word for word.

Each test compares text (ports, addresses, worker ids and times normalised) with the
approved text kept here, so any change of wording shows in review.
"""

from __future__ import annotations

import pytest

from ..support import Runner
from .approval import block, normalised, section, sorted_worker_table

SUITE_A = """
import pytest
from client import get


def test_good(httpserver):
    httpserver.expect_request("/ok").respond_with_data("ok")
    assert get(httpserver.url_for("/ok")) == (200, "ok")


def test_retries(httpserver):
    httpserver.expect_request("/ok").respond_with_data("ok")
    for _ in range(3):
        get(httpserver.url_for("/retry?n=1"))


def test_handler_returns_a_dict(httpserver):
    httpserver.expect_request("/dict").respond_with_handler(lambda request: {"a": 1})
    assert get(httpserver.url_for("/dict"))[0] == 500


@pytest.mark.httpserver_nocheck
def test_unchecked(httpserver):
    get(httpserver.url_for("/loose"), "POST", b"x=1")
"""

SUITE_B = """
import pytest
from client import get


def test_first(httpserver):
    pass


@pytest.fixture
def early_request(make_httpserver):
    # Sent in this test's setup, before the httpserver fixture: no test registered anything.
    get(make_httpserver.url_for("/early"))


def test_second(early_request, httpserver):
    pass
"""

PROBLEMS = """\
4 HTTP problems failed 2 tests at teardown (shown above):
  test_a.py::test_handler_returns_a_dict [{w}]: handler raised: GET /dict
  test_a.py::test_retries [{w}]: 3x no handler matched: GET /retry?n=1
1 HTTP problem in 1 test with the teardown check off:
  test_a.py::test_unchecked [{w}]
    1. no handler matched: POST /loose
         request:  POST /loose
                   body: 'x=1'
         expected: a request matching a registered handler
         closest:  none (no handler was registered)
         to match it: httpserver.expect_request('/loose', method='POST', data='x=1')
         to replay it: curl -X POST http://localhost:PORT/loose --data-raw x=1
1 HTTP problem outside any test:
  [{w}] after test_b.py::test_first ended; likely sent by that test or code it started
    1. no handler matched: GET /early
         request:  GET /early
         expected: a request matching a registered handler
         closest:  none (no handler was registered)
         to match it: httpserver.expect_request('/early', method='GET')
         to replay it: curl -X GET http://localhost:PORT/early
to turn the teardown check off: @pytest.mark.httpserver_nocheck on a test, or \
'httpserver_teardown_check = false' in the pytest ini file
httpdouble: the run fails for 1 HTTP problem outside any test's teardown check \
(to only report such problems: --httpserver-outside-problems=ignore)"""

APPROVED_SERIAL = (
    "httpdouble: 1 server, 6 tests used httpserver, 7 requests, 6 HTTP problems\n"
    + PROBLEMS.format(w="main")
)

APPROVED_N2 = (
    "httpdouble: 2 servers, 6 tests used httpserver, 7 requests, 6 HTTP problems\n"
    "  ports: chosen by the controller, so no two workers share one\n"
    "  gwN       1 request   2 tests  http://localhost:PORT on HOST\n"
    "  gwN      6 requests   4 tests  http://localhost:PORT on HOST\n" + PROBLEMS.format(w="gwN")
)

APPROVED_TEARDOWN_FAILURE = """\
_______________ ERROR at teardown of test_handler_returns_a_dict _______________
TypeError: handler function returned dict {'a': 1}
  expected: a werkzeug Response, a str (the body), or None (an empty 200)
  to fix: return Response(body, status=..., mimetype=...) from the function

The above exception was the direct cause of the following exception:

E   httpdouble.HTTPDoubleFailure: httpserver: 1 HTTP problem in this test
    1. handler raised: GET /dict
         request:  GET /dict
         expected: any method '/dict'
         TypeError: its traceback is above, as the cause
    to do:
      - fix the handler function: its exception is chained above as the cause"""

APPROVED_RETRIES = """\
E   httpdouble.HTTPDoubleFailure: httpserver: 3 HTTP problems in this test
    1. 3x no handler matched: GET /retry?n=1
         request:  GET /retry?n=1
         expected: a request matching a registered handler
         closest:  any method '/ok'
           - uri: expected '/ok', got '/retry'
         to match it: httpserver.expect_request('/retry', method='GET', query_string={'n': '1'})
         to replay it: curl -X GET 'http://localhost:PORT/retry?n=1'
    to do:
      - uri: your code sent '/retry' where the expectation has '/ok': fix your code's \
request if the expectation is right, else the expectation"""


@pytest.fixture
def shapes(suite: pytest.Pytester) -> pytest.Pytester:
    suite.makepyfile(test_a=SUITE_A, test_b=SUITE_B)
    return suite


def test_serial_run_shows_each_problem_once(shapes: pytest.Pytester, run: Runner) -> None:
    result = run()
    result.assert_outcomes(passed=6, errors=2)
    output = normalised(result.stdout.str())
    assert section(output) == APPROVED_SERIAL
    first = "_______________ ERROR at teardown of test_handler_returns_a_dict _______________"
    assert block(output, first) == APPROVED_TEARDOWN_FAILURE
    retries = "E   httpdouble.HTTPDoubleFailure: httpserver: 3 HTTP problems in this test"
    assert block(output, retries) == APPROVED_RETRIES
    # Said once per run, not once per failure; nothing of pytest's hidden-frames note.
    assert output.count("to turn the teardown check off") == 1
    assert "All traceback entries are hidden" not in output
    assert "httpdouble/" not in output  # none of our frames


def test_xdist_run_report_is_the_serial_one_with_a_worker_table(
    shapes: pytest.Pytester, run: Runner
) -> None:
    # loadfile: test_b's two tests run in order on one worker, so "after test_first" holds.
    result = run("-n", "2", "--dist", "loadfile")
    result.assert_outcomes(passed=6, errors=2)
    output = normalised(result.stdout.str())
    assert sorted_worker_table(section(output)) == APPROVED_N2
    assert output.count("to turn the teardown check off") == 1
    assert "All traceback entries are hidden" not in output


OUTSIDE_ONLY = """
from client import get


def test_first(httpserver):
    pass


def test_second(make_httpserver, httpserver_listen_address):
    # make_httpserver without httpserver: nothing checks this request at teardown.
    get(make_httpserver.url_for("/unchecked"))
"""


def test_problem_outside_any_test_fails_the_run_unless_ignored(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(test_outside=OUTSIDE_ONLY)
    result = run()
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert normalised(section(result.stdout.str())) == (
        "httpdouble: 1 server, 1 test used httpserver, 1 request, 1 HTTP problem\n"
        "1 HTTP problem in 1 test that no teardown check saw (found at the end of the session:"
        " the test used a server without the httpserver fixture):\n"
        "  test_outside.py::test_second [main]\n"
        "    1. no handler matched: GET /unchecked\n"
        "         request:  GET /unchecked\n"
        "         expected: a request matching a registered handler\n"
        "         closest:  none (no handler was registered)\n"
        "         to match it: httpserver.expect_request('/unchecked', method='GET')\n"
        "         to replay it: curl -X GET http://localhost:PORT/unchecked\n"
        "httpdouble: the run fails for 1 HTTP problem outside any test's teardown check"
        " (to only report such problems: --httpserver-outside-problems=ignore)"
    )
    ignored = run("--httpserver-outside-problems=ignore")
    assert ignored.ret == pytest.ExitCode.OK
    ignored.stdout.fnmatch_lines(["  test_outside.py::test_second [[]main[]]"])
    ignored.stdout.no_fnmatch_line("*the run fails*")
