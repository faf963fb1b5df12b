"""Run pytest-httpserver's own test suite against httpdouble (``nox -s compat``).

Fetches the sdist of pytest-httpserver (it ships its tests) with pip, renames every
``pytest_httpserver`` to ``httpdouble`` in the test files, as a user would with one
``sed``, and runs them: once plainly and once with ``--ssl`` (upstream runs its TLS
tests in a session of their own). The teardown check is turned off with the ini
setting made for that, since it is the one deliberate difference; a third run with it
on only counts, for the migration guide, how many tests it would flag.

Exit status 1 when a test fails that is not on ``allowlist.txt``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
UPSTREAM = "pytest-httpserver==1.1.5"
INI = """[pytest]
markers =
    ssl: set up ssl context
    release: run release tests
httpserver_teardown_check = {check}
"""


def fetch_tests(work: Path) -> Path:
    """Download the sdist, unpack its ``tests`` folder, rename the imports; return it."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--dest",
            str(work),
            UPSTREAM,
        ],
        check=True,
    )
    [sdist] = work.glob("pytest_httpserver-*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(work, filter="data")
    [root] = (p for p in work.iterdir() if p.is_dir())
    tests = work / "tests"
    shutil.copytree(root / "tests", tests)
    for path in tests.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("pytest_httpserver", "httpdouble"), encoding="utf-8")
    return tests


def run(tests: Path, name: str, extra: list[str], check: bool) -> dict[str, str]:
    """Run the suite; return each test's outcome by id (passed, failed, skipped)."""
    (tests / "pytest.ini").write_text(INI.format(check="true" if check else "false"))
    report = tests.parent / f"{name}.xml"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        f"--junitxml={report}",
        "--continue-on-collection-errors",
        *extra,
    ]
    subprocess.run(command, cwd=tests, check=False)
    outcomes: dict[str, str] = {}
    for case in ET.parse(report).iter("testcase"):
        module = case.get("classname", "").replace(".", "/")
        # A module that fails to import is reported with its dotted name and no class.
        test_id = f"{module}.py::{case.get('name')}" if module else f"{case.get('name')}"
        kinds = {child.tag for child in case}
        if kinds & {"failure", "error"}:
            outcomes[test_id] = "failed"
        elif "skipped" in kinds:
            outcomes.setdefault(test_id, "skipped")
        else:
            outcomes.setdefault(test_id, "passed")
    return outcomes


def allowed() -> dict[str, str]:
    found = {}
    for line in (HERE / "allowlist.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            test_id, _, reason = line.partition("#")
            found[test_id.strip()] = reason.strip()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="copy the renamed suite to this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="httpdouble-compat-") as tmp:
        tests = fetch_tests(Path(tmp))
        if args.keep:
            shutil.copytree(tests, args.keep, dirs_exist_ok=True)
        outcomes = run(tests, "plain", [], check=False)
        ssl_outcomes = run(tests, "ssl", ["--ssl"], check=False)
        for test_id, outcome in ssl_outcomes.items():
            if outcome != "skipped":
                outcomes[test_id] = outcome
        checked = run(tests, "checked", [], check=True)
    failed = sorted(t for t, o in outcomes.items() if o == "failed")
    allow = allowed()
    unexpected = [t for t in failed if t not in allow]
    flagged = sorted(
        t for t, o in checked.items() if o == "failed" and outcomes.get(t) == "passed"
    )
    counts = {o: list(outcomes.values()).count(o) for o in ("passed", "failed", "skipped")}
    listed = len([t for t in failed if t in allow])
    print(f"\n{UPSTREAM}'s suite against httpdouble: {counts}")
    print(f"allow-listed failures: {listed} of {len(allow)} listed")
    print(f"tests the teardown check would fail (it is off above): {len(flagged)}")
    for test_id in flagged:
        print(f"  {test_id}")
    if unexpected:
        print("FAILED, not on compat/allowlist.txt:")
        for test_id in unexpected:
            print(f"  {test_id}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
