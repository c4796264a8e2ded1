"""Loopback helpers shared by fixtures, tests and benchmarks."""

from __future__ import annotations

import socket
import time


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20) -> None:
    """Block until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


class SmtpSession:
    """A raw SMTP client socket from a chosen loopback address (Linux routes all of
    127.0.0.0/8 to lo), reading one reply line at a time."""

    def __init__(self, port: int, source: str = "127.0.0.1") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), 5, source_address=(source, 0))
        self.replies = self.sock.makefile("rb")

    def reply(self) -> bytes:
        """The next reply line, or b"" once the server closed the connection."""
        return self.replies.readline()

    def send(self, line: str) -> bytes:
        self.sock.sendall(line.encode() + b"\r\n")
        return self.reply()

    def close(self) -> None:
        self.replies.close()
        self.sock.close()
