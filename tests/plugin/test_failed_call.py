"""A test whose call failed shows its HTTP problems inside that failure, counted once.

Its teardown raises nothing more: no second ``ERROR`` beside the ``FAILED``, and a rerun
plugin (pytest-rerunfailures, flaky) sees one failed attempt, so a rerun that passes passes.
"""

from __future__ import annotations

import pytest

from ..support import RUN_TIMEOUT, Runner

SECTION = "*- HTTP problems of this test (httpdouble) -*"


@pytest.fixture
def run(pytester: pytest.Pytester) -> Runner:
    """Like the shared ``run``, with flaky and pytest-rerunfailures loaded (both installed)."""

    def runner(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "-p", "no:benchmark", *args, timeout=RUN_TIMEOUT
        )

    return runner


BROKEN_CLIENTS = """
import pytest
from client import get

@pytest.mark.xfail(reason="the client is known to ask for the wrong path")
def test_known_bug(httpserver):
    assert get(httpserver.url_for("/v1/old"))[0] == 200

def test_client_raised(httpserver):
    status, _ = get(httpserver.url_for("/v1/logon"))
    assert status == 200

def test_handler_raised(httpserver):
    def handler(request):
        raise LookupError("no such forecast")
    httpserver.expect_request("/f").respond_with_handler(handler)
    assert get(httpserver.url_for("/f"))[0] == 200

def test_good(httpserver):
    httpserver.expect_request("/ok").respond_with_data("ok")
    assert get(httpserver.url_for("/ok")) == (200, "ok")
"""


def test_http_problems_of_a_failed_call_are_a_section_of_that_failure_not_a_second_error(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(test_broken=BROKEN_CLIENTS)
    result = run()
    # No errors: each broken test is counted once, the expected failure too.
    result.assert_outcomes(failed=2, passed=1, xfailed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_client_raised _*",
            "E       assert 500 == 200",
            SECTION,
            "httpserver: 1 HTTP problem in this test",
            "1. no handler matched: GET /v1/logon",
            "to do:",
            "*_ test_handler_raised _*",
            SECTION,
            "Traceback (most recent call last):",
            '*raise LookupError("no such forecast")',
            "LookupError: no such forecast",
            "httpserver: 1 HTTP problem in this test",
            "1. handler raised: GET /f",
            "*LookupError: its traceback is above, as the cause",
        ]
    )
    result.stdout.no_fnmatch_line("*ERROR at teardown*")
    assert "httpdouble/_" not in result.stdout.str()  # the handler's frames only


RERUN_PASSES = """
import pytest
from client import get

ATTEMPTS = []

@pytest.mark.flaky({marker_args})
def test_second_attempt_passes(httpserver):
    ATTEMPTS.append(1)
    httpserver.expect_request("/ok").respond_with_data("ok")
    path = "/not-yet" if len(ATTEMPTS) == 1 else "/ok"
    assert get(httpserver.url_for(path)) == (200, "ok")
"""


@pytest.mark.parametrize(
    ("plugin", "other", "marker_args"),
    [("rerunfailures", "flaky", "reruns=1"), ("flaky", "rerunfailures", "max_runs=2")],
    ids=["pytest-rerunfailures", "flaky"],
)
def test_a_rerun_that_passes_passes_without_an_error_left_from_the_first_attempt(
    suite: pytest.Pytester, run: Runner, plugin: str, other: str, marker_args: str
) -> None:
    suite.makepyfile(test_rerun=RERUN_PASSES.format(marker_args=marker_args))
    result = run("-p", f"no:{other}")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 1, result.stdout.str()
    assert "error" not in outcomes
    assert "errors" not in outcomes
    assert "failed" not in outcomes
    assert result.ret == pytest.ExitCode.OK
    if plugin == "rerunfailures":
        assert outcomes.get("rerun") == 1
    else:
        result.stdout.fnmatch_lines(["*test_second_attempt_passes passed 1 out of the required*"])


def test_problems_of_a_test_that_passed_still_fail_it_at_teardown(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(
        test_t="""
        from client import get

        def test_status_checked(httpserver):
            assert get(httpserver.url_for("/nope"))[0] == 500
        """
    )
    result = run()  # flaky and pytest-rerunfailures are active here
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.no_fnmatch_line(SECTION)
    # No frame of pytest's runner, which flaky's wrapping used to leave in view.
    result.stdout.fnmatch_lines(
        [
            "*_ ERROR at teardown of test_status_checked _*",
            "",
            "E   httpdouble.HTTPDoubleFailure: httpserver: 1 HTTP problem in this test",
            "    1. no handler matched: GET /nope",
            "ERROR test_t.py::test_status_checked - httpdouble.HTTPDoubleFailure: *",
        ],
        consecutive=False,
    )
    result.stdout.no_fnmatch_line("*ihook*")


def test_an_unused_expectation_of_a_failed_call_counts_once(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(
        test_unused="""
def test_fails_with_an_expectation_left(httpserver):
    httpserver.expect_oneshot_request("/never").respond_with_data("x")
    assert False
"""
    )
    result = run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*1 test used httpserver, 0 requests, 1 HTTP problem",
            "1 HTTP problem failed 1 test (shown above):",
            "*test_fails_with_an_expectation_left*: expectation never used: oneshot*'/never'",
        ]
    )
    result.stdout.no_fnmatch_line("*2x expectation never used*")
    result.stdout.no_fnmatch_line("*with the teardown check off*")
