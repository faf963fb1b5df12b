"""pytest-html glue: each test's HTTP traffic and problems as an extra of its row.

Imported and registered only when pytest-html is active and writes a report (``--html``),
so a run without it imports neither this module nor pytest-html. The extra is set on the
teardown report where the test ran: under xdist, the report (extras included) travels to the
controller, whose pytest-html writes the row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .session import TEST_DATA

PLUGIN_NAME = "httpdouble-pytest-html"


class PytestHtmlExtras:
    """Adds the test's HTML fragment (see :func:`httpdouble._report.html.extras_fragment`)."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Iterator[None]:
        report: Any = yield
        data = item.stash.get(TEST_DATA, None) if call.when == "teardown" else None
        if data is not None:
            from pytest_html import extras

            from .._report.html import extras_fragment

            report.extras = [*getattr(report, "extras", []), extras.html(extras_fragment(data))]
        return report  # type: ignore[no-any-return]
