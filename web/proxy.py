"""The real client behind trusted reverse proxies: ``Forwarded`` (RFC 7239) and
``X-Forwarded-For`` are believed only from a peer in ``[web].trusted_proxies``, read right
to left, skipping the trusted hops; the first untrusted address is the client."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

FOR_PARAMETER = re.compile(r'(?:^|;)\s*for\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)', re.IGNORECASE)
MAX_HOPS = 32


def networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``["10.0.0.0/8", "127.0.0.1", "::1"]`` as networks; raises ``ValueError`` on a typo."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def address(text: str) -> Address | None:
    """An IP address from a header node or a peer (``"[2001:db8::1]:443"``,
    ``192.0.2.1:80``, ``192.0.2.1``); None for ``unknown``, obfuscated names and junk."""
    node = text.strip().strip('"').replace('\\"', '"')
    if node.startswith("["):
        node = node[1 : node.find("]")] if "]" in node else ""
    elif node.count(":") == 1:
        node = node.partition(":")[0]
    try:
        return ipaddress.ip_address(node.partition("%")[0])
    except ValueError:
        return None


def forwarded_for(header: str) -> list[str]:
    """The ``for=`` nodes of a ``Forwarded`` header, in order (one per element)."""
    nodes = []
    for element in header.split(","):
        found = FOR_PARAMETER.search(element)
        nodes.append(found.group(1) if found else "")
    return nodes


def client_of(peer: str, headers: Sequence[tuple[bytes, bytes]], trusted: Sequence[Network]) -> str:
    """The client's address: the peer itself unless it is a trusted proxy; then the
    rightmost forwarded hop that is not trusted (``Forwarded`` wins over
    ``X-Forwarded-For``). A hop that is not an address stops the walk there: the last
    trusted hop is the best that is known."""
    hop = address(peer)
    if hop is None or not _trusted(hop, trusted):
        return peer
    chain = _chain(headers)
    current = str(hop)
    for node in reversed(chain[-MAX_HOPS:]):
        found = address(node)
        if found is None:
            return current
        current = str(found)
        if not _trusted(found, trusted):
            return current
    return current


def _trusted(hop: Address, trusted: Sequence[Network]) -> bool:
    mapped = hop.ipv4_mapped if isinstance(hop, ipaddress.IPv6Address) else None
    return any((mapped or hop) in network for network in trusted)


def _chain(headers: Sequence[tuple[bytes, bytes]]) -> list[str]:
    forwarded = [v.decode("latin-1") for k, v in headers if k.lower() == b"forwarded"]
    if forwarded:
        return [node for value in forwarded for node in forwarded_for(value)]
    xff = [v.decode("latin-1") for k, v in headers if k.lower() == b"x-forwarded-for"]
    return [node.strip() for value in xff for node in value.split(",")]


class ClientAddress:
    """Pure ASGI middleware: puts the real client in ``scope["client"]`` so the rate
    limiter, sessions and logs see it; the forwarded headers are ignored unless the peer is
    a trusted proxy."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if self.trusted and scope["type"] == "http" and peer:
            client = client_of(str(peer[0]), scope.get("headers", []), self.trusted)
            if client != peer[0]:
                scope = {**scope, "client": (client, 0)}
        await self.app(scope, receive, send)
