"""The README's test command leaves the clone as it was: nothing it writes is tracked."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ..browser.paths import DEFAULT_SCREENSHOT, DOCS_IMAGE, ROOT, screenshot_path


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False, timeout=30
    )


def test_the_browser_session_writes_its_screenshot_under_an_ignored_build_folder() -> None:
    path = screenshot_path({})
    assert path == DEFAULT_SCREENSHOT
    assert path.is_relative_to(ROOT / "build")
    assert path != DOCS_IMAGE
    # git ignores it, so a test run leaves `git status` clean.
    assert _git("check-ignore", "-q", str(path)).returncode == 0


def test_updating_the_docs_image_is_an_explicit_choice_of_path() -> None:
    assert screenshot_path({"HTTPDOUBLE_SCREENSHOT": str(DOCS_IMAGE)}) == DOCS_IMAGE
    # The image the how-to shows is tracked: only `nox -s docs_image` rewrites it.
    assert _git("ls-files", "--error-unmatch", str(DOCS_IMAGE)).returncode == 0
