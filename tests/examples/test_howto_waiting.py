"""How-to: wait until code running in the background has sent its requests."""

from __future__ import annotations

import threading

import requests


def send_later(url: str, count: int) -> threading.Thread:
    """The code under test: a background job that sends ``count`` requests."""

    def job() -> None:
        with requests.Session() as session:
            for _ in range(count):
                session.post(url, timeout=5)

    return threading.Thread(target=job)


def test_wait_returns_when_every_oneshot_handler_was_used(httpserver):
    for _ in range(3):
        httpserver.expect_oneshot_request("/ping", method="POST").respond_with_data("pong")

    worker = send_later(httpserver.url_for("/ping"), 3)
    with httpserver.wait(timeout=10) as waiting:
        worker.start()
    worker.join()

    assert waiting.result
    assert len(httpserver.log) == 3


def test_wait_reports_failure_without_raising_when_asked(httpserver):
    httpserver.expect_oneshot_request("/ping", method="POST").respond_with_data("pong")
    httpserver.expect_oneshot_request("/never").respond_with_data("")

    worker = send_later(httpserver.url_for("/ping"), 1)
    with httpserver.wait(raise_assertions=False, timeout=0.5) as waiting:
        worker.start()
    worker.join()

    assert not waiting.result
    httpserver.clear()  # forget the handler we knew would stay unused
