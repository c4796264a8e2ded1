"""Per-client sliding-window rate limit with bounded memory."""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
MAX_CLIENTS = 10_000


class RateLimiter:
    """At most ``limit`` hits per client in any 60 s; the oldest clients are forgotten first."""

    def __init__(self, limit: int, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.clock = clock
        self.hits: OrderedDict[str, deque[float]] = OrderedDict()

    def check(self, client: str) -> float | None:
        """None when allowed (and counted); else seconds until the next hit is allowed."""
        now = self.clock()
        window = self.hits.pop(client, None) or deque()
        while window and window[0] <= now - WINDOW_SECONDS:
            window.popleft()
        self.hits[client] = window
        while len(self.hits) > MAX_CLIENTS:
            self.hits.popitem(last=False)
        if len(window) >= self.limit:
            return max(1.0, math.ceil(window[0] + WINDOW_SECONDS - now))
        window.append(now)
        return None
