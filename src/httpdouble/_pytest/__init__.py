"""The pytest layer: fixtures, per-process session state and settings, xdist coordination, the
port coordinator, hook specifications and the pytest-html glue. The only layer that imports
pytest; it may import every layer below it (_server, _app, _report, _log, _matching, _wire,
_errors).
"""
