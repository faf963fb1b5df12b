"""The README's Python examples run as they stand, with the outcomes the README tells of."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ..support import Runner

README = Path(__file__).resolve().parents[2] / "README.md"
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def test_the_readme_examples_run_with_the_outcomes_it_tells(
    suite: pytest.Pytester, run: Runner
) -> None:
    blocks = PYTHON_BLOCK.findall(README.read_text(encoding="utf-8"))
    assert len(blocks) == 2, "the README's Python examples changed: update this test"
    for number, block in enumerate(blocks):
        suite.makepyfile(**{f"test_readme_{number}": block})

    result = run("-p", "no:randomly")

    # the first example's second test fails at teardown, as its comment says
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*no handler matched: POST /v1/logon*",
            "*closest:*POST '/v1/login'*",
            "*expectation never used: oneshot POST '/v1/login'*",
        ]
    )
