"""The fixtures: a cleared server per test, one server per process, overridable settings."""

from __future__ import annotations

import textwrap

import pytest

from ..support import SUITE_INI, Runner


def test_httpserver_fixture_serves_registered_responses(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(
        """
        from client import get

        def test_one(httpserver):
            httpserver.expect_request("/a").respond_with_data("alpha")
            assert get(httpserver.url_for("/a")) == (200, "alpha")
        """
    )
    run().assert_outcomes(passed=1)


def test_each_test_gets_the_same_server_cleared(suite: pytest.Pytester, run: Runner) -> None:
    suite.makepyfile(
        """
        from client import get
        ports = []

        def test_first(httpserver):
            ports.append(httpserver.port)
            httpserver.expect_request("/a").respond_with_data("alpha")
            assert get(httpserver.url_for("/a"))[0] == 200
            # Settings a test changes for itself must not leak into the next one.
            httpserver.no_handler_status_code = 404
            httpserver.ordered_fall_through = True

        def test_second_sees_no_handler_and_no_log(httpserver):
            assert httpserver.port == ports[0]
            assert httpserver.no_handler_status_code == 500
            assert httpserver.ordered_fall_through is False
            assert httpserver.log == []
            assert httpserver.format_matchers().count("/a") == 0
            httpserver.expect_request("/b").respond_with_data("beta")
            assert get(httpserver.url_for("/b")) == (200, "beta")
        """
    )
    run().assert_outcomes(passed=2)


def test_address_and_tls_context_overridden_in_a_conftest_start_the_server(
    suite: pytest.Pytester, run: Runner
) -> None:
    # make_httpserver asks for both when it starts (not as arguments, issue 27): the
    # overrides must win all the same.
    import portpicker

    port = portpicker.pick_unused_port()
    suite.makeconftest(
        f"""
        import pytest
        import trustme

        CA = trustme.CA()

        @pytest.fixture(scope="session")
        def httpserver_listen_address():
            return ("127.0.0.1", {port})

        @pytest.fixture(scope="session")
        def httpserver_ssl_context():
            import ssl

            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            CA.issue_cert("127.0.0.1").configure_cert(context)
            return context

        @pytest.fixture(scope="session")
        def ca_bundle(tmp_path_factory):
            path = tmp_path_factory.mktemp("ca") / "ca.pem"
            CA.cert_pem.write_to_path(str(path))
            return str(path)
        """
    )
    suite.makepyfile(
        f"""
        import requests

        def test_host_port_and_tls(httpserver, ca_bundle):
            assert (httpserver.host, httpserver.port) == ("127.0.0.1", {port})
            httpserver.expect_request("/x").respond_with_data("over tls")
            url = httpserver.url_for("/x")
            assert url.startswith("https://127.0.0.1:")
            assert requests.get(url, verify=ca_bundle, timeout=10).text == "over tls"
        """
    )
    run().assert_outcomes(passed=1)


def test_overrides_of_make_httpserver_by_scope_are_the_servers_tests_get(
    suite: pytest.Pytester, run: Runner
) -> None:
    # httpserver does not take make_httpserver as an argument (issue 27), yet each test must
    # get the one pytest would give it: a conftest's session override, a module's own
    # (set up again for each module, torn down at its end), a function-scoped one (a new
    # server for each test), and the plugin's where no override is visible.
    suite.mkpydir("session_wide")
    suite.path.joinpath("session_wide", "conftest.py").write_text(
        textwrap.dedent(
            """
            import pytest
            from httpdouble import HTTPServer

            class Tagged(HTTPServer):
                tag = "session"

            @pytest.fixture(scope="session")
            def make_httpserver():
                server = Tagged(port=0)
                server.start()
                yield server
                server.stop()
            """
        )
    )
    suite.path.joinpath("session_wide", "test_session.py").write_text(
        textwrap.dedent(
            """
            def test_one(httpserver):
                assert httpserver.tag == "session"

            def test_two(httpserver):
                assert httpserver.tag == "session"
            """
        )
    )
    per_module = """
        import pytest
        from httpdouble import HTTPServer

        made = []

        @pytest.fixture(scope="{scope}")
        def make_httpserver():
            server = HTTPServer(port=0)
            server.start()
            made.append(server)
            yield server
            server.stop()

        def test_one(httpserver):
            assert httpserver is made[-1]

        def test_two(httpserver):
            assert httpserver is made[-1]
            assert len(made) == {count}
        """
    suite.makepyfile(
        test_module_a=per_module.format(scope="module", count=1),
        test_module_b=per_module.format(scope="module", count=1),
        test_function=per_module.format(scope="function", count=2),
        test_plain="""
            from httpdouble.pytest_plugin import Plugin

            def test_plugins(httpserver):
                assert Plugin.SERVER is httpserver
                assert not hasattr(httpserver, "tag")
        """,
        # An indirect parameter changes pytest's cache key: the tests around it must not
        # get the server pytest set up for it, nor one it tore down.
        test_indirect="""
            import pytest
            from httpdouble import HTTPServer

            class Tagged(HTTPServer):
                tag = ""

            @pytest.fixture(scope="module")
            def make_httpserver(request):
                server = Tagged(port=0)
                server.tag = getattr(request, "param", "plain")
                server.start()
                yield server
                server.stop()

            def test_a(httpserver):
                assert (httpserver.tag, httpserver.is_running()) == ("plain", True)

            @pytest.mark.parametrize("make_httpserver", ["tls"], indirect=True)
            def test_b(httpserver, make_httpserver):
                assert httpserver is make_httpserver
                assert (httpserver.tag, httpserver.is_running()) == ("tls", True)

            def test_c(httpserver):
                assert (httpserver.tag, httpserver.is_running()) == ("plain", True)
        """,
    )
    run("-p", "no:randomly").assert_outcomes(passed=12)


def test_a_parametrized_or_narrower_override_says_how_to_have_arguments_again(
    suite: pytest.Pytester, run: Runner
) -> None:
    # The fixtures ask for these instead of taking them as arguments (issue 27), so pytest
    # cannot parametrize tests by them: that is a clear error naming the ini switch, and
    # with the switch the tests run once per parameter, as with pytest-httpserver. A
    # module-scoped address is refused as pytest-httpserver's ScopeMismatch refuses it.
    suite.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session", params=["first", "second"])
        def httpserver_ssl_context(request):
            return None
        """
    )
    suite.makepyfile(
        test_params="""
            def test_plain(httpserver):
                assert httpserver.url_for("/").startswith("http://")

            def test_asks_too(httpserver, httpserver_ssl_context):
                pass
        """
    )
    failed = run("-p", "no:randomly", "test_params.py")
    failed.assert_outcomes(errors=3)
    failed.stdout.fnmatch_lines(
        [
            "*invalid the httpserver_ssl_context fixture*",
            "*httpserver_fixture_arguments = true*",
        ]
    )
    suite.makeini(SUITE_INI + "httpserver_fixture_arguments = true\n")
    run("-p", "no:randomly", "test_params.py").assert_outcomes(passed=4)
    suite.makeini(SUITE_INI)
    suite.path.joinpath("conftest.py").unlink()
    suite.makepyfile(
        test_params="""
            import pytest

            @pytest.fixture(scope="module")
            def httpserver_listen_address():
                return ("127.0.0.1", 0)

            def test_plain(httpserver):
                pass
        """
    )
    refused = run("-p", "no:randomly", "test_params.py")
    refused.assert_outcomes(errors=1)
    refused.stdout.fnmatch_lines(["*a session-scoped fixture*", "*got: *module-scoped*"])


def test_port_option_and_environment_variable_fix_the_port(
    suite: pytest.Pytester, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import portpicker

    option_port = portpicker.pick_unused_port()
    env_port = portpicker.pick_unused_port()
    suite.makepyfile(
        f"""
        import os

        def test_port(httpserver):
            expected = {option_port} if os.environ.get("USE_OPTION") else {env_port}
            assert httpserver.port == expected
        """
    )
    monkeypatch.setenv("PYTEST_HTTPSERVER_PORT", str(env_port))
    run().assert_outcomes(passed=1)
    monkeypatch.setenv("USE_OPTION", "1")
    run(f"--httpserver-port={option_port}").assert_outcomes(passed=1)


def test_listen_address_hook_chooses_per_worker(suite: pytest.Pytester, run: Runner) -> None:
    suite.makeconftest(
        """
        def pytest_httpdouble_listen_address(config, worker_id):
            return ("127.0.0.1", 0)
        """
    )
    suite.makepyfile(
        """
        def test_host(httpserver):
            assert httpserver.host == "127.0.0.1"
        """
    )
    run().assert_outcomes(passed=1)
    run("-n", "2").assert_outcomes(passed=1)


def test_make_httpserver_is_one_server_for_the_session(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(
        """
        seen = set()

        def test_a(make_httpserver, httpserver):
            assert make_httpserver is httpserver
            seen.add(id(make_httpserver))

        def test_b(make_httpserver):
            seen.add(id(make_httpserver))
            assert len(seen) == 1
            assert make_httpserver.is_running()
        """
    )
    run().assert_outcomes(passed=2)


def test_httpsserver_serves_tls_that_clients_can_verify(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(
        """
        import requests
        import urllib3

        def test_tls(httpsserver, httpsserver_certificates):
            httpsserver.expect_request("/s").respond_with_json({"tls": True})
            url = httpsserver.url_for("/s")
            assert url.startswith("https://")
            with requests.Session() as session:
                response = session.get(url, verify=httpsserver_certificates.ca_bundle)
                assert response.json() == {"tls": True}
            with urllib3.PoolManager(ca_certs=httpsserver_certificates.ca_bundle) as pool:
                assert pool.request("GET", url).json() == {"tls": True}
        """
    )
    run().assert_outcomes(passed=1)


def test_plugin_can_be_disabled_with_p_no(suite: pytest.Pytester, run: Runner) -> None:
    suite.makepyfile(
        """
        def test_plain():
            pass

        def test_uses_fixture(httpserver):
            pass
        """
    )
    result = run("-p", "no:httpdouble")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'httpserver' not found*"])
    result.stdout.no_fnmatch_line("*httpdouble:*")


def test_plugin_works_without_xdist(suite: pytest.Pytester, run: Runner) -> None:
    suite.makepyfile(
        """
        from client import get

        def test_one(httpserver):
            httpserver.expect_request("/a").respond_with_data("alpha")
            assert get(httpserver.url_for("/a")) == (200, "alpha")
        """
    )
    for args in (["-p", "no:xdist"], ["-n", "0"]):
        result = run(*args)
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(
            ["httpdouble: 1 server, 1 test used httpserver, 1 request, no HTTP problems"]
        )


def test_pytest_httpserver_installed_too_is_a_clear_error(
    suite: pytest.Pytester, run: Runner
) -> None:
    # A module of that name, loaded as a plugin, is what an installed pytest-httpserver does.
    suite.makepyfile(pytest_httpserver="import pytest\n")
    suite.makepyfile("def test_plain():\n    pass\n")
    result = run("-p", "pytest_httpserver")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*pytest-httpdouble and pytest-httpserver are both active*",
            "*to fix: uninstall one of them*-p no:pytest_httpserver or -p no:httpdouble*",
        ]
    )


def test_handler_timeout_set_by_one_test_does_not_leak(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(
        """
        def test_sets(httpserver):
            httpserver.handler_timeout = 0.5

        def test_sees_default(httpserver):
            assert httpserver.handler_timeout == 30.0
        """
    )
    run().assert_outcomes(passed=2)


def test_ipv4_and_ipv6_fixtures_listen_on_one_family_each(
    suite: pytest.Pytester, run: Runner, ipv6_loopback: str
) -> None:
    suite.makepyfile(
        """
        from client import get

        def test_ipv4(httpserver_ipv4):
            assert httpserver_ipv4.host == "127.0.0.1"
            httpserver_ipv4.expect_request("/4").respond_with_data("four")
            assert get(httpserver_ipv4.url_for("/4")) == (200, "four")

        def test_ipv6(httpserver_ipv6):
            assert httpserver_ipv6.url_for("/6").startswith("http://[::1]:")
            httpserver_ipv6.expect_request("/6").respond_with_data("six")
            assert get(httpserver_ipv6.url_for("/6")) == (200, "six")
        """
    )
    run().assert_outcomes(passed=2)


def test_listen_address_override_may_leave_host_and_port_to_the_defaults(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def httpserver_listen_address():
            return (None, None)
        """
    )
    suite.makepyfile(
        """
        def test_defaults(httpserver):
            assert httpserver.host == "localhost"
            assert httpserver.port > 0
        """
    )
    run().assert_outcomes(passed=1)


def test_non_loopback_host_for_the_fixtures_says_how_to_listen_elsewhere(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile("def test_host(httpserver):\n    pass\n")
    result = run("--httpserver-host=0.0.0.0")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*invalid host for the httpserver fixtures*",
            "*got:      '0.0.0.0'*",
            "*override make_httpserver with HTTPServer(host, allow_non_loopback=True)*",
        ]
    )
