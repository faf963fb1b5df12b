"""compat/run_upstream.py: quiet when green, loud about what is not allow-listed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "compat" / "run_upstream.py"


@pytest.fixture(scope="module")
def runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_upstream", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_upstream"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _runs(runner: ModuleType, failed: dict[str, str]) -> dict[str, object]:
    plain = runner.Outcomes(
        by_id={"test_a.py::test_ok": "passed", "test_a.py::test_flagged": "passed"}
        | dict.fromkeys(failed, "failed"),
        details=failed,
        check_would_fail={"test_a.py::test_flagged"},
        seconds=1.0,
    )
    ssl = runner.Outcomes(by_id={"test_a.py::test_ok": "skipped"}, seconds=0.5)
    return {"plain": plain, "--ssl": ssl}


def test_each_release_has_an_allow_list_of_at_most_two_tests(runner: ModuleType) -> None:
    for version in runner.RELEASES:
        name, allowed = runner.allow_list(version)
        assert name == f"allowlist-{version}.txt"
        assert 0 < len(allowed) <= 2
        assert all(reason for reason in allowed.values())


def test_a_release_without_a_list_uses_the_newest_one(runner: ModuleType) -> None:
    name, _ = runner.allow_list("99.0.0")
    assert name == f"allowlist-{runner.RELEASES[-1]}.txt"


def test_a_green_release_prints_one_line_per_run_and_no_traceback(
    runner: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    _, allowed = runner.allow_list("1.2.1")
    listed = next(iter(allowed))
    assert runner.report("1.2.1", _runs(runner, {listed: "Traceback: wording"}), False)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("pytest-httpserver 1.2.1, plain: 2 passed, 1 failed, 0 skipped")
    assert "(1 allow-listed in compat/allowlist-1.2.1.txt)" in lines[0]
    assert "the teardown check would fail 1 of the passing tests" in lines[2]
    assert "Traceback" not in "\n".join(lines)


def test_a_failure_not_allow_listed_prints_its_traceback_and_fails(
    runner: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = _runs(runner, {"test_b.py::test_new": "Traceback: AssertionError: boom"})
    assert not runner.report("1.2.1", runs, False)
    out = capsys.readouterr().out
    assert (
        "---- pytest-httpserver 1.2.1: test_b.py::test_new failed (not allow-listed) ----" in out
    )
    assert "Traceback: AssertionError: boom" in out
    assert "FAILED, not on compat/allowlist-1.2.1.txt:\n  test_b.py::test_new" in out
