"""Per-client sliding-window rate limit with bounded memory."""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
MAX_CLIENTS = 10_000


class RateLimiter:
    """At most ``limit`` hits per client in any ``window`` seconds (60 unless told); the
    oldest clients are forgotten first."""

    def __init__(
        self, limit: int, clock: Callable[[], float], window: float = WINDOW_SECONDS
    ) -> None:
        self.limit = limit
        self.clock = clock
        self.window = window
        self.hits: OrderedDict[str, deque[float]] = OrderedDict()

    def check(self, client: str) -> float | None:
        """None when allowed (and counted); else seconds until the next hit is allowed."""
        now = self.clock()
        window = self.hits.pop(client, None) or deque()
        while window and window[0] <= now - self.window:
            window.popleft()
        self.hits[client] = window
        while len(self.hits) > MAX_CLIENTS:
            self.hits.popitem(last=False)
        if len(window) >= self.limit:
            return max(1.0, math.ceil(window[0] + self.window - now))
        window.append(now)
        return None
