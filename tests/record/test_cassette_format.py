"""Cassette files without sockets: bodies, names, scrubbing, loading, and the printed code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from httpdouble import HTTPDoubleUsageError
from httpdouble._record import scrub
from httpdouble._record.cassette import (
    Cassette,
    Exchange,
    cassette_path,
    decode_body,
    encode_body,
    load,
    to_json,
    write,
)
from httpdouble._record.replay import expectation, to_code


def test_json_body_is_stored_as_json_and_its_secret_keys_scrubbed() -> None:
    raw = b'{"user": "ann", "password": "hunter2", "nested": {"api_key": [1, 2]}}'
    body = encode_body(raw, "application/json", request=True)
    assert body == {
        "json": {
            "user": "ann",
            "password": "<scrubbed>",
            "nested": {"api_key": ["<scrubbed>"] * 2},
        }
    }


def test_text_stays_text_other_bytes_become_base64_and_both_come_back_exact() -> None:
    text = encode_body("héllo\n".encode(), "text/plain", request=False)
    binary = encode_body(b"\x89PNG\xff\x00", "image/png", request=False)
    assert text == {"text": "héllo\n"}
    assert set(binary) == {"base64"}
    assert decode_body(text) == "héllo\n".encode()
    assert decode_body(binary) == b"\x89PNG\xff\x00"
    assert encode_body(b"", "text/plain", request=False) == {}


def test_request_form_body_is_kept_as_fields_with_secret_fields_scrubbed() -> None:
    body = encode_body(
        b"user=ann&password=x&x=1", "application/x-www-form-urlencoded", request=True
    )
    assert body == {"form": [["user", "ann"], ["password", "<scrubbed>"], ["x", "1"]]}
    assert decode_body(body) == b"user=ann&password=%3Cscrubbed%3E&x=1"


def test_credential_headers_and_query_parameters_are_scrubbed_keeping_the_auth_scheme() -> None:
    lines = scrub.headers(
        [("Authorization", "Bearer abc.def"), ("Cookie", "sid=1"), ("X-Api-Key", "k"), ("A", "b")]
    )
    assert lines == [
        "Authorization: Bearer <scrubbed>",
        "Cookie: <scrubbed>",
        "X-Api-Key: <scrubbed>",
        "A: b",
    ]
    assert scrub.query("page=2&access_token=abc&q=x") == "page=2&access_token=<scrubbed>&q=x"


def test_configured_secret_names_are_scrubbed_too() -> None:
    from httpdouble._matching.secret_names import configure_names

    configure_names(["tenant"])
    try:
        assert scrub.query("tenant=acme&a=1") == "tenant=<scrubbed>&a=1"
        assert scrub.header("X-Tenant", "acme") == "<scrubbed>"
    finally:
        configure_names(())


def test_cassette_names_are_safe_for_parametrized_ids_and_never_collide(tmp_path: Path) -> None:
    test_file = tmp_path / "test_api.py"
    plain = cassette_path(test_file, "test_list")
    assert plain == tmp_path / "cassettes" / "test_api" / "test_list.json"
    assert cassette_path(test_file, "TestApi::test_x[1-a]").name == "TestApi.test_x[1-a].json"
    one = cassette_path(test_file, "test_x[a/b]")
    other = cassette_path(test_file, "test_x[a:b]")
    assert one != other
    assert "/" not in one.name
    assert one.name.startswith("test_x[a-b]-")
    assert len(cassette_path(test_file, "test_x[" + "y" * 500 + "]").name) < 140


def _exchange() -> Exchange:
    return Exchange(
        {"method": "GET", "path": "/items", "query": "page=2", "headers": ["Accept: */*"]},
        {"status": 200, "headers": ["Content-Type: application/json"], "json": {"items": [1]}},
    )


def test_file_is_stable_indented_and_ends_with_a_newline(tmp_path: Path) -> None:
    path = tmp_path / "c" / "t.json"
    write(Cassette([_exchange()]), path)
    text = path.read_text()
    assert text.endswith("}\n")
    assert text == to_json(Cassette([_exchange()]))
    assert json.loads(text)["exchanges"][0]["request"]["headers"] == ["Accept: */*"]
    assert load(path).exchanges == [_exchange()]
    assert [p.name for p in path.parent.iterdir()] == ["t.json"]  # no temporary file left


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not json", "a JSON document"),
        ('{"exchanges": []}', '"httpdouble_cassette": 1'),
        ('{"httpdouble_cassette": 1, "exchanges": [{"request": {}}]}', "exchange 1"),
    ],
)
def test_a_broken_cassette_says_what_is_wrong_and_what_to_do(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(HTTPDoubleUsageError) as caught:
        load(path)
    message = str(caught.value)
    assert expected in message
    assert "record it again" in message
    assert str(path) in message


def test_scrubbed_request_values_are_left_out_of_the_match() -> None:
    exchange = Exchange(
        {
            "method": "POST",
            "path": "/login",
            "query": "key=<scrubbed>&a=1",
            "json": {"user": "ann", "password": "<scrubbed>"},
        },
        {"status": 204, "headers": []},
    )
    wanted = expectation(exchange)
    assert wanted.match["json_contains"] == {"user": "ann"}
    assert "json" not in wanted.match
    query = wanted.match["query_string"]
    assert query.match(b"key=the-real-one&a=1")
    assert not query.match(b"key=the-real-one&a=2")
    assert not query.match(b"a=1")


def test_printed_code_is_one_expectation_per_exchange_in_order() -> None:
    second = Exchange(
        {"method": "POST", "path": "/notes", "json": {"text": "hi"}},
        {"status": 201, "headers": ["Content-Type: text/plain", "X-Id: 7"], "text": "made"},
    )
    code = to_code([_exchange(), second])
    assert code.splitlines() == [
        "httpserver.expect_oneshot_request('/items', method='GET', query_string='page=2')"
        ".respond_with_json({'items': [1]})",
        "httpserver.expect_oneshot_request('/notes', method='POST', json={'text': 'hi'})"
        ".respond_with_data('made', status=201, headers={'X-Id': '7'},"
        " content_type='text/plain')",
    ]


def test_json_comes_back_byte_for_byte_in_the_layout_it_came_in() -> None:
    for raw in (b'{"a":[1,2]}', b'{\n    "a": "\\u00e9"\n}\n', b'{"a": 1}'):
        assert decode_body(encode_body(raw, "application/json", request=False)) == raw
    odd = encode_body(b'{ "a" :1}', "application/json", request=False)
    assert odd == {"text": '{ "a" :1}'}  # an unknown layout stays text, exact
    secret = encode_body(b'{ "token" :"t"}', "application/json", request=False)
    assert secret == {"json": {"token": "<scrubbed>"}}  # but never with its secret


def test_cassette_command_says_what_is_wrong_with_a_missing_or_broken_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from httpdouble._record.cli import main

    assert main(["cassette", str(tmp_path / "missing.json")]) == 1
    assert "cannot read" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("[]")
    assert main(["cassette", str(broken)]) == 1
    assert '"httpdouble_cassette": 1' in capsys.readouterr().err
    good = tmp_path / "good.json"
    write(Cassette([_exchange()]), good)
    assert main(["cassette", str(good), "--server", "api"]) == 0
    assert capsys.readouterr().out.startswith("api.expect_oneshot_request('/items'")


def test_an_intercepted_exchange_replays_for_its_host_only() -> None:
    exchange = Exchange(
        {"method": "GET", "scheme": "https", "host": "api.example.test", "path": "/items"},
        {"status": 200, "headers": ["Content-Type: text/plain"], "text": "ok"},
    )
    assert expectation(exchange).match["host"] == "api.example.test"
    assert to_code([exchange]).startswith(
        "httpserver.expect_oneshot_request('/items', method='GET', host='api.example.test')"
    )
