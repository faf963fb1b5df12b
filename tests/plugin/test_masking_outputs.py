"""Every output of a run masks credentials: teardown failure, report, JSON and JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ..support import Runner

LEAKY_TEST = """
from client import get

def test_leaky(httpserver):
    httpserver.expect_request(
        "/me", headers={"Authorization": "Bearer s3cr3t-0123456789abcdef"}
    ).respond_with_data("me")
    status, body = get(
        httpserver.url_for("/me?token=t0k3n-abcdefgh"),
        headers={"Authorization": "Bearer s3cr3t-0123456789abcdeX"},
    )
    assert status == 500
"""


def test_teardown_report_json_and_junit_show_the_token_masked(
    suite: pytest.Pytester, run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HTTPDOUBLE_SHOW_SECRETS", raising=False)
    suite.makepyfile(test_leaky=LEAKY_TEST)
    json_path = tmp_path / "report.json"
    xml_path = tmp_path / "junit.xml"
    html_path = tmp_path / "report.html"
    result = run(
        f"--httpserver-report-json={json_path}",
        f"--junitxml={xml_path}",
        f"--httpserver-report-html={html_path}",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_leaky*",
            "*no handler matched: GET /me?token=t0…(len 14)",
            "*Authorization: Bearer s3…(len 30)",
            "*header Authorization: expected 'Bearer s3…(len 30)',"
            " got 'Bearer s3…(len 30)' (differ at char 30)",
        ]
    )
    junit = [p.get("value", "") for p in ET.parse(xml_path).iter("property")]
    outputs = {
        "terminal (teardown and report)": result.stdout.str(),
        "JSON": json_path.read_text(encoding="utf-8"),
        "JUnit": "\n".join(junit),
        "HTML": html_path.read_text(encoding="utf-8"),
    }
    for where, text in outputs.items():
        assert "(len 30)" in text, where
        assert "s3cr3t" not in text, where
        assert "t0k3n" not in text, where


def test_show_secrets_environment_variable_shows_them_in_the_teardown_failure(
    suite: pytest.Pytester, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPDOUBLE_SHOW_SECRETS", "1")
    suite.makepyfile(test_leaky=LEAKY_TEST)
    result = run()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*expected 'Bearer s3cr3t-0123456789abcdef', got 'Bearer s3cr3t-0123456789abcdeX'"]
    )
