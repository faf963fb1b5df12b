"""Load: many client threads against one server; nothing lost, nothing counted twice.

Counts are fixed (8 threads x 2,000 keep-alive requests; 100 threads racing for
one oneshot handler) and every wait has a timeout; nothing here measures speed.
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from collections.abc import Callable

import pytest

from httpdouble import URI_DEFAULT, HTTPServer, Kind, Outcome

from ..support import Runner
from .conftest import SOCKET_TIMEOUT

THREADS = 8
REQUESTS_PER_THREAD = 2_000
RACERS = 100
JOIN_TIMEOUT = 120.0


def _run_threads(count: int, target: Callable[[int], None]) -> list[BaseException]:
    """Run ``target(number)`` on ``count`` threads; return what they raised."""
    errors: list[BaseException] = []
    lock = threading.Lock()

    def guarded(number: int) -> None:
        try:
            target(number)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "client threads did not finish"
    return errors


def _keep_alive_client(port: int, thread: int, count: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=SOCKET_TIMEOUT)
    try:
        for number in range(count):
            connection.request("GET", f"/load/{thread}/{number}")
            response = connection.getresponse()
            body = response.read()
            if (response.status, body) != (200, b"ok"):
                raise AssertionError(f"request {thread}/{number}: {response.status} {body!r}")
    finally:
        connection.close()


def test_eight_keep_alive_threads_of_two_thousand_requests_are_each_logged_once(
    server: HTTPServer,
) -> None:
    server.expect_request(URI_DEFAULT).respond_with_data("ok")

    errors = _run_threads(
        THREADS, lambda n: _keep_alive_client(server.port, n, REQUESTS_PER_THREAD)
    )

    assert errors == []
    entries = server.log_entries
    paths = Counter(e.request.path for e in entries if e.request is not None)
    expected = {f"/load/{t}/{n}" for t in range(THREADS) for n in range(REQUESTS_PER_THREAD)}
    assert set(paths) == expected
    assert set(paths.values()) == {1}
    assert len(entries) == THREADS * REQUESTS_PER_THREAD == server.total_requests
    assert {e.outcome for e in entries} == {Outcome.MATCHED}
    assert server.findings == []
    print(f"load: {len(entries)} requests on {THREADS} keep-alive connections, no errors")


def test_under_the_plugin_every_request_of_the_load_is_stamped_with_its_test(
    suite: pytest.Pytester, run: Runner
) -> None:
    suite.makepyfile(
        test_load=f"""
        import http.client
        import re
        import threading
        from collections import Counter

        THREADS = {THREADS}
        COUNT = {REQUESTS_PER_THREAD}

        def client(port, thread, errors):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                for number in range(COUNT):
                    connection.request("GET", f"/load/{{thread}}/{{number}}")
                    response = connection.getresponse()
                    if (response.status, response.read()) != (200, b"ok"):
                        errors.append((thread, number, response.status))
            except Exception as exc:
                errors.append(exc)
            finally:
                connection.close()

        def test_load(httpserver, request):
            httpserver.expect_request(re.compile("/load/.*")).respond_with_data("ok")
            errors = []
            threads = [
                threading.Thread(target=client, args=(httpserver.port, n, errors))
                for n in range(THREADS)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            assert not any(thread.is_alive() for thread in threads)
            assert errors == []
            entries = httpserver.log_entries
            paths = Counter(e.request.path for e in entries)
            assert len(paths) == THREADS * COUNT and set(paths.values()) == {{1}}
            stamps = Counter(e.stamp.test for e in entries)
            assert stamps == {{request.node.nodeid: THREADS * COUNT}}
            assert {{e.stamp.worker for e in entries}} == {{"main"}}
            print("STAMPED", len(entries))
        """
    )
    result = run("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*STAMPED {THREADS * REQUESTS_PER_THREAD}*"])


def test_a_hundred_threads_racing_for_one_oneshot_handler_have_exactly_one_winner(
    server: HTTPServer,
) -> None:
    server.expect_oneshot_request("/prize").respond_with_data("won")
    barrier = threading.Barrier(RACERS, timeout=60)
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def racer(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=SOCKET_TIMEOUT)
        try:
            connection.connect()
            barrier.wait()
            connection.request("GET", "/prize")
            response = connection.getresponse()
            response.read()
            with lock:
                statuses[number] = response.status
        finally:
            connection.close()

    errors = _run_threads(RACERS, racer)

    assert errors == []
    assert Counter(statuses.values()) == {200: 1, 404: RACERS - 1}
    findings = server.findings
    assert len(findings) == RACERS - 1
    assert {f.kind for f in findings} == {Kind.NO_HANDLER}
    outcomes = Counter(e.outcome for e in server.log_entries)
    assert outcomes == {Outcome.MATCHED: 1, Outcome.NO_HANDLER: RACERS - 1}
    # The losers' findings name the handler they were after (it is gone: no closest matcher).
    assert all(f.request is not None and f.request.path == "/prize" for f in findings)


STEPS = 12
ROUNDS = 5


def test_concurrent_ordered_requests_are_served_in_order_up_to_the_first_violation(
    server: HTTPServer,
) -> None:
    """Documented: the head is served; a later one first is out of order; then all are refused.

    Which request wins each race is up to the scheduler, so each round checks the
    rule on whatever happened rather than one interleaving.
    """
    for _ in range(ROUNDS):
        server.clear()
        _race_ordered_round(server)


def _race_ordered_round(server: HTTPServer) -> None:
    for step in range(STEPS):
        server.expect_ordered_request(f"/step/{step}").respond_with_data(str(step))
    barrier = threading.Barrier(STEPS, timeout=60)

    def sender(step: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=SOCKET_TIMEOUT)
        try:
            connection.connect()
            barrier.wait()
            connection.request("GET", f"/step/{step}")
            connection.getresponse().read()
        finally:
            connection.close()

    assert _run_threads(STEPS, sender) == []

    entries = server.log_entries
    assert len(entries) == STEPS
    by_outcome: dict[Outcome, list[str]] = {}
    for entry in entries:
        assert entry.request is not None
        by_outcome.setdefault(entry.outcome, []).append(entry.request.path)
    matched = sorted(by_outcome.get(Outcome.MATCHED, []), key=lambda p: int(p.split("/")[-1]))
    # Served requests are exactly a prefix of the order: step 0, 1, ... k-1.
    assert matched == [f"/step/{n}" for n in range(len(matched))]
    print(f"ordered race: {len(matched)} of {STEPS} served in order")
    if len(matched) == STEPS:
        assert not server.permanently_failed
        assert server.findings == []
        return
    assert server.permanently_failed
    assert len(by_outcome[Outcome.OUT_OF_ORDER]) == 1
    assert len(by_outcome.get(Outcome.REFUSED, [])) == STEPS - len(matched) - 1
    kinds = Counter(f.kind for f in server.findings)
    assert kinds == {Kind.OUT_OF_ORDER: 1, Kind.REFUSED: STEPS - len(matched) - 1}


def test_ordered_requests_sent_in_turn_are_all_served_while_other_threads_hit_other_handlers(
    server: HTTPServer,
) -> None:
    # Other requests may come between ordered ones only with the fall-through opt-in.
    server.ordered_fall_through = True
    for step in range(STEPS):
        server.expect_ordered_request(f"/step/{step}").respond_with_data(str(step))
    server.expect_request("/noise").respond_with_data("noise")
    turns = [threading.Event() for _ in range(STEPS + 1)]
    turns[0].set()
    noise_done = threading.Event()
    noise_threads_count, noise_requests = 4, 100

    def in_turn(step: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=SOCKET_TIMEOUT)
        try:
            assert turns[step].wait(60), f"step {step} never got its turn"
            connection.request("GET", f"/step/{step}")
            response = connection.getresponse()
            assert response.read() == str(step).encode()
        finally:
            connection.close()
            turns[step + 1].set()

    def noise(number: int) -> None:
        _noise_client(server.port, noise_requests)

    noise_threads = threading.Thread(
        target=lambda: (_run_threads(noise_threads_count, noise), noise_done.set())
    )
    noise_threads.start()
    errors = _run_threads(STEPS, in_turn)
    noise_threads.join(JOIN_TIMEOUT)
    assert noise_done.is_set()
    assert errors == []
    assert not server.permanently_failed
    assert server.findings == []
    outcomes = Counter(e.outcome for e in server.log_entries)
    assert outcomes == {Outcome.MATCHED: STEPS + noise_threads_count * noise_requests}


def _noise_client(port: int, count: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=SOCKET_TIMEOUT)
    try:
        for _ in range(count):
            connection.request("GET", "/noise")
            response = connection.getresponse()
            assert response.read() == b"noise"
    finally:
        connection.close()
