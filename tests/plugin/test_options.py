"""Options, ini twins, the report modes and the JUnit XML properties."""

from __future__ import annotations

import fnmatch
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ..support import SUITE_INI, Runner, load_json

ONE_BAD_ONE_GOOD = """
from client import get

def test_good(httpserver):
    httpserver.expect_request("/ok").respond_with_data("ok")
    assert get(httpserver.url_for("/ok")) == (200, "ok")

def test_bad(httpserver):
    get(httpserver.url_for("/bad"))
"""


def test_options_are_in_one_group_with_help_and_ini_twins(
    suite: pytest.Pytester, run: Runner
) -> None:
    result = run("--help")
    result.stdout.fnmatch_lines(
        [
            "pytest-httpdouble (HTTP test server):",
            "  --httpserver-report=MODE",
            "*end-of-run HTTP report: none, problems (the default) or*",
            "*Ini: httpserver_report.",
            "  --httpserver-report-json=PATH",
            "*Ini: httpserver_report_json.",
            "  --httpserver-host=HOST",
            "*PYTEST_HTTPSERVER_HOST.",
            "  --httpserver-port=PORT",
            "*PYTEST_HTTPSERVER_PORT.",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*httpserver_report (string):*",
            "*httpserver_teardown_check (bool):*",
        ]
    )
    markers = run("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.httpserver_nocheck: do not fail this test*"])


def test_report_none_prints_nothing_and_all_lists_every_request(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(test_two=ONE_BAD_ONE_GOOD)
    quiet = run("--httpserver-report=none")
    quiet.assert_outcomes(passed=2, errors=1)
    quiet.stdout.no_fnmatch_line("*httpdouble report*")
    full = run("--httpserver-report=all")
    full.stdout.fnmatch_lines(
        [
            "*httpdouble report*",
            "test_two.py::test_good [[]main[]]: 1 request",
            "    GET /ok -> 200 (matched)",
            "test_two.py::test_bad [[]main[]]: 1 request",
            "    GET /bad -> 500 (no handler)",
            "1 HTTP problem failed 1 test (shown above):",
        ]
    )


def test_ini_twins_set_the_report_mode_and_json_path(
    suite: pytest.Pytester, run: Runner, tmp_path: Path
) -> None:
    path = tmp_path / "from-ini.json"
    suite.makeini(f"{SUITE_INI}httpserver_report = all\nhttpserver_report_json = {path}\n")
    suite.makepyfile(test_two=ONE_BAD_ONE_GOOD)
    result = run()
    result.stdout.fnmatch_lines(["    GET /ok -> 200 (matched)"])
    assert load_json(path)["problem_count"] == 1


@pytest.mark.parametrize(
    ("where", "line"),
    [
        (
            "option",
            "ERROR: httpdouble: --httpserver-report is 'bogus'; expected none, problems or all",
        ),
        (
            "environment",
            "ERROR: httpdouble: the environment variable PYTEST_HTTPSERVER_PORT is 'abc';"
            " expected an integer from 0 to 65535 (0: a free port)",
        ),
        (
            "ini",
            "ERROR: httpdouble: the ini option httpserver_outside_problems is 'loud';"
            " expected fail (the default) or ignore",
        ),
    ],
    ids=["option", "environment", "ini"],
)
def test_a_bad_setting_is_one_line_at_startup_naming_where_it_came_from(
    suite: pytest.Pytester,
    run: Runner,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    line: str,
) -> None:
    suite.makepyfile("def test_port(httpserver):\n    pass\n")
    args = []
    if where == "option":
        args = ["--httpserver-report=bogus"]
    elif where == "environment":
        monkeypatch.setenv("PYTEST_HTTPSERVER_PORT", "abc")
    else:
        suite.makeini("[pytest]\nhttpserver_outside_problems = loud\n")
    result = run(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [text for text in result.stderr.lines if text] == [line]
    assert result.stdout.lines == []  # no test ran, nothing else was said


# Each setting the plugin registers, given a bad value: (ini lines, arguments, the one line).
BAD_SETTINGS = {
    "teardown-check-ini": (
        "httpserver_teardown_check = maybe",
        [],
        "the ini option httpserver_teardown_check is 'maybe';"
        " expected true or false (also: yes/no, on/off, 1/0)",
    ),
    "teardown-check-override": (
        "",
        ["-o", "httpserver_teardown_check=perhaps"],
        "-o httpserver_teardown_check is 'perhaps';"
        " expected true or false (also: yes/no, on/off, 1/0)",
    ),
    "keep-alive-ini": (
        "httpserver_keep_alive = sometimes",
        [],
        "the ini option httpserver_keep_alive is 'sometimes';"
        " expected true or false (also: yes/no, on/off, 1/0)",
    ),
    "html-report-in-proc": (
        "",
        ["--httpserver-report-html=/proc/nope/x.html"],
        "--httpserver-report-html is '/proc/nope/x.html'; expected a file path in a folder"
        " that exists (or can be made) and can be written; /proc/nope: *",
    ),
    "json-report-is-a-folder": (
        "",
        ["--httpserver-report-json=."],
        "--httpserver-report-json is '.'; expected a file path in a folder that exists"
        " (or can be made) and can be written; it is a folder",
    ),
    "json-report-ini-under-a-file": (
        "httpserver_report_json = client.py/report.json",
        [],
        "the ini option httpserver_report_json is 'client.py/report.json'; expected a file"
        " path in a folder that exists (or can be made) and can be written; client.py: *",
    ),
    "html-and-json-the-same-file": (
        "",
        ["--httpserver-report-json=r.out", "--httpserver-report-html=r.out"],
        "--httpserver-report-html is 'r.out'; expected another path than the JSON report's",
    ),
    "host-with-a-port": (
        "httpserver_host = localhost:8000",
        [],
        "the ini option httpserver_host is 'localhost:8000';"
        " expected a host name or IP address without a port, e.g. localhost or ::1",
    ),
    "report-mode-ini": (
        "httpserver_report = everything",
        [],
        "the ini option httpserver_report is 'everything'; expected none, problems or all",
    ),
    "port-option": (
        "",
        ["--httpserver-port=70000"],
        "--httpserver-port is '70000'; expected an integer from 0 to 65535 (0: a free port)",
    ),
    "outside-option": (
        "",
        ["--httpserver-outside-problems=maybe"],
        "--httpserver-outside-problems is 'maybe'; expected fail (the default) or ignore",
    ),
    "record-mode-ini": (
        "httpserver_record = sometimes",
        [],
        "the ini option httpserver_record is 'sometimes';"
        " expected none, once, new_episodes or all",
    ),
}


@pytest.mark.parametrize(("ini", "args", "line"), BAD_SETTINGS.values(), ids=BAD_SETTINGS)
def test_every_setting_is_checked_at_startup_in_one_line(
    suite: pytest.Pytester, run: Runner, ini: str, args: list[str], line: str
) -> None:
    suite.makeini(f"{SUITE_INI}{ini}\n")
    suite.makepyfile("def test_unused():\n    pass\n")  # a clean suite shows it too
    result = run(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    lines = [text for text in result.stderr.lines if text]
    assert len(lines) == 1, lines
    assert fnmatch.fnmatchcase(lines[0], f"ERROR: httpdouble: {line}"), lines[0]
    assert result.stdout.lines == []


def test_a_report_that_cannot_be_written_at_the_end_is_one_line_and_the_summary_prints(
    suite: pytest.Pytester, run: Runner, tmp_path: Path
) -> None:
    folder = tmp_path / "reports"
    suite.makepyfile(
        f"""
        import shutil
        from pathlib import Path

        def test_takes_the_folder_away(httpserver):
            folder = Path({str(folder)!r})
            shutil.rmtree(folder)
            folder.write_text("a file where the folder was")
        """
    )
    result = run(f"--httpserver-report-json={folder / 'r.json'}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            f"httpdouble: the JSON report could not be written to {folder / 'r.json'}:"
            " * (the run fails for it)",
            "*= 1 passed in *",
        ]
    )
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_findings_are_junit_xml_properties_of_the_failing_test(
    suite: pytest.Pytester, run: Runner, tmp_path: Path
) -> None:
    suite.makepyfile(test_two=ONE_BAD_ONE_GOOD)
    xml_path = tmp_path / "junit.xml"
    for args in ([], ["-n", "2"]):
        run(f"--junitxml={xml_path}", *args)
        cases = {case.get("name"): case for case in ET.parse(xml_path).iter("testcase")}
        bad = [p.get("value", "") for p in cases["test_bad"].iter("property")]
        good = [p.get("value", "") for p in cases["test_good"].iter("property")]
        assert good == []
        assert len(bad) == 1
        assert bad[0].startswith("no handler matched: GET /bad")
