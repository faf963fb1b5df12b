"""Where the browser session writes its screenshot (importable without Playwright).

A test run must leave the clone as it was: the screenshot goes under ``build/`` (ignored by
git). Updating the image the how-to shows is a step of its own, ``nox -s docs_image``, which
points ``HTTPDOUBLE_SCREENSHOT`` at ``docs/howto/html-report.png``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_ENV = "HTTPDOUBLE_SCREENSHOT"
DEFAULT_SCREENSHOT = ROOT / "build" / "browser" / "html-report.png"
DOCS_IMAGE = ROOT / "docs" / "howto" / "html-report.png"


def screenshot_path(environ: Mapping[str, str]) -> Path:
    """Return where the screenshot goes: ``HTTPDOUBLE_SCREENSHOT``, else under ``build/``."""
    chosen = environ.get(SCREENSHOT_ENV)
    return Path(chosen) if chosen else DEFAULT_SCREENSHOT
