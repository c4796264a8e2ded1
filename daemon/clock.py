"""The real clock and randomness handed to the pure core."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


class SystemClock:
    """Wall-clock time, timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SystemRng:
    """Bytes from the operating system's CSPRNG."""

    def token_bytes(self, n: int) -> bytes:
        return secrets.token_bytes(n)
