"""What the docs and the README say agrees with the project: one truth, checked in CI.

Excerpts of real output are checked against real runs in ``tests/plugin/test_doc_excerpts.py``.
"""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest

from httpdouble import HTTPServer

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.rst"))]


def _paragraphs(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]


def test_no_page_installs_the_package_from_pypi_where_it_is_not_published() -> None:
    # The package is installed from a clone or its git URL (the README's Install section).
    from_pypi = re.compile(r"pip install ['\"]?pytest-httpdouble(?!\s*@)(\[\w+\])?['\"]?")
    found = [
        f"{page.relative_to(ROOT)}: {match.group(0)}"
        for page in PAGES
        for match in from_pypi.finditer(page.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_every_page_quotes_the_ci_command_as_ci_runs_it() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = re.search(r"nox -s tests[\w -]*", ci)
    assert command is not None
    quoted = re.compile(r"nox -s tests(?: [\w-]+)*")
    for page in PAGES:
        for mention in quoted.findall(page.read_text(encoding="utf-8")):
            assert mention == command.group(0).strip(), page.relative_to(ROOT)


def test_no_page_says_a_request_falls_through_ordered_handlers_by_default() -> None:
    assert HTTPServer().ordered_fall_through is False  # strict is the default
    loose = [
        f"{page.relative_to(ROOT)}: {paragraph[:120]}"
        for page in PAGES
        for paragraph in _paragraphs(page)
        if re.search(r"falls? through", paragraph) and "ordered_fall_through" not in paragraph
    ]
    assert loose == []


def test_the_readme_says_what_the_demo_turns_on_and_how_long_the_tests_take() -> None:
    ini = configparser.ConfigParser()
    ini.read(ROOT / "examples" / "demo" / "pytest.ini")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for option in shlex.split(ini.get("pytest", "addopts", fallback="")):
        assert f"`{option}`" in readme
    flat = " ".join(readme.split())
    ci = re.search(r"nox -s tests[\w -]*", (ROOT / ".ci" / "run").read_text(encoding="utf-8"))
    assert ci is not None
    command = re.escape(ci.group(0).strip())
    assert re.search(rf"{command} ``` Expect it to take [^.]*minutes", flat)


@pytest.mark.parametrize("page", ["docs/index.rst", "docs/tutorial.rst"])
def test_the_first_pages_a_newcomer_reads_say_how_to_install(page: str) -> None:
    text = " ".join((ROOT / page).read_text(encoding="utf-8").split())
    assert "not published on PyPI yet" in text
    assert "git+<clone URL>" in text
