"""The issue 4 matrix: ours, the incumbent and two references on the same Python clients.

Start and stop, sequential requests with ``http.client``, ``requests`` and ``httpx`` over
keep-alive and new connections, 8 client threads, 1 to 1,000 registered handlers, and
TLS; each case on fresh server processes (``serve.py``), the incumbent from its own
virtualenv. ``run.py --sections matrix`` runs it; it prints a table of medians with the
ratios ours/incumbent and ours/fastest-reference, and checks the issue 4 targets.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import procs

import clients
from clients import Budget, Sample

HERE = Path(__file__).resolve().parent
SERVE = HERE / "serve.py"
SERVERS = ("ours", "incumbent", "werkzeug", "stdlib")
REFERENCES = ("werkzeug", "stdlib")
LABELS = {
    "ours": "ours",
    "incumbent": "pytest-httpserver",
    "werkzeug": "werkzeug make_server",
    "stdlib": "stdlib raw",
}


# ------------------------------------------------------------------ results


class Results:
    """Rows of one run: a case, a unit, which way is better, a value per server."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.raw: dict[str, Any] = {}

    def add(self, case: str, unit: str, better: str, values: dict[str, float | None]) -> None:
        row = {"case": case, "unit": unit, "better": better, "values": values}
        self.rows.append(row)
        print(f"  {case:<48} " + "  ".join(_fmt(values.get(s)) for s in SERVERS), flush=True)

    def value(self, case: str, server: str) -> float | None:
        for row in self.rows:
            if row["case"] == case:
                result = row["values"].get(server)
                return None if result is None else float(result)
        return None

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)


def _fmt(value: float | None) -> str:
    if value is None:
        return f"{'-':>10}"
    if value >= 100:
        return f"{value:>10.0f}"
    if value >= 1:
        return f"{value:>10.2f}"
    return f"{value:>10.3f}"


def _ratio(ours: float | None, other: float | None) -> float | None:
    if ours is None or other is None or other == 0:
        return None
    return ours / other


def _fastest_reference(row: dict[str, Any]) -> float | None:
    refs = [row["values"].get(r) for r in REFERENCES]
    present = [float(v) for v in refs if v is not None]
    if not present:
        return None
    return max(present) if row["better"] == "higher" else min(present)


def table(results: Results) -> str:
    head = (
        f"{'case':<48} {'unit':<6} "
        + " ".join(f"{LABELS[s][:12]:>12}" for s in SERVERS)
        + f" {'ours/incumb':>11} {'ours/fastref':>12}"
    )
    lines = [head, "-" * len(head)]
    for row in results.rows:
        values = row["values"]
        cells = " ".join(f"{_fmt(values.get(s)):>12}" for s in SERVERS)
        inc = _ratio(values.get("ours"), values.get("incumbent"))
        ref = _ratio(values.get("ours"), _fastest_reference(row))
        inc_text = "-" if inc is None else f"{inc:.2f}"
        ref_text = "-" if ref is None else f"{ref:.2f}"
        lines.append(f"{row['case']:<48} {row['unit']:<6} {cells} {inc_text:>11} {ref_text:>12}")
    return "\n".join(lines)


# ----------------------------------------------------------------- servers


@contextlib.contextmanager
def serving(
    python: str, kind: str, *, handlers: int = 1, cert: tuple[str, str] | None = None
) -> Iterator[int]:
    """Run ``serve.py kind`` in its own process; yield its port; stop it at the end."""
    command = [python, str(SERVE), kind, "--handlers", str(handlers)]
    if cert is not None:
        command += ["--cert", cert[0], "--key", cert[1]]
    with procs.serving(command, name=f"{kind} server") as served:
        yield served.port


def start_stop(python: str, kind: str, count: int, seconds: float, idle: bool) -> dict[str, float]:
    command = [python, str(SERVE), kind, "--startstop", str(count), "--seconds", str(seconds)]
    if idle:
        command.append("--idle-connection")
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60, cwd=HERE
    ).stdout
    data = json.loads(out)
    return {
        "start_ms": statistics.median(data["start"]) * 1e3,
        "stop_ms": statistics.median(data["stop"]) * 1e3,
    }


# -------------------------------------------------------------------- cases


def run_all(quick: bool, incumbent_python: str | None, results: Results) -> None:
    budget = (
        Budget(rounds=3, seconds=0.3, max_requests=20_000)
        if quick
        else Budget(rounds=5, seconds=1.2, max_requests=200_000)
    )
    pythons = dict.fromkeys(SERVERS, sys.executable)
    if incumbent_python is None:
        del pythons["incumbent"]
    else:
        pythons["incumbent"] = incumbent_python

    # start + stop -------------------------------------------------------
    for idle in (False, True):
        values: dict[str, dict[str, float]] = {}
        for kind, python in pythons.items():
            slow = kind != "ours"  # the others poll for shutdown: about 0.5 s a stop
            count = (3 if quick else 6) if slow else (20 if quick else 100)
            values[kind] = start_stop(python, kind, count, 2.0 if quick else 5.0, idle)
        suffix = " (idle keep-alive conn open)" if idle else ""
        results.add(
            "start()" + suffix, "ms", "lower", {k: v["start_ms"] for k, v in values.items()}
        )
        results.add("stop()" + suffix, "ms", "lower", {k: v["stop_ms"] for k, v in values.items()})

    # sequential, one server process per kind ------------------------------
    measures: list[tuple[str, Callable[[int], Sample]]] = []
    for keep_alive in (True, False):
        mode = "keep-alive" if keep_alive else "new conn/request"
        measures += [
            (
                f"{name} {mode}",
                functools.partial(measure, budget=budget, keep_alive=keep_alive),
            )
            for name, measure in (
                ("http.client", clients.measure_http_client),
                ("requests.Session", clients.measure_requests),
                ("httpx.Client", clients.measure_httpx),
            )
        ]
    sequential: dict[str, dict[str, Sample]] = {name: {} for name, _ in measures}
    concurrent: dict[str, float] = {}
    # A fresh server process for each case: what one case leaves in a server's request log
    # (and so in its heap, which the garbage collector walks) must not slow the next one.
    for kind, python in pythons.items():
        for name, measure in measures:
            with serving(python, kind) as port:
                sequential[name][kind] = measure(port)
        with serving(python, kind) as port:
            concurrent[kind] = clients.measure_concurrent(port, budget).rate
    for name, _ in measures:
        per_kind = sequential[name]
        results.add(f"{name} req/s", "req/s", "higher", {k: s.rate for k, s in per_kind.items()})
        results.add(
            f"{name} median latency", "us", "lower", {k: s.latency_us for k, s in per_kind.items()}
        )
    results.add("8 threads http.client keep-alive req/s", "req/s", "higher", dict(concurrent))

    # registered handlers --------------------------------------------------
    for count in (1, 10, 100, 1000):
        rates: dict[str, float | None] = {}
        for kind in ("ours", "incumbent"):
            if kind not in pythons:
                continue
            with serving(pythons[kind], kind, handlers=count) as port:
                rates[kind] = clients.measure_http_client(port, budget, keep_alive=True).rate
        results.add(f"{count} handlers, http.client keep-alive req/s", "req/s", "higher", rates)

    # TLS -------------------------------------------------------------------
    import trustme

    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1", "localhost")
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    with tempfile.TemporaryDirectory() as folder:
        cert = os.path.join(folder, "cert.pem")
        key = os.path.join(folder, "key.pem")
        issued.cert_chain_pems[0].write_to_path(cert)
        for extra in issued.cert_chain_pems[1:]:
            extra.write_to_path(cert, append=True)
        issued.private_key_pem.write_to_path(key)
        tls_rates: dict[str, float | None] = {}
        for kind, python in pythons.items():
            tls_budget = budget if kind != "incumbent" else budget.scaled(1.0)
            with serving(python, kind, cert=(cert, key)) as port:
                tls_rates[kind] = clients.measure_http_client(
                    port, tls_budget, keep_alive=True, tls=client_context
                ).rate
        results.add("TLS http.client keep-alive req/s", "req/s", "higher", tls_rates)


# ------------------------------------------------------------------ targets


def targets(results: Results) -> list[dict[str, Any]]:
    def v(case: str, server: str) -> float | None:
        return results.value(case, server)

    def fastest(case: str) -> float | None:
        rates = [v(case, r) for r in REFERENCES]
        present = [r for r in rates if r is not None]
        return max(present) if present else None

    checks: list[tuple[str, float | None, float, str]] = []
    stop = v("stop()", "ours")
    checks.append(("stop() <= 5 ms", stop, 5.0, "<="))
    stop_idle = v("stop() (idle keep-alive conn open)", "ours")
    checks.append(("stop() with an idle keep-alive connection <= 5 ms", stop_idle, 5.0, "<="))
    seq = "http.client keep-alive req/s"
    checks.append(
        (
            "sequential keep-alive >= 0.7x fastest reference",
            _ratio(v(seq, "ours"), fastest(seq)),
            0.7,
            ">=",
        )
    )
    checks.append(
        (
            "sequential keep-alive >= 3x incumbent",
            _ratio(v(seq, "ours"), v(seq, "incumbent")),
            3.0,
            ">=",
        )
    )
    one = v("1 handlers, http.client keep-alive req/s", "ours")
    thousand = v("1000 handlers, http.client keep-alive req/s", "ours")
    checks.append(("1000 handlers >= 0.9x one handler", _ratio(thousand, one), 0.9, ">="))
    tls = "TLS http.client keep-alive req/s"
    checks.append(
        (
            "TLS keep-alive >= 10x incumbent",
            _ratio(v(tls, "ours"), v(tls, "incumbent")),
            10.0,
            ">=",
        )
    )
    out = []
    for name, measured, bound, op in checks:
        held = (
            None if measured is None else (measured <= bound if op == "<=" else measured >= bound)
        )
        out.append({"target": name, "measured": measured, "bound": f"{op} {bound}", "held": held})
    return out


def targets_text(checked: list[dict[str, Any]]) -> str:
    lines = []
    for item in checked:
        state = {True: "holds", False: "MISSED", None: "not measured"}[item["held"]]
        measured = "-" if item["measured"] is None else f"{item['measured']:.3g}"
        lines.append(
            f"  {state:<12} {item['target']:<52} measured {measured} (target {item['bound']})"
        )
    return "\n".join(lines)


def run(quick: bool, incumbent_python: str | None) -> dict[str, Any]:
    """Run the matrix; print its table and targets; return them for the JSON."""
    results = Results()
    print("     " + " " * 48 + "  ".join(f"{LABELS[s][:10]:>10}" for s in SERVERS), flush=True)
    run_all(quick, incumbent_python, results)
    print()
    print(table(results))
    checked = targets(results)
    print()
    print(targets_text(checked))
    return {"servers": LABELS, "rows": results.rows, "targets": checked, "notes": results.notes}
