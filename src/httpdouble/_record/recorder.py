"""One test's recording: its mode, its cassette, what it replays and what it records.

:class:`Recording` is what the pytest glue drives: :meth:`~Recording.start` when the
test's server is handed out (replay the cassette, install the forwarding fallback when the
mode records), :meth:`~Recording.finish` at teardown (stop forwarding, write the cassette).
It works on any :class:`~httpdouble.HTTPServer`, in pytest or not.
"""

from __future__ import annotations

import enum
import ssl
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from .._errors import HTTPDoubleUsageError
from . import replay, scrub
from .cassette import Cassette, Exchange, encode_body, load, media_type, write
from .forward import (
    DEFAULT_TIMEOUT,
    HOP_BY_HOP,
    NoUpstream,
    Upstream,
    forward,
    response_of,
    target,
    trust,
)

if TYPE_CHECKING:
    from .._app.expectations import RequestHandler
    from .._server.server import HTTPServer


class RecordMode(enum.Enum):
    """When a test records, with pytest-recording's names and meaning."""

    NONE = "none"  # replay only: a request not in the cassette is "no handler matched"
    ONCE = "once"  # record when the cassette is missing, else replay only
    NEW_EPISODES = "new_episodes"  # replay what is there, record the rest
    ALL = "all"  # record everything anew


MODES_TEXT = "none, once, new_episodes or all"


def record_mode(value: object, where: str) -> RecordMode:
    """Return the mode named ``value``.

    :raises HTTPDoubleUsageError: naming ``where`` the bad value came from.
    """
    try:
        return RecordMode(str(value).strip().lower())
    except ValueError:
        raise HTTPDoubleUsageError(
            where,
            expected=MODES_TEXT,
            got=value,
            remedy="none replays only (for CI); once records a missing cassette;"
            " new_episodes records what the cassette lacks; all records again",
        ) from None


class Recording:
    """Replay and record one test's traffic through ``server``.

    :param cassette_path: the test's cassette file (it may not exist yet).
    :param mode: see :class:`RecordMode`.
    :param upstream: where a request addressed to the server itself goes (a base URL).
    :param upstreams: host (or ``host:port``) to upstream, for intercepted requests.
    """

    def __init__(
        self,
        cassette_path: Path,
        mode: RecordMode = RecordMode.NONE,
        *,
        upstream: Upstream | None = None,
        upstreams: dict[str, Upstream] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.path = cassette_path
        self.mode = mode
        self.upstream = upstream
        self.upstreams = upstreams or {}
        self.timeout = timeout
        self.recorded: list[Exchange] = []
        self.replayed: list[Exchange] = []
        self.written: Path | None = None  # the cassette, once finish() wrote it
        self._handlers: list[RequestHandler] = []
        self._lock = threading.Lock()
        self._server: HTTPServer | None = None
        self._own: set[str] = set()
        self._had_cassette = False
        self._default_trust: ssl.SSLContext | None = None
        self._contexts: dict[str | None, ssl.SSLContext] = {}

    @property
    def records(self) -> bool:
        """Whether this test forwards what its cassette lacks (decided at :meth:`start`)."""
        return self.mode in (RecordMode.NEW_EPISODES, RecordMode.ALL) or (
            self.mode is RecordMode.ONCE and not self._had_cassette
        )

    def start(self, server: HTTPServer) -> None:
        """Register the cassette's exchanges and, when recording, forward the rest."""
        self._had_cassette = self.path.is_file()
        if self._had_cassette and self.mode is not RecordMode.ALL:
            self.replayed = load(self.path).exchanges
            self._handlers = replay.register(server, self.replayed)
        self._server = server
        port = server.port
        self._own = {f"{h}:{port}" for h in ("localhost", "127.0.0.1", "[::1]", server.host)}
        if self.records:
            # Made now, before an interception (set up after the server) changes SSL_CERT_FILE.
            self._default_trust = ssl.create_default_context()
            server.application.set_fallback(self._forward)

    def finish(self) -> Path | None:
        """Stop forwarding and write the cassette if this test recorded; return its path.

        In ``new_episodes`` mode the recorded exchanges the test did not use are kept in the
        cassette and not reported as unused (the mode is for growing a cassette).
        """
        server, self._server = self._server, None
        if server is None:
            return None
        if not self.records:
            return None
        server.application.set_fallback(None)
        if self.mode is RecordMode.NEW_EPISODES:
            server.application.discard_unused(self._handlers)
        with self._lock:
            recorded = list(self.recorded)
        if self.mode is RecordMode.NEW_EPISODES:
            if not recorded:
                return None
            recorded = self.replayed + recorded
        elif not recorded and not self._had_cassette:
            return None
        write(Cassette(recorded), self.path)
        self.written = self.path
        return self.path

    def _forward(self, request: Request) -> Response:
        try:
            route = target(request, self._own, self.upstream, self.upstreams)
        except NoUpstream as exc:
            raise HTTPDoubleUsageError(
                "upstream for recording",
                expected="a base URL for requests made to the server itself",
                got=None,
                remedy=str(exc),
            ) from None
        context = self._contexts.get(route.upstream.ca)
        if context is None:
            context = trust(route.upstream, self._default_trust or ssl.create_default_context())
            self._contexts[route.upstream.ca] = context
        status, headers, body = forward(request, route, context, self.timeout)
        with self._lock:
            self.recorded.append(_exchange(request, not route.direct, status, headers, body))
        return response_of(status, headers, body)


def _exchange(
    request: Request,
    intercepted: bool,
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
) -> Exchange:
    """Return the scrubbed cassette entry of one forwarded exchange."""
    request_headers = list(request.headers.items())
    recorded_request: dict[str, object] = {"method": request.method}
    if intercepted:  # a direct request's host is the server's own, another each run
        recorded_request |= {"scheme": request.scheme, "host": request.host}
    recorded_request["path"] = request.path
    if request.query_string:
        recorded_request["query"] = scrub.query(request.query_string.decode("latin-1"))
    recorded_request["headers"] = scrub.headers(request_headers, HOP_BY_HOP)
    recorded_request.update(
        encode_body(request.get_data(), media_type(request_headers), request=True)
    )
    recorded_response: dict[str, object] = {
        "status": status,
        "headers": scrub.headers(headers, HOP_BY_HOP),
    }
    recorded_response.update(encode_body(body, media_type(headers), request=False))
    return Exchange(recorded_request, recorded_response)
