"""The I/O edge of the gdb server: listeners, connections, and when to stop.

Each connection has two Python threads: a *reader* that only moves bytes
from the socket into its session's inbox (and says when the peer closed),
and the *session* thread that parses, answers and writes
(:class:`~.session.GdbSession`).  Engine callbacks on the tracer thread
only ever put a wake-up into that same inbox.  So every hand-off is one
``queue.Queue``: no shared buffers, no polling.

Security: TCP listens on loopback unless ``allow_remote`` (the protocol
has no authentication and can write any memory of the program); a Unix
socket is created mode 0600.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .session import CLOSED, Attacher, GdbSession, Launcher

if TYPE_CHECKING:
    from pydbg_utrace import Process

READ_SIZE = 65536


class RemoteRefused(ValueError):
    """A listener on a non-loopback address without ``allow_remote``."""


def parse_listen(address: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` or ``PORT`` -> (host, port); the host defaults to 127.0.0.1."""
    host, sep, port = address.rpartition(":")
    if not sep:
        host, port = "", address
    host = host.strip("[]") or "127.0.0.1"
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"bad --listen address {address!r}: want HOST:PORT") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"bad port {number} in --listen {address!r}")
    return host, number


def check_loopback(host: str, allow_remote: bool) -> None:
    """Refuse a non-loopback address unless asked; warn when asked."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ValueError(f"cannot resolve {host!r}: {exc.strerror}") from None
    addresses = {info[4][0] for info in infos}
    remote = sorted(a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_loopback)
    if not remote:
        return
    if not allow_remote:
        raise RemoteRefused(
            f"refusing to listen on {host} ({', '.join(remote)}): not a loopback address; "
            "anyone who can connect can run code in the program (use --allow-remote)")
    print(f"pydbg-utrace: warning: listening on {host} ({', '.join(remote)}): the gdb "
          "protocol has no authentication; anyone who can connect controls the program",
          file=sys.stderr, flush=True)


class GdbServer:
    """Serves any number of gdb connections on one process, each its own engine."""

    def __init__(self, process: Process | None, *, call: Callable[..., Any], launched: bool,
                 hosted_engines: int = 0,
                 log: Callable[[str], None] | None = None, launcher: Launcher | None = None,
                 attacher: Attacher | None = None, persistent: bool = False):
        self.process = process  # None: --multi, each gdb runs or attaches its own
        self.call = call  # Tracer.call (the sessions' engines read the core's tables so)
        self.launcher = launcher  # extended-remote's `run` and `attach` (see GdbSession)
        self.attacher = attacher
        # --multi without --once: up until killed, for one connection after another.
        self.persistent = persistent
        self.launched = launched
        self.hosted_engines = hosted_engines  # --trace / --engine beside gdb
        self.log = log or (lambda text: print(text, file=sys.stderr, flush=True))
        self.cond = threading.Condition()
        self.sessions: set[GdbSession] = set()
        self.served = 0
        self.gone = False  # the process has ended
        self.started = not launched  # a launched program waits for its first gdb
        self.listeners: list[socket.socket] = []
        self.unix_path: str | None = None
        self._count = 0
        if process is not None:
            threading.Thread(target=self._watch_process, name="gdb: process watch",
                             daemon=True).start()

    # -- listeners ------------------------------------------------------------------------
    def listen_tcp(self, host: str, port: int, allow_remote: bool = False,
                   checked: bool = False) -> int:
        """Listen on TCP; returns the port (useful with port 0).

        ``checked``: the caller ran :func:`check_loopback` already (before launching).
        """
        if not checked:
            check_loopback(host, allow_remote)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(8)
        port = sock.getsockname()[1]
        self._accept_on(sock)
        self.log(f"Listening on port {port}")
        return port

    def listen_unix(self, path: str) -> None:
        """Listen on a Unix socket created mode 0600 (only our user may connect)."""
        if os.path.exists(path):
            raise FileExistsError(17, f"{path} exists already; remove it or pick another path")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # created 0600 from the start: no window where others may connect
        try:
            sock.bind(path)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        sock.listen(8)
        self.unix_path = path
        self._accept_on(sock)
        self.log(f"Listening on {path}")

    def _accept_on(self, sock: socket.socket) -> None:
        self.listeners.append(sock)
        threading.Thread(target=self._accept_loop, args=(sock,), name="gdb: accept",
                         daemon=True).start()

    def _accept_loop(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, peer = sock.accept()
            except OSError:
                return  # closed: the server is finishing
            if sock.family != socket.AF_UNIX:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.log(f"Remote debugging from host {peer[0]}, port {peer[1]}")
            self.serve(conn.sendall, lambda c=conn: c.recv(READ_SIZE),
                       lambda c=conn: _close_socket(c))

    # -- connections ----------------------------------------------------------------------
    def serve_stdio(self) -> None:
        """One connection on our stdin/stdout (``target remote | pydbg-utrace gdbserver -``)."""
        self.serve(lambda data: _write_all(1, data), lambda: os.read(0, READ_SIZE),
                   lambda: None)

    def serve(self, send: Callable[[bytes], None], recv: Callable[[], bytes],
              close: Callable[[], None]) -> GdbSession | None:
        """Start a session on a connection; None if the process is gone already."""
        with self.cond:
            if self.gone:
                close()
                return None
            self._count += 1
            session = GdbSession(self.process, send, call=self.call, launched=self.launched,
                                 label=f"gdb#{self._count}",
                                 others=lambda: self._others_than(session),
                                 launcher=self.launcher, attacher=self.attacher)
            self.sessions.add(session)
        try:
            session.start()
        except Exception:
            with self.cond:
                self.sessions.discard(session)
                self.cond.notify_all()
            close()
            raise
        self._start_program()
        threading.Thread(target=self._read_loop, args=(session, recv),
                         name=f"{session.label} reader", daemon=True).start()
        threading.Thread(target=self._session_loop, args=(session, close),
                         name=f"{session.label} session", daemon=True).start()
        return session

    def _start_program(self) -> None:
        with self.cond:
            start, self.started = not self.started, True
        if start and self.process is not None:
            self.process.start()  # its first gdb holds it now

    def _others_than(self, session: GdbSession) -> int:
        with self.cond:
            return len(self.sessions - {session})

    @staticmethod
    def _read_loop(session: GdbSession, recv: Callable[[], bytes]) -> None:
        while True:
            try:
                data = recv()
            except OSError:
                data = b""
            if not data:
                session.inbox.put(CLOSED)
                return
            session.inbox.put(data)

    def _session_loop(self, session: GdbSession, close: Callable[[], None]) -> None:
        try:
            session.run()
        finally:
            try:
                close()
            except OSError:
                pass
            with self.cond:
                self.sessions.discard(session)
                self.served += 1
                self.cond.notify_all()

    # -- the end -------------------------------------------------------------------------
    def _watch_process(self) -> None:
        try:
            self.process.wait()
        except RuntimeError:
            # The tracer closed first (we are on our way out, the program let go
            # untraced): nothing left to watch.  Not a traceback on stderr, which
            # is gdb's console with `target remote |`.
            pass
        with self.cond:
            self.gone = True
            self.cond.notify_all()

    def finished(self) -> bool:
        """Nothing left to serve: the process ended, or its last gdb left and no engine stays
        (never for a persistent --multi server: gdbs come and go)."""
        with self.cond:
            if self.sessions or self.persistent:
                return False
            return self.gone or (self.served > 0 and not self.hosted_engines)

    def wait(self) -> None:
        """Block until :meth:`finished` (a KeyboardInterrupt gets through)."""
        with self.cond:
            while not self.finished():
                self.cond.wait()

    def close(self) -> None:
        for sock in self.listeners:
            try:
                sock.close()
            except OSError:
                pass
        self.listeners.clear()
        if self.unix_path is not None:
            try:
                os.unlink(self.unix_path)
            except OSError:
                pass
            self.unix_path = None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _close_socket(sock: socket.socket) -> None:
    # shutdown first: close() alone does not wake the reader blocked in recv().
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
