"""Who the SMTP listener lets in and for how long, and which peers it trusts as relays.

Past ``max_sessions`` open sessions, or ``max_sessions_per_peer`` from one address (an IPv6
peer counts by its /64; trusted relays have no per-peer limit), a new connection is
answered 421 and closed at once; a session that sends nothing for ``timeout_seconds``, or
has lasted ``max_session_seconds``, is answered 421 and closed. So a flood of half-open
sessions can neither exhaust the process's file descriptors nor hold the listener.
"""

from __future__ import annotations

import ipaddress
import logging
from collections import Counter
from dataclasses import dataclass

log = logging.getLogger(__name__)

TOO_MANY_SESSIONS = "421 4.7.0 ticketd Too many connections; try again later"
TOO_MANY_FROM_PEER = "421 4.7.0 ticketd Too many connections from your address; try again later"
IDLE_TIMEOUT = "421 4.4.2 ticketd Idle too long; closing connection"
SESSION_TOO_LONG = "421 4.4.2 ticketd Session lasted too long; closing connection"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
PeerKey = ipaddress.IPv4Address | ipaddress.IPv6Network | str


@dataclass(frozen=True)
class ListenerSettings:
    """What the listener accepts: message size, open sessions (in total and per peer),
    how long a session may stay silent or last, and the peers trusted as relays."""

    max_message_size: int = 25 * 1024 * 1024
    max_sessions: int = 100
    max_sessions_per_peer: int = 20
    timeout_seconds: float = 60.0
    max_session_seconds: float = 600.0
    trusted_relays: tuple[Network, ...] = ()

    def trusts(self, peer: object) -> bool:
        """True when ``peer`` (a socket's peername) is one of the trusted relays."""
        address = peer_address(peer)
        return address is not None and any(address in net for net in self.trusted_relays)


def peer_address(peer: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address of a peername (an IPv4-mapped IPv6 address as IPv4); None if none."""
    if not isinstance(peer, tuple) or not peer or not isinstance(peer[0], str):
        return None
    try:
        address = ipaddress.ip_address(peer[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def peer_key(peer: object) -> PeerKey:
    """What the per-peer limit counts: the IPv4 address, or the IPv6 peer's /64."""
    address = peer_address(peer)
    if isinstance(address, ipaddress.IPv6Address):
        return ipaddress.IPv6Network((address, 64), strict=False)
    return address if address is not None else repr(peer)


class Sessions:
    """The open sessions of one server, in total and per peer. Only that server's event
    loop touches it."""

    def __init__(self, settings: ListenerSettings) -> None:
        self.settings = settings
        self.total = 0
        self.by_peer: Counter[PeerKey] = Counter()
        self.refusing = False

    def refusal(self, key: PeerKey, trusted: bool) -> str | None:
        """The 421 reply for one more session from ``key``, or None to admit it."""
        if self.total >= self.settings.max_sessions:
            return TOO_MANY_SESSIONS
        if not trusted and self.by_peer[key] >= self.settings.max_sessions_per_peer:
            return TOO_MANY_FROM_PEER
        return None

    def refuse(self, peer: object, reply: str) -> None:
        """Log a refusal: a warning when refusing starts, then quietly."""
        level = logging.INFO if self.refusing else logging.WARNING
        self.refusing = True
        log.log(level, "SMTP session from %s refused (%d open): %s", peer, self.total, reply)

    def open(self, key: PeerKey) -> None:
        self.total += 1
        self.by_peer[key] += 1

    def close(self, key: PeerKey) -> None:
        self.total -= 1
        self.by_peer[key] -= 1
        if self.by_peer[key] <= 0:
            del self.by_peer[key]
        self.refusing = False
