"""Findings (what went wrong, as small values) and their views: the terminal and JSON report, the
per-test exchanges, the replay lines and the HTML page. It may import _log, _matching, _wire
and _errors; never _app, _server or pytest.
"""
