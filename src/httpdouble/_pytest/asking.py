"""How the server fixtures get what they need from pytest without taking it as arguments.

pytest walks a fixture's arguments again at every test that uses it, a session fixture whose
value it cached included; the server fixtures ask for what they need instead (issue 27): the
running test (:func:`current_item`), a server fixture's value (:func:`server_for`), and what a
server starts with (:func:`started_with`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from .._errors import HTTPDoubleUsageError
from .session import FIXTURE_ARGUMENTS_INI, active_config, state_of

if TYPE_CHECKING:
    from .._server.server import HTTPServer


def current_item() -> pytest.Item:
    """The test running now, as the plugin's ``pytest_runtest_protocol`` recorded it.

    The per-test fixtures take no ``request`` argument: on pytest 9 each lookup of it
    builds an object (three a test for ``httpserver``), where the incumbent's fixture pays
    none (issue 27).
    """
    item = state_of(active_config()).item
    if item is None:
        raise HTTPDoubleUsageError(
            "the httpserver fixtures",
            expected="a test that asks for them (an argument, or usefixtures)",
            got="a fixture setup outside any running test",
            remedy="request httpserver from a test or a function-scoped fixture",
        )
    return item


def started_with(name: str, default: Callable[[], Any] | None = None) -> Any:
    """The value of the session fixture ``name`` as the test that starts a server sees it
    (a ``conftest.py`` override wins, as for an argument), asked for once, at the start.

    The session fixtures of the servers ask for these when they start instead of taking
    them as arguments: pytest walks a fixture's arguments again at every test that uses it,
    a cached session fixture included, and each one walked cost a test's setup about 7 us
    (issue 27). ``default`` gives the value for a kind of test without a ``FixtureRequest``
    of its own (a plugin's items): the plugin's fixture's value.
    """
    item = current_item()
    request = getattr(item, "_request", None)  # the test's own FixtureRequest (pytest 8+)
    if request is not None:
        value = _asked(request, name)
        fixturedef = getattr(request, "_fixture_defs", {}).get(name)
        if fixturedef is not None and fixturedef.params:
            # The test asked for it too, so pytest parametrized it: the server started with
            # the first parameter would serve them all.
            raise _parametrized(name, f"params={list(fixturedef.params)!r}")
        if fixturedef is not None and fixturedef.scope != "session":
            # pytest would refuse it as an argument of a session fixture (ScopeMismatch);
            # asked for once, it would be kept after its own teardown.
            raise HTTPDoubleUsageError(
                f"the {name} fixture",
                expected="a session-scoped fixture: the server it sets up lives for the session",
                got=f"a {fixturedef.scope}-scoped fixture ({fixturedef.baseid or 'a plugin'})",
                remedy='make it scope="session", as pytest-httpserver requires too',
            )
        return value
    if default is not None:
        return default()
    raise HTTPDoubleUsageError(
        f"the {name} fixture",
        expected="a test item with fixtures (a test function or a doctest)",
        got=f"{type(item).__name__} {item.nodeid}",
        remedy="use the httpserver fixture from a test function",
    )


def _asked(request: Any, name: str) -> Any:
    """``request.getfixturevalue(name)``; pytest's refusal of a parametrized fixture asked
    for this way becomes a usage error that says how to have it as an argument again."""
    __tracebackhide__ = True
    try:
        return request.getfixturevalue(name)
    except pytest.fail.Exception as exc:
        text = str(exc).strip()
        raise _parametrized(name, text.splitlines()[0] if text else type(exc).__name__) from exc


def _parametrized(name: str, got: str) -> HTTPDoubleUsageError:
    return HTTPDoubleUsageError(
        f"the {name} fixture",
        expected="a fixture without params= (the server fixtures ask for it when they need"
        " it, not as an argument, so pytest cannot parametrize tests by it)",
        got=got,
        remedy=f"set {FIXTURE_ARGUMENTS_INI} = true in your pytest configuration: the"
        " fixtures then take it as an argument, as pytest-httpserver's do, and pytest"
        " parametrizes the tests by it",
    )


def server_for(item: pytest.Item, name: str) -> HTTPServer:
    """The value of the server fixture ``name`` (``make_httpserver`` or one of its twins)
    for ``item``: the one visible to it, an override in a ``conftest.py`` or a module
    included, as if it were an argument.

    The per-test fixtures do not take it as an argument: pytest would walk it again at every
    test, a cached session fixture included, at about 7 us a test (issue 27). The first
    test of each module or class asks pytest for it (which sets it up, or finds it set up);
    the next ones take the value pytest cached, while there is one: a fixture torn down
    meanwhile (a module-scoped override at its module's end), a function-scoped or a
    parametrized one, or a failed setup is asked of pytest again, every time.
    """
    state = state_of(item.config)
    callspec = getattr(item, "callspec", None)
    parametrized = callspec is not None and name in callspec.params  # indirectly, here
    key = (id(item.parent), name)  # nodes live as long as the session: ids stay theirs
    known = None if parametrized else state.server_defs.get(key)
    if known is not None:
        remembered, cache_key = known
        cached = remembered.cached_result
        # Only the value pytest cached for an unparametrized request (another test's
        # indirect parameter changes the key: pytest would set it up again).
        if cached is not None and cached[2] is None and cached[1] == cache_key:
            return cached[0]  # type: ignore[no-any-return]
    request = item._request  # type: ignore[attr-defined]  # the test's own (pytest 8+)
    server: HTTPServer = _asked(request, name)
    fixturedef: Any = getattr(request, "_fixture_defs", {}).get(name)
    cached = getattr(fixturedef, "cached_result", None)
    if (
        cached is not None
        and not parametrized
        and fixturedef.scope != "function"
        and not fixturedef.params
    ):
        state.server_defs[key] = (fixturedef, cached[1])
    return server
