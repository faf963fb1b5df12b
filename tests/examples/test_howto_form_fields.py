"""How-to: the whole form with data_form= (pytest-httpserver 1.2.1), beside form=."""

from __future__ import annotations

import requests
from werkzeug import Request, Response
from werkzeug.datastructures import MultiDict


def test_data_form_pins_every_field_of_the_form(httpserver):
    # A plain mapping: every field named, each compared with its first value.
    httpserver.expect_request(
        "/signup", method="POST", data_form={"name": "Jane Doe", "newsletter": ""}
    ).respond_with_data("signed up")

    fields = {"name": "Jane Doe", "newsletter": ""}
    response = requests.post(httpserver.url_for("/signup"), data=fields, timeout=5)
    assert response.text == "signed up"


def test_data_form_with_a_multidict_compares_every_value(httpserver):
    tags = MultiDict([("tag", "red"), ("tag", "blue")])
    httpserver.expect_request("/tags", method="POST", data_form=tags).respond_with_data("tagged")

    fields = [("tag", "red"), ("tag", "blue")]
    assert requests.post(httpserver.url_for("/tags"), data=fields, timeout=5).text == "tagged"


def test_the_handler_still_reads_the_body_and_the_form(httpserver):
    def echo(request: Request) -> Response:
        return Response(f"{request.form['q']} from {request.get_data(as_text=True)}")

    httpserver.expect_request("/echo", data_form={"q": "42"}).respond_with_handler(echo)
    response = requests.post(httpserver.url_for("/echo"), data={"q": "42"}, timeout=5)
    assert response.text == "42 from q=42"


def test_form_leaves_the_other_fields_free_data_form_does_not(httpserver):
    httpserver.expect_request("/pay", data_form={"amount": "5"}).respond_with_data("exact")
    httpserver.expect_request("/pay", form={"amount": "5"}).respond_with_data("some fields")

    fields = {"amount": "5", "currency": "EUR"}
    # data_form= wants every field named: "currency" is not, so form= answers.
    assert requests.post(httpserver.url_for("/pay"), data=fields, timeout=5).text == "some fields"
    assert (
        requests.post(httpserver.url_for("/pay"), data={"amount": "5"}, timeout=5).text == "exact"
    )
