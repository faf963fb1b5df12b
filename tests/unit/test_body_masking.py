"""Secrets in bodies, in differences under secret names, and in paste-ready lines (issue 24)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import Request

from httpdouble import (
    Finding,
    HTTPDoubleUsageError,
    Kind,
    Mismatch,
    Part,
    RequestDispatcher,
    RequestMatcher,
    RequestSummary,
    add_secret_names,
)
from httpdouble._log.request_log import Stamp
from httpdouble._matching import body_masking, masking, secret_names
from httpdouble._report.exchanges import body_data, exchanges_data
from httpdouble._report.replay import curl_line, expect_request_line


@pytest.fixture(autouse=True)
def _secrets_hidden(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(masking.SHOW_SECRETS_ENV, raising=False)
    yield
    secret_names.configure_names(())
    secret_names._added.clear()


def _request(
    path: str = "/", body: bytes | str = b"", content_type: str = "", query: str = ""
) -> Request:
    headers = [("Content-Type", content_type)] if content_type else []
    builder = EnvironBuilder(
        path=path, method="POST", data=body, headers=headers, query_string=query
    )
    return Request(builder.get_environ())


def _finding(matcher: RequestMatcher, request: Request) -> Finding:
    return Finding(
        Kind.NO_HANDLER,
        Stamp.now(),
        RequestSummary.of(request),
        expected="a request matching a registered handler",
        closest=matcher.describe(),
        differences=tuple(matcher.difference(request)),
    )


# ------------------------------------------------------------------------ names


@pytest.mark.parametrize(
    "name",
    ["password", "passwd", "secret", "client_secret", "token", "access_token", "refresh_token",
     "id_token", "api_key", "apikey", "private_key", "session", "X-Session-Id", "db_PASSWORD",
     "Idempotency-Key"],
)  # fmt: skip
def test_every_listed_name_and_names_that_contain_one_are_secret(name: str) -> None:
    assert secret_names.is_secret_name(name)
    assert secret_names.is_secret_header(name)


@pytest.mark.parametrize(
    "name", ["user", "grant_type", "email", "scope", "pin", "token_type", "token_type_hint"]
)
def test_other_names_are_not_secret(name: str) -> None:
    assert not secret_names.is_secret_name(name)


def test_names_added_by_the_library_or_the_ini_option_are_secret_too() -> None:
    add_secret_names("PIN")
    secret_names.configure_names(["otp"])
    assert secret_names.is_secret_name("card_pin")
    assert secret_names.is_secret_name("OTP-code")
    assert body_masking.body_text('{"pin": 1234}', "application/json") == '{"pin": "1…(len 4)"}'
    assert masking.query("otp=123456&x=1") == "otp=1…(len 6)&x=1"


def test_a_name_that_is_not_a_string_is_a_usage_error_saying_what_to_pass() -> None:
    with pytest.raises(HTTPDoubleUsageError, match="add_secret_names") as caught:
        add_secret_names("pin", 4)  # type: ignore[arg-type]
    assert "non-empty strings" in str(caught.value)


# ------------------------------------------------------------------------ bodies


def test_a_json_body_is_masked_at_any_depth_and_still_decodes() -> None:
    text = json.dumps(
        {"user": {"name": "ann", "credentials": {"password": "hunter22", "pin": 1234}}},
    )
    masked = json.loads(body_masking.body_text(text, "application/json"))
    assert masked == {
        "user": {"name": "ann", "credentials": {"password": "hu…(len 8)", "pin": 1234}}
    }


def test_every_value_under_a_secret_key_is_masked_whatever_its_shape() -> None:
    text = json.dumps({"session": {"id": "abcdefgh", "n": 42}, "tokens": ["t-0123456", "t-2"]})
    masked = json.loads(body_masking.body_text(text, "application/json"))
    assert masked == {
        "session": {"id": "ab…(len 8)", "n": "…(len 2)"},
        "tokens": ["t-…(len 9)", "…(len 3)"],
    }


def test_a_json_body_cut_short_is_masked_by_its_text() -> None:
    assert body_masking.body_text('{"a": 1, "refresh_token": "abcdefghij', "") == (
        '{"a": 1, "refresh_token": "ab…(len 10)"'
    )


def test_a_form_body_is_masked_field_by_field() -> None:
    form = "grant_type=refresh_token&refresh_token=r-0123456789&client_secret=cs-0123456"
    assert body_masking.body_text(form, "application/x-www-form-urlencoded") == (
        "grant_type=refresh_token&refresh_token=r-…(len 12)&client_secret=cs…(len 10)"
    )


MULTIPART = (
    '--XX\r\nContent-Disposition: form-data; name="api_key"\r\n\r\nk-0123456789\r\n'
    '--XX\r\nContent-Disposition: form-data; name="doc"; filename="a.txt"\r\n'
    "Content-Type: text/plain\r\n\r\nhello\r\n--XX--\r\n"
)


def test_a_multipart_field_is_masked_and_other_parts_are_kept() -> None:
    masked = body_masking.body_text(MULTIPART, "multipart/form-data; boundary=XX")
    assert masked == MULTIPART.replace("k-0123456789", "k-…(len 12)")


def test_request_summary_masks_the_body_before_cutting_it() -> None:
    body = json.dumps({"password": "hunter22", "padding": "x" * 400})
    summary = RequestSummary.of(_request("/login", body, "application/json"))
    assert "hunter22" not in summary.body
    assert summary.body.startswith('{"password": "hu…(len 8)", "padding": "xxx')


def test_exchanges_mask_request_and_response_bodies_for_the_html_and_json_reports() -> None:
    dispatcher = RequestDispatcher()
    dispatcher.expect_request("/token").respond_with_json(
        {"access_token": "at-0123456789", "token_type": "Bearer", "expires_in": 3600}
    )
    Client(dispatcher).post(
        "/token",
        data="grant_type=password&username=ann&password=hunter22",
        content_type="application/x-www-form-urlencoded",
    )
    [exchange] = exchanges_data(dispatcher.log_entries)
    assert exchange["request"]["body"]["text"] == (
        "grant_type=password&username=ann&password=hu…(len 8)"
    )
    assert json.loads(exchange["response"]["body"]["text"]) == {
        "access_token": "at…(len 13)",
        "token_type": "Bearer",
        "expires_in": 3600,
    }
    assert exchange["request"]["body"]["cut"] is False
    assert "hunter22" not in json.dumps(exchange)


def test_a_binary_body_stays_hidden_and_a_long_one_is_cut_after_masking() -> None:
    assert body_data(b"\x00\x01" * 10, "")["binary"] is True
    long = json.dumps({"token": "t" * 40, "rest": "y" * 3000}).encode()
    data = body_data(long, "application/json")
    assert data["cut"] is True
    assert data["text"].startswith('{"token": "tt…(len 40)"')


# ----------------------------------------------------------- the expected side


def test_a_wrong_json_password_is_masked_on_both_sides_and_still_said_to_differ() -> None:
    matcher = RequestMatcher("/login", json={"user": "ann", "password": "hunter22"})
    request = _request("/login", json.dumps({"user": "ann", "password": "hunter23"}))
    finding = _finding(matcher, request)
    assert [str(m) for m in finding.differences] == [
        "json password: expected 'hu…(len 8)' (str), got 'hu…(len 8)' (str) (differ at char 8)"
    ]
    assert finding.closest == "any method '/login' json {'user': 'ann', 'password': 'hu…(len 8)'}"
    assert "hunter2" not in finding.render()


def test_an_equal_masked_value_is_not_listed_and_other_keys_are_shown_in_full() -> None:
    matcher = RequestMatcher("/login", json={"user": "ann", "password": "hunter22"})
    request = _request("/login", json.dumps({"user": "bob", "password": "hunter22"}))
    assert [str(m) for m in _finding(matcher, request).differences] == [
        "json user: expected 'ann' (str), got 'bob' (str)"
    ]


def test_a_secret_of_another_type_or_length_says_so() -> None:
    matcher = RequestMatcher("/", json={"pin_token": 1234})
    finding = _finding(matcher, _request("/", json.dumps({"pin_token": "12345"})))
    assert [str(m) for m in finding.differences] == [
        "json pin_token: expected …(len 4) (int), got '1…(len 5)' (str)"
    ]


def test_extra_and_missing_secret_keys_are_masked() -> None:
    matcher = RequestMatcher("/", json={"a": 1, "secret": "s-0123456"})
    finding = _finding(matcher, _request("/", json.dumps({"a": 1, "token": "t-0123456"})))
    assert [str(m) for m in finding.differences] == [
        "json secret: expected 's-…(len 9)' (str), got missing key 'secret'",
        "json token: expected no key 'token', got extra key 'token': 't-…(len 9)' (str)",
    ]


def test_json_contains_form_and_multipart_differences_under_secret_names_are_masked() -> None:
    matcher = RequestMatcher(
        "/",
        json_contains={"auth": {"client_secret": "cs-0123456"}},
    )
    finding = _finding(
        matcher, _request("/", json.dumps({"auth": {"client_secret": "cs-0123457"}}))
    )
    assert [str(m) for m in finding.differences] == [
        "json_contains auth.client_secret: expected 'cs…(len 10)' (str),"
        " got 'cs…(len 10)' (str) (differ at char 10)"
    ]
    form = RequestMatcher("/", form={"refresh_token": "r-0123456789"})
    finding = _finding(
        form, _request("/", "refresh_token=r-0123456780", "application/x-www-form-urlencoded")
    )
    assert [str(m) for m in finding.differences] == [
        "form refresh_token: expected 'r-…(len 12)', got 'r-…(len 12)' (differ at char 12)"
    ]
    assert finding.closest == "any method '/' form {'refresh_token': ['r-…(len 12)']}"
    parts = RequestMatcher("/", multipart={"api_key": Part(content="k-0123456780")})
    finding = _finding(parts, _request("/", MULTIPART, "multipart/form-data; boundary=XX"))
    assert [str(m) for m in finding.differences] == [
        "multipart api_key content: expected b'k-…(len 12)', got b'k-…(len 12)' (12 bytes)"
        " (differ at char 12)"
    ]
    assert "0123456" not in finding.render()


def test_a_data_form_expectation_is_masked_in_its_description_and_difference() -> None:
    matcher = RequestMatcher("/", data="grant_type=x&refresh_token=r-0123456789")
    request = _request(
        "/", "grant_type=x&refresh_token=r-9999999999", "application/x-www-form-urlencoded"
    )
    finding = _finding(matcher, request)
    assert "0123456789" not in finding.render()
    assert "9999999999" not in finding.render()
    assert "form refresh_token: expected 'r-…(len 12)', got 'r-…(len 12)' (differ at char 3)" in (
        finding.render()
    )


@pytest.mark.parametrize("kind", ["json", "form", "query_string", "data_form"])
def test_any_body_fields_difference_under_a_secret_name_goes_through_the_same_rule(
    kind: str,
) -> None:
    found = masking.mismatch(Mismatch(f"{kind} auth.password", "'hunter22'", "'hunter2'"))
    assert str(found) == (
        f"{kind} auth.password: expected 'hu…(len 8)', got 'h…(len 7)' (differ at char 8)"
    )


def test_format_matchers_and_an_assertion_text_mask_the_expected_values() -> None:
    dispatcher = RequestDispatcher()
    dispatcher.expect_request("/login", json={"user": {"password": "hunter22"}})
    dispatcher.expect_request("/oauth", data="refresh_token=r-0123456789")
    shown = dispatcher.format_matchers()
    assert "'password': 'hu…(len 8)'" in shown
    assert "refresh_token=r-…(len 12)" in shown
    assert "hunter22" not in shown
    assert "0123456789" not in shown
    dispatcher.add_assertion("login sent {'password': 'hunter22'}")
    assert "hunter22" not in str(dispatcher.assertions[0])


def test_assert_request_made_masks_the_matcher_and_the_closest_requests_differences() -> None:
    dispatcher = RequestDispatcher()
    dispatcher.expect_request("/login").respond_with_data("ok")
    Client(dispatcher).post("/login", json={"password": "hunter23"})
    with pytest.raises(AssertionError) as caught:
        dispatcher.assert_request_made(RequestMatcher("/login", json={"password": "hunter22"}))
    message = str(caught.value)
    assert "json password: expected 'hu…(len 8)' (str), got 'hu…(len 8)' (str)" in message
    assert "hunter2" not in message


def test_show_secrets_shows_bodies_and_differences_in_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(masking.SHOW_SECRETS_ENV, "1")
    matcher = RequestMatcher("/login", json={"password": "hunter22"})
    finding = _finding(matcher, _request("/login", json.dumps({"password": "hunter23"})))
    rendered = finding.render()
    assert "hunter22" in rendered
    assert "hunter23" in rendered
    assert "<your" not in rendered


# ------------------------------------------------------------ paste-ready lines


def summary(path: str, method: str, *, body: str) -> RequestSummary:
    return RequestSummary(method=method, path=path, query="", headers=(), body=body)


def test_paste_ready_lines_show_a_placeholder_where_a_value_is_masked() -> None:
    request = RequestSummary.of(
        Request(
            EnvironBuilder(
                path="/orders",
                method="POST",
                query_string="api_key=k-0123456789&page=2",
                headers=[
                    ("Idempotency-Key", "idem-123456"),
                    ("Authorization", "Bearer s3cr3t-012"),
                ],
                json={"order": 7, "card": {"token": "tok_0123456789"}},
            ).get_environ()
        )
    )
    assert expect_request_line(request) == (
        "httpserver.expect_request('/orders', method='POST',"
        " query_string='api_key=<your api_key>&page=2',"
        " headers={'Idempotency-Key': '<your Idempotency-Key>'},"
        " json={'order': 7, 'card': {'token': '<your token>'}})"
    )
    line = curl_line(request, "http://127.0.0.1:8000")
    assert line == (
        "curl -X POST 'http://127.0.0.1:8000/orders?api_key=<your api_key>&page=2'"
        " -H 'Content-Type: application/json'"
        " -H 'Idempotency-Key: <your Idempotency-Key>'"
        " -H 'Authorization: Bearer <your Authorization>'"
        """ --data-raw '{"order": 7, "card": {"token": "<your token>"}}'"""
    )
    assert "…" not in line


def test_a_body_with_control_characters_is_escaped_in_the_curl_line() -> None:
    line = curl_line(summary("/raw", "POST", body="\x1b[2J\rforged\x07 it's\n"), "http://h:1")
    assert line == ("curl -X POST http://h:1/raw --data-raw $'\\x1b[2J\\rforged\\x07 it\\'s\\n'")
    assert not any(ord(char) < 32 for char in line)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash to read $'...' quoting")
def test_the_escaped_curl_argument_gives_bash_the_bytes_the_client_sent() -> None:
    sent = "\x1b[2J\rforged\x07 it's \\ \t\x7f é\n"
    line = curl_line(summary("/raw", "POST", body=sent), "http://h:1")
    argument = line.partition("--data-raw ")[2]
    echoed = subprocess.run(
        ["bash", "-c", f"printf '%s' {argument}"], capture_output=True, check=True, timeout=10
    ).stdout
    assert echoed.decode("utf-8") == sent


def test_a_request_path_with_control_characters_is_escaped_in_every_line() -> None:
    request = Request(EnvironBuilder(path="/a%1b[2Jb%0dc", method="GET").get_environ())
    finding = Finding(Kind.NO_HANDLER, Stamp.now(), RequestSummary.of(request))
    rendered = finding.render()
    assert "\x1b" not in rendered
    assert "\r" not in rendered
    assert "request:  GET /a\\x1b[2Jb\\x0dc" in rendered
    assert "to match it: httpserver.expect_request('/a\\x1b[2Jb\\rc', method='GET')" in rendered
    assert "to replay it: curl -X GET $HTTPSERVER'/a%1B[2Jb%0Dc'" in rendered
