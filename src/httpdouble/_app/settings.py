"""The application's settings, checked when it is made: the status sent when no handler
matches, the defaults of ``wait()`` and the time a handler function may take."""

from __future__ import annotations

from .._errors import HTTPDoubleUsageError
from .waiting import WaitingSettings

DEFAULT_HANDLER_TIMEOUT = 30.0


def check_timeout(value: object) -> float | None:
    """Return ``handler_timeout`` as a float (or ``None``: no limit); refuse anything else."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e9:
        raise HTTPDoubleUsageError(
            "handler_timeout",
            expected="a positive number of seconds, or None for no limit",
            got=value,
            remedy=f"pass handler_timeout=5.0, or leave the default {DEFAULT_HANDLER_TIMEOUT}",
        )
    return float(value)


def check_app_settings(no_handler_status_code: object, default_waiting_settings: object) -> None:
    """Refuse a no-handler status or waiting defaults of the wrong kind."""
    if (
        not isinstance(no_handler_status_code, int)
        or isinstance(no_handler_status_code, bool)
        or not 100 <= no_handler_status_code <= 999
    ):
        raise HTTPDoubleUsageError(
            "no_handler_status_code",
            expected="an int HTTP status from 100 to 999",
            got=no_handler_status_code,
            remedy="pass e.g. no_handler_status_code=404, or leave the default 500",
        )
    if default_waiting_settings is not None and not isinstance(
        default_waiting_settings, WaitingSettings
    ):
        raise HTTPDoubleUsageError(
            "default_waiting_settings",
            expected="a WaitingSettings or None",
            got=default_waiting_settings,
            remedy="pass WaitingSettings(timeout=2.0) or None",
        )
