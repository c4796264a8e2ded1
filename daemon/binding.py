"""Binding the daemon's listening sockets, with failures that name the config key."""

from __future__ import annotations

import socket


class ListenError(Exception):
    """``listen`` of config key ``key`` could not be bound (port in use, no such address)."""

    def __init__(self, key: str, listen: str, cause: OSError) -> None:
        reason = (cause.strerror or str(cause)).lower()
        super().__init__(f"cannot listen on {listen} ({key}): {reason}")


def bound_socket(key: str, listen: str) -> socket.socket:
    """A TCP socket bound to ``listen`` (``host:port``), or ``ListenError`` naming ``key``."""
    host, _, port = listen.rpartition(":")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), int(port), type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ListenError(key, listen, exc) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ListenError(key, listen, exc) from None
    return sock
