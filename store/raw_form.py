"""The form a raw message is stored in: its SHA-256 (identical copies are kept once) and
its bytes compressed. Pure, so a parse worker packs a message beside its parse, off the
writer's thread."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass

LEVEL = 1
"""zlib's fastest level: raw mail is kept for reprocessing and export, rarely read."""


@dataclass(frozen=True, slots=True)
class PackedRaw:
    """A raw message's digest and its stored bytes."""

    sha256: str
    data: bytes


def digest(data: bytes) -> str:
    """The SHA-256 identical copies are recognised by."""
    return hashlib.sha256(data).hexdigest()


def pack_raw(data: bytes) -> PackedRaw:
    """``data`` as ``store.inbound.store_raw`` keeps it."""
    return PackedRaw(digest(data), zlib.compress(data, LEVEL))


def unpack_raw(stored: bytes) -> bytes:
    """The raw message back from its stored bytes."""
    return zlib.decompress(stored)
