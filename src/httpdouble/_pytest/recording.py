"""Recording glue: the ``httpserver_record`` marker, ``--httpserver-record`` and the
``httpserver_record_config`` fixture turned into one test's :class:`Recording`.

The record layer (:mod:`httpdouble._record`) is imported only by a test that asks for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .._errors import HTTPDoubleUsageError
from .session import RECORD_MARKER, state_of

if TYPE_CHECKING:
    from .._record.recorder import Recording
    from .._server.server import HTTPServer

RECORDING = pytest.StashKey["Recording"]()
"""The recording of the test running now (a test marked httpserver_record)."""
_KEYS = ("mode", "upstream", "upstreams", "ca")


@pytest.fixture
def httpserver_record_config() -> dict[str, Any]:
    """Settings of the tests marked ``httpserver_record``: override it in a conftest.

    Keys: ``upstream`` (the base URL requests to the server itself go to while recording),
    ``ca`` (a CA bundle the upstream is trusted with), ``upstreams`` (host to base URL, or
    to ``(base URL, CA bundle)``, for intercepted requests) and ``mode``. The marker's
    keyword arguments win over it; ``--httpserver-record`` wins over both.
    """
    return {}


def _settings(request: pytest.FixtureRequest, marker: pytest.Mark) -> dict[str, Any]:
    config = request.getfixturevalue("httpserver_record_config")
    if not isinstance(config, dict):
        raise HTTPDoubleUsageError(
            "httpserver_record_config fixture",
            expected=f"a dict with some of the keys {', '.join(_KEYS)}",
            got=config,
            remedy="return a dict from the fixture",
        )
    if marker.args:
        raise HTTPDoubleUsageError(
            f"@pytest.mark.{RECORD_MARKER} arguments",
            expected=f"keyword arguments only: {', '.join(_KEYS)}",
            got=marker.args,
            remedy=f'write @pytest.mark.{RECORD_MARKER}(upstream="https://...")',
        )
    merged = {**config, **marker.kwargs}
    unknown = sorted(set(merged) - set(_KEYS))
    if unknown:
        raise HTTPDoubleUsageError(
            f"@pytest.mark.{RECORD_MARKER} or httpserver_record_config",
            expected=f"the keys {', '.join(_KEYS)}",
            got=unknown,
            remedy="remove or rename them",
        )
    return merged


def start_recording(request: pytest.FixtureRequest, server: HTTPServer) -> Recording | None:
    """Start the recording of a test marked ``httpserver_record`` (else return ``None``)."""
    marker = request.node.get_closest_marker(RECORD_MARKER)
    if marker is None:
        return None
    from .._record.cassette import cassette_path
    from .._record.forward import upstream_of, upstreams_of
    from .._record.recorder import Recording, RecordMode, record_mode

    settings = _settings(request, marker)
    state = state_of(request.config)
    if state.record_mode_from_command_line is not None:
        mode = record_mode(state.record_mode_from_command_line, "--httpserver-record")
    elif settings.get("mode") is not None:
        mode = record_mode(settings["mode"], f"@pytest.mark.{RECORD_MARKER}(mode=...)")
    elif state.record_mode is not None:
        mode = record_mode(state.record_mode, "ini option httpserver_record")
    else:
        mode = RecordMode.NONE
    upstream = settings.get("upstream")
    ca = settings.get("ca")
    item = request.node
    name = item.nodeid.split("::", 1)[1] if "::" in item.nodeid else item.name
    recording = Recording(
        cassette_path(Path(item.path), name),
        mode,
        upstream=None if upstream is None else upstream_of((upstream, ca), "upstream"),
        upstreams=upstreams_of(settings.get("upstreams"), "upstreams"),
    )
    recording.start(server)
    return recording


RECORDING_FIXTURE = "_httpdouble_recording"


def add_recording_fixture(items: list[pytest.Item]) -> None:
    """Put the recording fixture first among the fixtures of each marked test.

    Only marked tests pay for it (``httpserver`` itself takes no ``request``: issue 27).
    First, so the recording starts before ``httpserver_intercept`` changes the CA variables.
    """
    marked: dict[int, bool] = {}  # id(node) -> the marker is on it or on a parent

    def is_marked(node: pytest.Item | pytest.Collector) -> bool:
        # As get_closest_marker(...) is not None, with each module and class looked at once
        # for all its tests rather than again for each (issue 27: the collection hook).
        known = marked.get(id(node))
        if known is None:
            known = any(mark.name == RECORD_MARKER for mark in node.own_markers) or (
                node.parent is not None and is_marked(node.parent)
            )
            marked[id(node)] = known
        return known

    for item in items:
        names = getattr(item, "fixturenames", None)
        if isinstance(names, list) and RECORDING_FIXTURE not in names and is_marked(item):
            names.insert(0, RECORDING_FIXTURE)


@pytest.fixture
def _httpdouble_recording(
    httpserver: HTTPServer, request: pytest.FixtureRequest
) -> Iterator[Recording | None]:
    """The recording of a test marked ``httpserver_record``, through ``httpserver``.

    It is torn down before ``httpserver`` (it depends on it): the cassette is written and,
    in ``new_episodes`` mode, the unused replays are dropped before the teardown check.
    """
    recording = start_recording(request, httpserver)
    if recording is not None:
        request.node.stash[RECORDING] = recording
    yield recording
    if recording is not None:
        recording.finish()


def recording_hint(item: pytest.Item) -> str | None:
    """The line a recorded test's HTTP problems end with: its cassette and what to run."""
    recording = item.stash.get(RECORDING, None)
    return None if recording is None else _hint(recording, recording.written)


def _hint(recording: Recording, written: Path | None) -> str:
    """What the failure of a recorded test adds: its cassette, its mode, what to run."""
    where = _shown(recording.path)
    if written is not None:
        return f"recorded into the cassette {where} (mode {recording.mode.value})"
    if recording.records:
        return f"this test records into the cassette {where} (mode {recording.mode.value})"
    if not recording.path.is_file():
        return (
            f"this test replays the cassette {where}, which does not exist (mode"
            f" {recording.mode.value})\n  to record it: pytest --httpserver-record=once"
        )
    return (
        f"this test replays the cassette {where} (mode {recording.mode.value})\n"
        "  if the code changed on purpose: record again with --httpserver-record=all"
        " (everything) or new_episodes (what the cassette lacks), or edit the file"
    )


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
