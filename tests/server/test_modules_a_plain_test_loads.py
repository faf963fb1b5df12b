"""Issue 27: a plain test loads only what it uses; the list of what it loads is pinned.

A fresh interpreter imports werkzeug and pytest (what every user's process has), starts
a server, answers one ``expect_request(...).respond_with_json(...)`` to http.client and
stops; then it prints which modules it loaded. http.client, not requests: requests and
urllib3 import ``ssl`` and friends themselves, and would hide ours. No timing here: the
figures are ``benchmarks/import_cost.py``'s.
"""

from __future__ import annotations

import json
import subprocess
import sys

PLAIN_TEST = """
import json, sys
import werkzeug, pytest, http.client
before = set(sys.modules)
from httpdouble import HTTPServer
server = HTTPServer(host="127.0.0.1", port=0)
server.start()
try:
    server.expect_request("/item").respond_with_json({"id": 1})
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/item")
    answer = connection.getresponse()
    body = answer.read()
    assert (answer.status, json.loads(body)) == (200, {"id": 1}), (answer.status, body)
    connection.close()
    server.check_assertions()
finally:
    server.stop()
print(json.dumps(sorted(set(sys.modules) - before)))
"""

# Loaded only where they are used: wait_async, TLS, interception (CONNECT tunnels, the test
# CA), a richer check, the HTML or end-of-run report, streaming, faults and latency, handler
# functions, async handlers, post hooks, host= and full-URL matching, the end-to-end
# readiness probe (startup_timeout=), the TypedDicts for typing code. (What a server thread
# needs to report a failure is loaded when a server starts: load_failure_paths, and
# HTTPServer.start() for the refusals' words.)
NOT_LOADED = (
    "asyncio",
    "concurrent.futures",
    "trustme",
    "cryptography",
    "werkzeug.sansio.multipart",
    "httpdouble._report.html",
    "httpdouble._report.report",
    "httpdouble._report.worker_data",
    "httpdouble._matching.checks",
    "httpdouble._matching.composite",
    "httpdouble._server.tls",
    "httpdouble._server.tunnel",
    "httpdouble._app.streaming",
    "httpdouble._app.handler_threads",
    "httpdouble._app.posthooks",
    "httpdouble._matching.host",
    "httpdouble._server.readiness_probe",
    "httpdouble._matching.typed_kwargs",
    "httpdouble._app.awaiting",
    "httpdouble._intercept",
    "httpdouble._pytest",
)

# Every httpdouble module a plain test loads. A new entry costs every process that starts
# a server its import time (issue 27 budgets 10 ms for all of them).
PLAIN_TEST_MODULES = frozenset(
    {
        "httpdouble",
        "httpdouble._app",
        "httpdouble._app.dispatch",
        "httpdouble._app.entry",
        "httpdouble._app.expectations",
        "httpdouble._app.failures",
        "httpdouble._app.idle",
        "httpdouble._app.misses",
        "httpdouble._app.readiness",
        "httpdouble._app.registration",
        "httpdouble._app.registry",
        "httpdouble._app.responses",
        "httpdouble._app.settings",
        "httpdouble._app.verification",
        "httpdouble._app.waiting",
        "httpdouble._errors",
        "httpdouble._log",
        "httpdouble._log.context",
        "httpdouble._log.decoding",
        "httpdouble._log.entry",
        "httpdouble._log.lazy",
        "httpdouble._log.request_log",
        "httpdouble._log.segment",
        "httpdouble._log.views",
        "httpdouble._matching",
        "httpdouble._matching.body_masking",
        "httpdouble._matching.bodydiff",
        "httpdouble._matching.headers",
        "httpdouble._matching.json_equality",
        "httpdouble._matching.masking",
        "httpdouble._matching.mismatch",
        "httpdouble._matching.query",
        "httpdouble._matching.ranking",
        "httpdouble._matching.request_matcher",
        "httpdouble._matching.richer",
        "httpdouble._matching.secret_names",
        "httpdouble._matching.uri",
        "httpdouble._report",
        "httpdouble._report.findings",
        "httpdouble._report.replay",
        "httpdouble._report.request_summary",
        "httpdouble._report.sides",
        "httpdouble._server",
        "httpdouble._server.binding",
        "httpdouble._server.connection",
        "httpdouble._server.connection_findings",
        "httpdouble._server.core",
        "httpdouble._server.loop",
        "httpdouble._server.loop_connection",
        "httpdouble._server.refusals",
        "httpdouble._server.server",
        "httpdouble._server.server_app",
        "httpdouble._server.settings",
        "httpdouble._values",
        "httpdouble._wire",
        "httpdouble._wire.framing",
        "httpdouble._wire.head",
        "httpdouble._wire.origin",
        "httpdouble._wire.request",
        "httpdouble._wire.target",
    }
)


def _modules_of_a_plain_test() -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PLAIN_TEST], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    loaded: list[str] = json.loads(done.stdout.splitlines()[-1])
    return loaded


def test_a_plain_json_test_loads_no_asyncio_tls_report_or_richer_checks() -> None:
    loaded = _modules_of_a_plain_test()
    found = sorted(m for m in loaded if m.startswith(NOT_LOADED))
    assert not found, (
        "a plain expect_request(...).respond_with_json(...) test loaded modules it does not use\n"
        f"  expected: none of {', '.join(NOT_LOADED)}\n"
        f"  got: {', '.join(found)}\n"
        "  to do: import them in the function that needs them (or under TYPE_CHECKING for"
        " annotations), not at the top of a module the server imports (issue 27)"
    )


def test_the_httpdouble_modules_a_plain_test_loads_are_the_pinned_ones() -> None:
    loaded = {m for m in _modules_of_a_plain_test() if m.split(".")[0] == "httpdouble"}
    added, gone = sorted(loaded - PLAIN_TEST_MODULES), sorted(PLAIN_TEST_MODULES - loaded)
    assert (added, gone) == ([], []), (
        "the httpdouble modules a plain test loads changed\n"
        f"  expected: the {len(PLAIN_TEST_MODULES)} of PLAIN_TEST_MODULES in {__name__}\n"
        f"  got: {len(loaded)}; new: {', '.join(added) or 'none'};"
        f" no longer loaded: {', '.join(gone) or 'none'}\n"
        "  to do: a new module every test pays for should be imported where it is first"
        " used instead (a function-level import, or TYPE_CHECKING for annotations); if"
        " every request really needs it, add it to PLAIN_TEST_MODULES, and check"
        " `python benchmarks/import_cost.py` (budget: 10 ms over werkzeug and pytest);"
        " remove the ones no longer loaded"
    )
