"""The port coordinator: a thread of the controller that hands out free ports.

It speaks portpicker's portserver protocol on a Linux abstract unix socket, so
``portpicker.pick_unused_port()`` in any process given its address (as
``PORTSERVER_ADDRESS``) asks it for a port: ours in each worker and the user's own
calls alike. A client connects, sends its pid in ASCII decimal and a newline, and
reads one answer: a port in ASCII decimal and a newline, or nothing when no port
was found (portpicker then picks on its own).

It replaces running portpicker's ``portserver.py`` as a child process (issue 15):
binding a socket and starting a thread costs well under a millisecond, and the
socket listens before any worker starts, so no worker ever waits for it.

A port is handed out at most once while the process it went to lives: a later
request gets another port unless the first holder has exited.
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import sys
import threading

_REQUEST_LIMIT = 32  # "4194304\n" and some slack: a longer request is not a pid
_PID_MAX = 4194304  # Linux's largest possible pid (PID_MAX_LIMIT)
_CLIENT_TIMEOUT = 2.0
_PICK_ATTEMPTS = 50
_JOIN_TIMEOUT = 5.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def _bound_port(kind: int, port: int) -> int | None:
    """Bind a wildcard socket of ``kind`` on ``port`` (0: any); return its port or ``None``.

    An IPv6 socket with ``IPV6_V6ONLY`` off takes the port on IPv4 and IPv6 together;
    without IPv6, an IPv4 socket. No ``SO_REUSEADDR``: a port some socket still holds in
    ``TIME_WAIT`` counts as taken, because a plain bind on it would fail.
    """
    for family in (socket.AF_INET6, socket.AF_INET):
        try:
            sock = socket.socket(family, kind)
        except OSError:
            continue
        with sock:
            try:
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                sock.bind(("", port))
            except OSError as exc:
                if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                    continue  # no usable IPv6: try IPv4
                return None
            bound: int = sock.getsockname()[1]
            return bound
    return None


class PortCoordinator:
    """Hands out ports over portpicker's portserver protocol, from a thread of this process.

    :ivar address: the ``@``-prefixed abstract socket address, once started.
    :ivar problem: why it did not start, if it did not.
    :ivar handed_out: every answer given, as ``(pid, port)``, in order.
    """

    def __init__(self) -> None:
        self.address: str | None = None
        self.problem = ""
        self.handed_out: list[tuple[int, int]] = []
        self._holder: dict[int, int] = {}  # port -> pid it went to
        self._listener: socket.socket | None = None
        self._wake_read: socket.socket | None = None
        self._wake_write: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()

    def start(self) -> str | None:
        """Listen and start serving; return the address, or ``None`` (see :attr:`problem`).

        The socket listens when this returns: a client may connect at once.
        """
        if not sys.platform.startswith("linux"):
            self.problem = "no port coordinator: abstract socket addresses need Linux"
            return None
        address = f"@httpdouble-{os.getpid()}-{os.urandom(4).hex()}"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind("\0" + address[1:])
            listener.listen(64)
        except OSError as exc:
            listener.close()
            self.problem = f"no port coordinator: cannot listen on {address}: {exc}"
            return None
        self._listener = listener
        self._wake_read, self._wake_write = socket.socketpair()
        self._thread = threading.Thread(
            target=self._serve, name="httpdouble-port-coordinator", daemon=True
        )
        self._thread.start()
        self.address = address
        return address

    def stop(self) -> None:
        """Stop serving and close the socket; re-raise an error of the serving thread."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        assert self._wake_write is not None
        self._wake_write.send(b"x")
        thread.join(_JOIN_TIMEOUT)
        for sock in (self._listener, self._wake_read, self._wake_write):
            if sock is not None:
                sock.close()
        self._listener = self._wake_read = self._wake_write = None
        error, self._error = self._error, None
        if error is not None:
            raise error

    # -- the serving thread

    def _serve(self) -> None:
        assert self._listener is not None
        assert self._wake_read is not None
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self._listener, selectors.EVENT_READ)
                selector.register(self._wake_read, selectors.EVENT_READ)
                while True:
                    ready = {key.fileobj for key, _ in selector.select()}
                    if self._wake_read in ready:
                        return
                    try:
                        client, _ = self._listener.accept()
                    except OSError:
                        continue  # a client that gave up before we accepted it
                    with client:
                        self._answer(client)
        except BaseException as exc:  # re-raised by stop(), never lost
            self._error = exc

    def _answer(self, client: socket.socket) -> None:
        client.settimeout(_CLIENT_TIMEOUT)
        request = b""
        try:
            while b"\n" not in request and len(request) < _REQUEST_LIMIT:
                chunk = client.recv(_REQUEST_LIMIT)
                if not chunk:
                    break
                request += chunk
        except OSError:
            return  # a client that went away or sent nothing in time gets no port
        line = request.split(b"\n", 1)[0].strip()
        if not line.isdigit() or not 0 < int(line) <= _PID_MAX:
            return  # not a pid: the empty answer
        port = self.pick(int(line))
        if port is None:
            return
        try:
            client.sendall(b"%d\n" % port)
        except OSError:
            return  # the client left; the port stays with its pid until that pid exits

    def pick(self, pid: int) -> int | None:
        """Return a port free on TCP and UDP, IPv4 and IPv6, now held by ``pid``; or ``None``.

        The same call serves the protocol; it is public for the tests and the report.
        """
        with self._lock:
            for _ in range(_PICK_ATTEMPTS):
                port = _bound_port(socket.SOCK_STREAM, 0)
                if port is None:
                    return None
                holder = self._holder.get(port)
                if holder is not None and _pid_alive(holder):
                    continue
                if _bound_port(socket.SOCK_DGRAM, port) is None:
                    continue
                self._holder[port] = pid
                self.handed_out.append((pid, port))
                return port
        return None
