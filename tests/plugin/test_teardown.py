"""Failures surface by themselves at teardown, once, with expected / got / what to do."""

from __future__ import annotations

import pytest

from ..support import SUITE_INI, Runner


def test_unmatched_request_fails_the_test_at_teardown(suite: pytest.Pytester, run: Runner) -> None:
    suite.makepyfile(
        """
        from client import get

        def test_query(httpserver):
            httpserver.expect_request("/items", query_string="page=1").respond_with_data("x")
            assert get(httpserver.url_for("/items?page=2"))[0] == 500
        """
    )
    result = run()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_query*",
            "E   httpdouble.HTTPDoubleFailure: httpserver: 1 HTTP problem in this test",
            "*1. no handler matched: GET /items?page=2",
            "*closest:  any method '/items' query 'page=1'",
            "*- query_string: expected 'page=1', got 'page=2'",
            "*to do:",
            "*- query_string: your code sent 'page=2' where the expectation has 'page=1':"
            " fix your code's request if the expectation is right, else the expectation",
            "*httpdouble report*",
            "to turn the teardown check off: @pytest.mark.httpserver_nocheck on a test, or"
            " 'httpserver_teardown_check = false' in the pytest ini file",
        ]
    )
    # Our own frames stay out of the traceback.
    result.stdout.no_fnmatch_line("*httpdouble/plugin.py*")


def test_unused_oneshot_and_ordered_handlers_fail_at_teardown(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(
        """
        def test_never_sent(httpserver):
            httpserver.expect_oneshot_request("/once", method="POST").respond_with_data("")
            httpserver.expect_ordered_request("/first").respond_with_data("")
            httpserver.expect_request("/permanent").respond_with_data("")
        """
    )
    result = run()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*httpserver: 2 HTTP problems in this test",
            # In lookup order: the ordered list first, then oneshot.
            "*1. expectation never used: ordered any method '/first'",
            "*2. expectation never used: oneshot POST '/once'",
            "*send the expected request, or remove the expectation*",
        ]
    )
    result.stdout.no_fnmatch_line("*'/permanent'*")


def test_handler_exception_is_the_cause_of_the_teardown_failure(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(
        """
        from client import get

        def test_boom(httpserver):
            def handler(request):
                raise LookupError("no such forecast")
            httpserver.expect_request("/f").respond_with_handler(handler)
            status, text = get(httpserver.url_for("/f"))
            assert status == 500
        """
    )
    result = run()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*LookupError: no such forecast",
            "*The above exception was the direct cause of the following exception*",
            "*1. handler raised: GET /f",
            "*LookupError: its traceback is above, as the cause",
            "*fix the handler function*",
        ]
    )
    # The handler's frames only: none of our dispatch code, no hidden-frames note.
    output = result.stdout.str()
    assert "httpdouble/_" not in output
    assert "All traceback entries are hidden" not in output


def test_what_check_assertions_raised_is_not_raised_again(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(
        """
        import pytest
        from client import get

        def test_checked(httpserver):
            get(httpserver.url_for("/nothing"))
            with pytest.raises(AssertionError, match="no handler matched: GET /nothing"):
                httpserver.check_assertions()
            httpserver.check_assertions()  # nothing left
        """
    )
    run().assert_outcomes(passed=1)


def test_marker_turns_the_check_off_but_the_report_keeps_the_problem(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(
        """
        import pytest
        from client import get

        @pytest.mark.httpserver_nocheck
        def test_unchecked(httpserver):
            get(httpserver.url_for("/loose"))
        """
    )
    result = run()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "1 HTTP problem in 1 test with the teardown check off:",
            "  test_marker_turns*.py::test_unchecked [[]main[]]",
            "    1. no handler matched: GET /loose",
        ]
    )


def test_ini_option_turns_the_check_off(suite: pytest.Pytester, run: Runner) -> None:
    suite.makeini(f"{SUITE_INI}httpserver_teardown_check = false\n")
    suite.makepyfile(
        """
        from client import get

        def test_unchecked(httpserver):
            get(httpserver.url_for("/loose"))
        """
    )
    run().assert_outcomes(passed=1)


def test_request_between_tests_is_reported_outside_any_test(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(
        """
        import threading
        from client import get

        late = threading.Event()

        def test_first(httpserver):
            url = httpserver.url_for("/late")
            # A request sent after the test ended (a background thread of the code under test).
            thread = threading.Thread(target=lambda: (late.wait(10), get(url)))
            thread.start()
            test_first.thread = thread

        def test_second(httpserver):
            pass
        """
    )
    suite.makeconftest(
        """
        import pytest

        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_protocol(item, nextitem):
            # An outer wrapper: by now the plugin considers test_first finished.
            result = yield
            if item.name == "test_first":
                item.module.late.set()
                item.module.test_first.thread.join(10)
            return result
        """
    )
    result = run()
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # nothing else reported it
    result.stdout.fnmatch_lines(
        [
            "1 HTTP problem outside any test:",
            "  [[]main[]] after test_request_between_tests_is_reported_outside_any_test.py"
            "::test_first ended; likely sent by that test or code it started",
            "    1. no handler matched: GET /late",
        ]
    )
