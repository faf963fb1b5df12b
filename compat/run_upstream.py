"""Run pytest-httpserver's own test suites against httpdouble (``nox -s compat``).

For each release (1.1.5 and 1.2.1 by default; ``--latest``: the newest on the package
index), fetches its sdist with pip (it ships its tests), renames every
``pytest_httpserver`` to ``httpdouble`` in the test files, as a user would with one
``sed``, and runs them twice: plainly and with ``--ssl`` (upstream runs its TLS tests in a
session of their own), with the teardown check off (the one deliberate difference). The
runs go two at a time (``--jobs``).

How many passing tests the teardown check would fail is counted from the plain run's JSON
report, whose problems of category "check off" are exactly what the check would raise (a
third run with the check on gave the same tests for both releases; ``--check-on-run`` makes
that run and counts from it instead).

Quiet when green: one line per run. The tracebacks are printed only for failures that are
not on the release's allow-list, ``compat/allowlist-<version>.txt`` (a release without a
list of its own uses the newest list there is). ``--verbose`` also lists the tests the
teardown check would fail.

Exit status 1 when a test fails that is not on the allow-list.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
RELEASES = ["1.1.5", "1.2.1"]
INI = """[pytest]
markers =
    ssl: set up ssl context
    release: run release tests
"""
# (name, extra arguments, teardown check); the check-on run only counts, and only on request.
RUNS = [("plain", [], False), ("--ssl", ["--ssl"], False)]
CHECK_ON_RUN = ("check on", [], True)


@dataclass
class Outcomes:
    """What one pytest run gave: each test's outcome by id, and the text of each failure."""

    by_id: dict[str, str] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    # Tests whose problems the teardown check would raise (it was off), from the JSON report.
    check_would_fail: set[str] = field(default_factory=set)
    seconds: float = 0.0
    log: str = ""


def fetch_tests(work: Path, requirement: str) -> tuple[str, Path]:
    """Download the sdist, unpack its ``tests`` folder, rename the imports.

    :returns: the release's version and the renamed tests folder.
    """
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
    command += ["--no-binary", ":all:", "--dest", str(work), requirement]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    sdists = list(work.glob("pytest_httpserver-*.tar.gz"))
    if done.returncode != 0 or len(sdists) != 1:
        raise SystemExit(f"pip download {requirement} failed:\n{done.stdout}{done.stderr}")
    [sdist] = sdists
    version = sdist.name.removeprefix("pytest_httpserver-").removesuffix(".tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(work, filter="data")
    tests = work / "tests"
    shutil.copytree(work / f"pytest_httpserver-{version}" / "tests", tests)
    for path in tests.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("pytest_httpserver", "httpdouble"), encoding="utf-8")
    (tests / "pytest.ini").write_text(INI)
    return version, tests


def run(tests: Path, name: str, extra: list[str], check: bool) -> Outcomes:
    """Run the suite once, its output to a file; return each test's outcome by id."""
    slug = re.sub(r"\W+", "-", name).strip("-")
    report = tests.parent / f"{slug}.xml"
    problems = tests.parent / f"{slug}.json"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["-p", "no:randomly", f"--junitxml={report}", "--continue-on-collection-errors"]
    command += [f"--httpserver-report-json={problems}"]
    command += ["-o", f"httpserver_teardown_check={'true' if check else 'false'}", *extra]
    started = time.monotonic()
    done = subprocess.run(
        command, cwd=tests, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    outcomes = Outcomes(seconds=time.monotonic() - started, log=done.stdout + done.stderr)
    if not report.exists():  # pytest did not get as far as writing it
        outcomes.by_id["<the whole run>"] = "failed"
        outcomes.details["<the whole run>"] = outcomes.log
        return outcomes
    if problems.exists():
        found = json.loads(problems.read_text(encoding="utf-8"))["problems"]
        outcomes.check_would_fail = {p["where"] for p in found if p["category"] == "check off"}
    for case in ET.parse(report).iter("testcase"):
        module = case.get("classname", "").replace(".", "/")
        # A module that fails to import is reported with its dotted name and no class.
        test_id = f"{module}.py::{case.get('name')}" if module else f"{case.get('name')}"
        problems = [child for child in case if child.tag in ("failure", "error")]
        if problems:
            outcomes.by_id[test_id] = "failed"
            outcomes.details[test_id] = "\n".join(
                (p.get("message") or "") + "\n" + (p.text or "") for p in problems
            )
        elif any(child.tag == "skipped" for child in case):
            outcomes.by_id.setdefault(test_id, "skipped")
        else:
            outcomes.by_id.setdefault(test_id, "passed")
    return outcomes


def allow_list(version: str) -> tuple[str, dict[str, str]]:
    """The allow-list of ``version``, or of the newest release that has one."""
    lists = {p.stem.removeprefix("allowlist-"): p for p in HERE.glob("allowlist-*.txt")}
    chosen = version if version in lists else max(lists, key=_version_key)
    found = {}
    for line in lists[chosen].read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            test_id, _, reason = line.partition("#")
            found[test_id.strip()] = reason.strip()
    return lists[chosen].name, found


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def _counts(outcomes: dict[str, str]) -> str:
    values = list(outcomes.values())
    return ", ".join(f"{values.count(o)} {o}" for o in ("passed", "failed", "skipped"))


def report(version: str, runs: dict[str, Outcomes], verbose: bool) -> bool:
    """Print one line per run (and the detail of unexpected failures); return whether green."""
    list_name, allowed = allow_list(version)
    label = f"pytest-httpserver {version}"
    merged: dict[str, str] = {}
    details: dict[str, str] = {}
    for name, _, _ in RUNS:
        outcomes = runs[name]
        failed = [t for t, o in outcomes.by_id.items() if o == "failed"]
        listed = sum(1 for t in failed if t in allowed)
        print(
            f"{label}, {name}: {_counts(outcomes.by_id)}"
            f" ({listed} allow-listed in compat/{list_name}) [{outcomes.seconds:.1f} s]"
        )
        for test_id, outcome in outcomes.by_id.items():
            if outcome != "skipped" or test_id not in merged:
                merged[test_id] = outcome
        details.update(outcomes.details)
    checked = runs.get(CHECK_ON_RUN[0])
    if checked is None:
        would_fail = runs["plain"].check_would_fail | runs["--ssl"].check_would_fail
        how = "from the plain runs' reports"
    else:
        would_fail = {t for t, o in checked.by_id.items() if o == "failed"}
        how = f"from a run with it on [{checked.seconds:.1f} s]"
    flagged = sorted(t for t in would_fail if merged.get(t) == "passed")
    print(
        f"{label}, in all: {_counts(merged)}; the teardown check would fail {len(flagged)}"
        f" of the passing tests ({how})"
    )
    if verbose:
        for test_id in flagged:
            print(f"  {test_id}")
    unexpected = sorted(t for t, o in merged.items() if o == "failed" and t not in allowed)
    for test_id in unexpected:
        print(f"\n---- {label}: {test_id} failed (not allow-listed) ----")
        print(details.get(test_id, "").rstrip())
    if unexpected:
        print(f"\n{label}: FAILED, not on compat/{list_name}:")
        for test_id in unexpected:
            print(f"  {test_id}")
    return not unexpected


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--release",
        action="append",
        help=f"a release to run (repeatable; default: {' and '.join(RELEASES)})",
    )
    parser.add_argument(
        "--latest", action="store_true", help="run the newest release on the package index"
    )
    parser.add_argument("--jobs", type=int, default=2, help="pytest runs at once (default 2)")
    parser.add_argument("--keep", help="copy each renamed suite to this folder/<version>")
    parser.add_argument("--verbose", action="store_true", help="list what the check flags")
    parser.add_argument(
        "--check-on-run",
        action="store_true",
        help="count what the teardown check fails with a third run that has it on",
    )
    args = parser.parse_args()
    requirements = ["pytest-httpserver"] if args.latest else []
    requirements += [f"pytest-httpserver=={v}" for v in args.release or []]
    if not requirements:
        requirements = [f"pytest-httpserver=={v}" for v in RELEASES]
    started = time.monotonic()
    green = True
    with (
        tempfile.TemporaryDirectory(prefix="httpdouble-compat-") as tmp,
        concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool,
    ):
        fetched = []
        for index, requirement in enumerate(requirements):
            work = Path(tmp) / str(index)
            work.mkdir()
            fetched.append(pool.submit(fetch_tests, work, requirement))
        suites = [future.result() for future in fetched]
        if args.keep:
            for version, tests in suites:
                shutil.copytree(tests, Path(args.keep) / version, dirs_exist_ok=True)
        runs_made = [*RUNS, CHECK_ON_RUN] if args.check_on_run else RUNS
        futures = {
            (version, name): pool.submit(run, tests, name, extra, check)
            for version, tests in suites
            for name, extra, check in runs_made
        }
        for version, _ in suites:
            runs = {name: futures[version, name].result() for name, _, _ in runs_made}
            green = report(version, runs, args.verbose) and green
    print(f"compat: {'green' if green else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return 0 if green else 1


if __name__ == "__main__":
    sys.exit(main())
