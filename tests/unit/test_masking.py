"""Secrets in findings are masked: request headers and query, the expected side, every output."""

from __future__ import annotations

import asyncio
import ssl

import pytest
from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import Request

from httpdouble import (
    Finding,
    HTTPDoubleUsageError,
    Kind,
    Limits,
    RequestDispatcher,
    RequestMatcher,
    RequestSummary,
)
from httpdouble._log.request_log import Stamp
from httpdouble._matching import masking
from httpdouble._server.refusals import limit_detail, tls_failure_detail

TOKEN = "Bearer s3cr3t-0123456789abcdef0123456789"  # 40 characters


@pytest.fixture(autouse=True)
def _secrets_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(masking.SHOW_SECRETS_ENV, raising=False)


def _request(path: str = "/", query: str = "", headers: dict[str, str] | None = None) -> Request:
    builder = EnvironBuilder(path=path, query_string=query, headers=headers or {})
    return Request(builder.get_environ())


# ----------------------------------------------------------------- pure functions


def test_mask_keeps_the_scheme_a_short_prefix_and_the_length() -> None:
    assert masking.mask(TOKEN) == "Bearer s3…(len 40)"
    assert masking.mask("abcdefgh") == "ab…(len 8)"


def test_mask_shows_no_more_than_a_quarter_of_a_short_credential() -> None:
    assert masking.mask("Basic abc") == "Basic …(len 9)"
    assert masking.mask("x") == "…(len 1)"


def test_mask_leaves_a_masked_value_alone() -> None:
    assert masking.mask(masking.mask(TOKEN)) == masking.mask(TOKEN)


def test_first_difference_is_one_based_and_counts_a_missing_tail() -> None:
    assert masking.first_difference("abc", "abc") is None
    assert masking.first_difference("abc", "abX") == 3
    assert masking.first_difference("abc", "abcd") == 4


@pytest.mark.parametrize(
    "name", ["Authorization", "proxy-authorization", "COOKIE", "Set-Cookie", "X-Api-Key",
             "X-Auth-Token", "X-Client-Secret"],
)  # fmt: skip
def test_credential_headers_are_recognised_by_name(name: str) -> None:
    assert masking.is_secret_header(name)


@pytest.mark.parametrize("name", ["Accept", "Content-Type", "X-Request-Id"])
def test_other_headers_are_shown(name: str) -> None:
    assert masking.header_value(name, "plain value") == "plain value"


def test_query_masks_credential_parameters_only() -> None:
    shown = masking.query("page=2&api_key=abcdefgh&token=12345678&password=hunter22&q=x")
    assert shown == ("page=2&api_key=ab…(len 8)&token=12…(len 8)&password=hu…(len 8)&q=x")


def test_show_secrets_environment_variable_shows_them_in_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(masking.SHOW_SECRETS_ENV, "1")
    assert masking.header_value("Authorization", TOKEN) == TOKEN
    assert masking.query("token=abcdefgh") == "token=abcdefgh"
    summary = RequestSummary.of(_request(headers={"Authorization": TOKEN}))
    assert summary.headers == (("Authorization", TOKEN),)


# ------------------------------------------------------------ request summaries


def test_request_summary_masks_credential_headers_and_query_parameters() -> None:
    request = _request(
        "/login",
        "user=ann&api_key=abcdefghijkl",
        {"Authorization": TOKEN, "Cookie": "session=0123456789", "X-Trace": "t-1"},
    )
    summary = RequestSummary.of(request)
    assert dict(summary.headers) == {
        "Authorization": "Bearer s3…(len 40)",
        "Cookie": "se…(len 18)",
        "X-Trace": "t-1",
    }
    assert summary.line() == "GET /login?user=ann&api_key=ab…(len 12)"
    assert "s3cr3t" not in "\n".join(summary.lines())


# --------------------------------------------------------------- expected side


def test_matcher_description_and_difference_are_masked_with_where_they_differ() -> None:
    matcher = RequestMatcher(
        "/p",
        headers={"Authorization": TOKEN, "Accept": "text/plain"},
        query_string={"token": "t0123456"},
    )
    wrong = TOKEN[:20] + "X" + TOKEN[21:]
    request = _request("/p", "token=t0123456", {"Authorization": wrong, "Accept": "text/plain"})
    finding = Finding(
        Kind.NO_HANDLER,
        Stamp.now(),
        RequestSummary.of(request),
        expected="a request matching a registered handler",
        closest=matcher.describe(),
        differences=tuple(matcher.difference(request)),
    )
    assert finding.closest == (
        "any method '/p' query {'token': 't0…(len 8)'}"
        " header Authorization='Bearer s3…(len 40)' header Accept='text/plain'"
    )
    assert [str(m) for m in finding.differences] == [
        "header Authorization: expected 'Bearer s3…(len 40)', got 'Bearer s3…(len 40)'"
        " (differ at char 21)"
    ]
    rendered = finding.render()
    assert "s3cr3t" not in rendered
    assert "t0123456" not in rendered


def test_a_missing_credential_header_is_named_with_the_expected_value_masked() -> None:
    matcher = RequestMatcher("/p", headers={"X-Api-Key": "k-0123456789"})
    finding = Finding(
        Kind.NO_HANDLER,
        Stamp.now(),
        RequestSummary.of(_request("/p")),
        closest=matcher.describe(),
        differences=tuple(matcher.difference(_request("/p"))),
    )
    assert [str(m) for m in finding.differences] == [
        "header X-Api-Key: expected 'k-…(len 12)', got no such header"
    ]


def test_a_finding_rebuilt_from_builtins_is_the_same_masked_finding() -> None:
    matcher = RequestMatcher("/p", headers={"Authorization": TOKEN})
    request = _request("/p", "token=abcdefgh", {"Authorization": "Basic dXNlcjpwYXNz"})
    finding = Finding(
        Kind.NO_HANDLER,
        Stamp.now(),
        RequestSummary.of(request),
        closest=matcher.describe(),
        differences=tuple(matcher.difference(request)),
    )
    assert Finding.from_builtins(finding.to_builtins()) == finding
    assert "s3cr3t" not in str(finding.to_builtins())


def test_an_assertion_text_that_echoes_a_secret_is_masked_and_keeps_its_words() -> None:
    finding = Finding(Kind.ASSERTION, Stamp.now(), expected="token=abcdefgh was sent")
    assert finding.expected == "token=ab…(len 8) was sent"


def test_no_handler_body_of_the_dispatcher_masks_both_sides(
    dispatcher: RequestDispatcher, client: Client
) -> None:
    dispatcher.expect_request("/p", headers={"Authorization": TOKEN}).respond_with_data("ok")
    body = client.get("/p", headers={"Authorization": "Bearer wrong"}).get_data(as_text=True)
    assert "Authorization: Bearer w…(len 12)" in body
    assert "expected 'Bearer s3…(len 40)', got 'Bearer w…(len 12)' (differ at char 8)" in body
    assert "s3cr3t" not in body
    assert "wrong" not in body
    dispatcher.clear()


# ---------------------------------------------------------------- right words


def _ssl_error(reason: str) -> ssl.SSLError:
    error = ssl.SSLError(1, f"[SSL: {reason}] ({reason.lower()})")
    error.reason = reason
    return error


@pytest.mark.parametrize(
    "reason",
    ["TLSV1_ALERT_UNKNOWN_CA", "SSLV3_ALERT_BAD_CERTIFICATE", "SSLV3_ALERT_CERTIFICATE_UNKNOWN"],
)
def test_a_client_rejecting_the_certificate_is_told_to_trust_the_ca_bundle(reason: str) -> None:
    detail = tls_failure_detail(_ssl_error(reason))
    assert "the client rejected the server's certificate" in detail
    assert "httpsserver_certificates.ca_bundle" in detail
    assert "plain HTTP" not in detail


def test_plain_http_to_the_https_port_is_told_to_use_url_for() -> None:
    detail = tls_failure_detail(_ssl_error("HTTP_REQUEST"))
    assert "spoke plain HTTP to this HTTPS server" in detail
    assert "server.url_for()" in detail
    assert "ca_bundle" not in detail


@pytest.mark.parametrize(
    ("status", "named"),
    [
        (413, "Limits(max_body_bytes=10)"),
        (414, "Limits(max_request_line=20)"),
        (431, "Limits(max_header_count=30, max_header_bytes=40)"),
    ],
)
def test_a_request_over_a_limit_names_the_limit_and_how_to_raise_it(
    status: int, named: str
) -> None:
    limits = Limits(max_body_bytes=10, max_request_line=20, max_header_count=30,
                    max_header_bytes=40)  # fmt: skip
    detail = limit_detail(status, "too big", limits)
    assert detail.startswith(f"answered {status}: too big\n")
    assert named in detail
    assert "not invalid HTTP" in detail
    assert "server.limits = Limits(" in detail


def test_a_request_that_is_not_valid_http_keeps_its_reason_alone() -> None:
    assert limit_detail(400, "bad request line", Limits()) == "answered 400: bad request line"


# ------------------------------------------------------------------- async misuse


def test_sync_wait_in_a_running_event_loop_is_a_usage_error(
    dispatcher: RequestDispatcher,
) -> None:
    async def misuse() -> None:
        with dispatcher.wait(timeout=5):
            pass

    with pytest.raises(HTTPDoubleUsageError, match="wait_async"):
        asyncio.run(misuse())


def test_wait_async_outside_an_event_loop_is_a_usage_error(
    dispatcher: RequestDispatcher,
) -> None:
    waiting = dispatcher.wait_async(timeout=5)
    with pytest.raises(HTTPDoubleUsageError, match=r"use 'with httpserver.wait\(\):'"):
        waiting.__aenter__().send(None)
