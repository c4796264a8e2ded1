"""A TCP proxy on loopback that counts the bytes both ways and keeps the client's command
lines, so a benchmark measures an IMAP client at the wire rather than trusting its logs."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from tests.netutil import free_port

LINE_KEPT = 120  # bytes of each command line that are kept (a literal's bytes are not lines)


@dataclass(frozen=True, slots=True)
class Command:
    """One line the client sent: when, and its first ``LINE_KEPT`` bytes."""

    at: float
    line: bytes

    @property
    def verb(self) -> str:
        """The IMAP command word after the tag (``EXAMINE``, ``IDLE``), or a bare ``DONE``."""
        words = self.line.split(maxsplit=2)
        word = words[1] if len(words) > 1 else words[0] if words else b""
        return word.decode("ascii", "replace").upper()


@dataclass
class Traffic:
    """Everything that went through the proxy, in order."""

    up: int = 0  # client -> server bytes
    down: int = 0  # server -> client bytes
    commands: list[Command] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> tuple[int, int, int]:
        """Bytes up, bytes down and commands so far."""
        with self.lock:
            return self.up, self.down, len(self.commands)


class CountingProxy:
    """Listens on a free loopback port and relays each connection to ``upstream``."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.traffic = Traffic()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._closing = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upward: bool) -> None:
        pending = b""
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
                traffic = self.traffic
                with traffic.lock:
                    if not upward:
                        traffic.down += len(data)
                        continue
                    traffic.up += len(data)
                    pending += data
                    *lines, pending = pending.split(b"\r\n")
                    now = time.monotonic()
                    traffic.commands += (Command(now, line[:LINE_KEPT]) for line in lines)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._closing.set()
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()


@contextlib.contextmanager
def counting_proxy(upstream: tuple[str, int]) -> Iterator[CountingProxy]:
    """A ``CountingProxy`` for the duration of the ``with`` block."""
    proxy = CountingProxy(upstream)
    try:
        yield proxy
    finally:
        proxy.close()
