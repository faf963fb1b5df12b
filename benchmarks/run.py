"""Benchmarks: ours, the incumbent and two references, measured in one run on the same clients.

    python benchmarks/run.py [--quick] [--json PATH] [--skip-suite]

Every server runs in a process of its own (``serve.py``) on 127.0.0.1; the
incumbent (pytest-httpserver 1.2) runs from its own virtualenv, because it
registers the same pytest fixture name as ours. Prints a table of medians
with the ratios ours/incumbent and ours/fastest-reference, checks the targets
of issue #4, and writes everything as JSON (``benchmarks/results.json``,
not committed). This is not a test: nothing here fails on a number.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import suite

import clients
from clients import Budget, Sample

HERE = Path(__file__).resolve().parent
SERVE = HERE / "serve.py"
INCUMBENT_VENV = HERE / ".venv-incumbent"
# The 500-test suite runs ours from a virtualenv shaped like the incumbent's (pytest,
# pytest-xdist and the plugin): the driver's own environment carries other pytest plugins
# (anyio, through httpx), whose hooks cost about 0.1-0.2 ms a test on top.
SUITE_VENV = HERE / ".venv-ours-suite"
ROOT = HERE.parent
INCUMBENT_SPEC = "pytest-httpserver==1.2.*"
PINS = (INCUMBENT_SPEC, "pytest", "pytest-xdist")
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
    present = [v for v in refs if v is not None]
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


def ensure_incumbent(results: Results) -> str | None:
    """Return the incumbent virtualenv's python, creating the venv if needed."""
    python = INCUMBENT_VENV / "bin" / "python"
    marker = INCUMBENT_VENV / "installed.txt"
    if marker.exists() and marker.read_text().strip() == INCUMBENT_SPEC:
        return str(python)
    print(f"creating {INCUMBENT_VENV} with {INCUMBENT_SPEC} ...", flush=True)
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(INCUMBENT_VENV)], check=True, timeout=120
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PINS],
            check=True,
            timeout=600,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        results.note(f"incumbent not measured: its virtualenv could not be made ({exc})")
        return None
    marker.write_text(INCUMBENT_SPEC + "\n")
    return str(python)


def _source_digest() -> str:
    digest = hashlib.sha256()
    for path in [*sorted((ROOT / "src").rglob("*.py")), ROOT / "pyproject.toml"]:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def ensure_suite_venv(results: Results) -> str | None:
    """Return the python of a venv with only pytest, pytest-xdist and this checkout's plugin."""
    python = SUITE_VENV / "bin" / "python"
    marker = SUITE_VENV / "installed.txt"
    wanted = _source_digest()
    if marker.exists() and marker.read_text().strip() == wanted:
        return str(python)
    print(f"creating {SUITE_VENV} with pytest, pytest-xdist and {ROOT.name} ...", flush=True)
    try:
        if not python.exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(SUITE_VENV)], check=True, timeout=120
            )
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "pytest", "pytest-xdist", str(ROOT)], check=True, timeout=600)
        # The same version number with other source: reinstall the plugin itself.
        reinstall = [*pip, "--force-reinstall", "--no-deps", str(ROOT)]
        subprocess.run(reinstall, check=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as exc:
        results.note(f"suite run from the driver's environment: no venv of its own ({exc})")
        return None
    marker.write_text(wanted + "\n")
    return str(python)


@contextlib.contextmanager
def serving(
    python: str, kind: str, *, handlers: int = 1, cert: tuple[str, str] | None = None
) -> Iterator[int]:
    """Run ``serve.py kind`` in its own process; yield its port; stop it at the end."""
    command = [python, str(SERVE), kind, "--handlers", str(handlers)]
    if cert is not None:
        command += ["--cert", cert[0], "--key", cert[1]]
    # The server's own log (werkzeug prints a line per request) goes to a file, not the table.
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, cwd=HERE
        )
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            line = process.stdout.readline()
            if not line:
                process.wait(15)
                log.seek(0)
                raise RuntimeError(f"{kind} server did not start:\n{log.read()[-3000:]}")
            yield int(json.loads(line)["port"])
        finally:
            process.stdin.close()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
            process.stdout.close()


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


def run_all(args: argparse.Namespace, results: Results) -> None:
    quick = args.quick
    budget = (
        Budget(rounds=3, seconds=0.3, max_requests=20_000)
        if quick
        else Budget(rounds=5, seconds=1.2, max_requests=200_000)
    )
    incumbent_python = ensure_incumbent(results)
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
                f"http.client {mode}",
                lambda p, k=keep_alive: clients.measure_http_client(p, budget, keep_alive=k),
            ),
            (
                f"requests.Session {mode}",
                lambda p, k=keep_alive: clients.measure_requests(p, budget, keep_alive=k),
            ),
            (
                f"httpx.Client {mode}",
                lambda p, k=keep_alive: clients.measure_httpx(p, budget, keep_alive=k),
            ),
        ]
    sequential: dict[str, dict[str, Sample]] = {name: {} for name, _ in measures}
    concurrent: dict[str, float] = {}
    wrk: dict[str, dict[str, Any]] = {}
    use_wrk = clients.wrk_available()
    if not use_wrk:
        results.note("wrk is not installed: the wrk cases are skipped (apt-get install wrk)")
    # A fresh server process for each case: what one case leaves in a server's request log
    # (and so in its heap, which the garbage collector walks) must not slow the next one.
    for kind, python in pythons.items():
        for name, measure in measures:
            with serving(python, kind) as port:
                sequential[name][kind] = measure(port)
        with serving(python, kind) as port:
            concurrent[kind] = clients.measure_concurrent(port, budget).rate
        if use_wrk:
            with serving(python, kind) as port:
                wrk[kind] = clients.measure_wrk(port, 1 if quick else 3)
    for name, _ in measures:
        per_kind = sequential[name]
        results.add(f"{name} req/s", "req/s", "higher", {k: s.rate for k, s in per_kind.items()})
        results.add(
            f"{name} median latency", "us", "lower", {k: s.latency_us for k, s in per_kind.items()}
        )
    results.add("8 threads http.client keep-alive req/s", "req/s", "higher", dict(concurrent))
    if use_wrk:
        results.add("wrk -c2 req/s", "req/s", "higher", {k: v["rate"] for k, v in wrk.items()})
        results.add("wrk -c2 p50", "us", "lower", {k: v["p50_us"] for k, v in wrk.items()})
        results.add("wrk -c2 p99", "us", "lower", {k: v["p99_us"] for k, v in wrk.items()})
        results.raw["wrk"] = wrk

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

    # the generated suite ---------------------------------------------------
    if args.skip_suite:
        results.note("the generated 500-test suite was skipped (--skip-suite)")
        return
    repeats = 1 if quick else 5  # single pytest runs move by +-50 ms
    suite_pythons = dict(pythons)
    suite_pythons["ours"] = ensure_suite_venv(results) or pythons["ours"]
    with tempfile.TemporaryDirectory() as folder:
        suite.write_suites(Path(folder))
        for workers in (0, 2):
            label = "plain" if not workers else f"-n {workers}"
            per_test: dict[str, float | None] = {}
            for kind in ("ours", "incumbent"):
                if kind not in suite_pythons:
                    continue
                measured = suite.overhead_ms(
                    suite_pythons[kind], Path(folder), kind, workers, repeats
                )
                per_test[kind] = measured["per_test_ms"]
            results.add(f"500-test suite ({label}) overhead/test", "ms", "lower", per_test)


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
    if v("wrk -c2 req/s", "ours") is not None:
        checks.append(
            (
                "wrk req/s >= 3x incumbent",
                _ratio(v("wrk -c2 req/s", "ours"), v("wrk -c2 req/s", "incumbent")),
                3.0,
                ">=",
            )
        )
        checks.append(
            (
                "wrk p99 <= 1/10 of incumbent's",
                _ratio(v("wrk -c2 p99", "ours"), v("wrk -c2 p99", "incumbent")),
                0.1,
                "<=",
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
    for label in ("plain", "-n 2"):
        case = f"500-test suite ({label}) overhead/test"
        checks.append(
            (
                f"per-test overhead ({label}) <= incumbent",
                _ratio(v(case, "ours"), v(case, "incumbent")),
                1.0,
                "<=",
            )
        )
    out = []
    for name, measured, bound, op in checks:
        held = (
            None if measured is None else (measured <= bound if op == "<=" else measured >= bound)
        )
        out.append({"target": name, "measured": measured, "bound": f"{op} {bound}", "held": held})
    return out


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short rounds (under 2 minutes)")
    parser.add_argument("--json", default=str(HERE / "results.json"), help="where to write JSON")
    parser.add_argument("--skip-suite", action="store_true", help="skip the 500-test suite")
    args = parser.parse_args()
    began = time.monotonic()
    results = Results()
    print("     " + " " * 48 + "  ".join(f"{LABELS[s][:10]:>10}" for s in SERVERS), flush=True)
    run_all(args, results)
    print()
    print(table(results))
    checked = targets(results)
    print()
    for item in checked:
        state = {True: "holds", False: "MISSED", None: "not measured"}[item["held"]]
        measured = "-" if item["measured"] is None else f"{item['measured']:.3g}"
        print(f"  {state:<12} {item['target']:<52} measured {measured} (target {item['bound']})")
    for text in results.notes:
        print(f"  note: {text}")
    elapsed = time.monotonic() - began
    print(f"\n{'quick' if args.quick else 'full'} run took {elapsed:.0f} s")
    Path(args.json).write_text(
        json.dumps(
            {
                "mode": "quick" if args.quick else "full",
                "seconds": elapsed,
                "machine": machine(),
                "servers": LABELS,
                "rows": results.rows,
                "targets": checked,
                "notes": results.notes,
                "raw": results.raw,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
