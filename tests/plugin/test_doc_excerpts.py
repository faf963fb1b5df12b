"""Every excerpt of real output in the docs is checked against a real run.

A code block of output in the docs carries an rst comment ``.. excerpt: NAME`` just above it.
Each name has a scenario here that runs pytest as the page tells the reader to; the block's
lines must appear, one after the other, in what that run printed (ports, timings, paths of
installed packages and separator widths aside). When the output changes, the test fails and
prints the real text to paste into the page.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from ..support import Runner

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TUTORIAL_TEST = ROOT / "tests" / "examples" / "test_howto_tutorial.py"
BROKEN_SUITE = ROOT / "examples" / "broken"
MARK = re.compile(r"^\.\. excerpt: (\S+)\s*$")
BLOCK = re.compile(r"^\.\. code-block::")


def find_excerpts() -> dict[str, tuple[Path, list[str]]]:
    """Return every marked block of the docs: name -> (page, lines of the block, dedented)."""
    found: dict[str, tuple[Path, list[str]]] = {}
    for page in sorted(DOCS.rglob("*.rst")):
        lines = page.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            mark = MARK.match(line)
            if mark is None:
                continue
            start = next(i for i in range(number + 1, len(lines)) if BLOCK.match(lines[i]))
            body: list[str] = []
            for text in lines[start + 1 :]:
                if text.strip() and not text.startswith(" "):
                    break
                body.append(text)
            block = textwrap.dedent("\n".join(body)).strip("\n").splitlines()
            assert mark.group(1) not in found, f"{page}: excerpt {mark.group(1)} named twice"
            found[mark.group(1)] = (page, block)
    return found


_RULES = [
    (re.compile(r"localhost:\d+"), "localhost:PORT"),
    (re.compile(r" in \d+\.\d+s( \(\d+:\d+:\d+\))?"), " in Ts"),
    (re.compile(r"^\S*/site-packages/(\S+\.py):\d+:"), r".../\1:N:"),
    (re.compile(r"^\.\.\./(\S+\.py):\d+:"), r".../\1:N:"),
    (re.compile(r"^([=_-])\1+ (.*?) \1+$"), r"\1\1 \2 \1\1"),
    (re.compile(r"(?<=\S)  +"), " "),  # column padding (the progress line's among it)
]


def normalize(lines: list[str]) -> list[str]:
    result = []
    for line in lines:
        line = line.rstrip()
        for pattern, replacement in _RULES:
            line = pattern.sub(replacement, line)
        result.append(line)
    return result


def contains_block(output: list[str], block: list[str]) -> bool:
    size = len(block)
    return any(output[i : i + size] == block for i in range(len(output) - size + 1))


def _tutorial(pytester: pytest.Pytester, run: Runner, *, mistake: bool) -> list[str]:
    source = TUTORIAL_TEST.read_text(encoding="utf-8")
    if mistake:  # the tutorial's "Make a mistake on purpose"
        source = source.replace('"/users/7", method="GET"', '"/users/7", method="POST"')
    pytester.makepyfile(test_users=source)
    return run("-q", "test_users.py").outlines


def _tutorial_xdist(pytester: pytest.Pytester, run: Runner) -> list[str]:
    pytester.makepyfile(test_users=TUTORIAL_TEST.read_text(encoding="utf-8"))
    return run("-n", "2").outlines


def _broken_retry_loop(pytester: pytest.Pytester, run: Runner) -> list[str]:
    # As the page says: the example suite, run in place with its own ini file.
    ini = str(BROKEN_SUITE / "pytest.ini")
    args = ["-c", ini, "--rootdir", str(BROKEN_SUITE), str(BROKEN_SUITE), "-k", "test_retry_loop"]
    return run("-p", "no:asyncio", *args).outlines


# A scenario: the run a page tells its reader to make, and the excerpts taken from it.
SCENARIOS: dict[str, tuple[Callable[[pytest.Pytester, Runner], list[str]], list[str]]] = {
    "tutorial": (
        lambda pytester, run: _tutorial(pytester, run, mistake=False),
        ["tutorial-run"],
    ),
    "tutorial-mistake": (
        lambda pytester, run: _tutorial(pytester, run, mistake=True),
        ["tutorial-mistake", "tutorial-mistake-report"],
    ),
    "tutorial-xdist": (_tutorial_xdist, ["tutorial-xdist"]),
    "broken-retry-loop": (_broken_retry_loop, ["pool-teardown-error"]),
}


def test_every_marked_excerpt_has_a_scenario_and_every_scenario_an_excerpt() -> None:
    covered = sorted(name for _, names in SCENARIOS.values() for name in names)
    assert covered == sorted(find_excerpts())


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_docs_excerpts_match_a_real_run(
    suite: pytest.Pytester, run: Runner, scenario: str
) -> None:
    make_run, names = SCENARIOS[scenario]
    output = normalize(make_run(suite, run))
    excerpts = find_excerpts()
    for name in names:
        page, block = excerpts[name]
        wanted = normalize([line for line in block if not line.startswith("$ ")])
        assert contains_block(output, wanted), (
            f"{page.relative_to(ROOT)}: the excerpt {name!r} is not what a real run prints"
            " (ports, times and paddings aside)\n--- the excerpt:\n"
            + "\n".join(wanted)
            + "\n--- the real output:\n"
            + "\n".join(output)
        )
