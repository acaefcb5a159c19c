"""A small in-process rate limiter for public forms: at most N posts per key (the client's address) per window.

In memory, per worker process: a limit of N per worker is at most N x workers per address. That suits its one
job (keeping a public comment form from being flooded); it is not an API quota.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimiter:
    def __init__(self, limit: int, window_seconds: float, max_keys: int = 100_000) -> None:
        self.limit, self.window, self.max_keys = limit, window_seconds, max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Count a hit for ``key`` and say whether it is within the limit."""
        at = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self.max_keys:
                    self._forget_idle(at)
                hits = self._hits[key] = deque()
            while hits and hits[0] <= at - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(at)
            return True

    def _forget_idle(self, at: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= at - self.window]:
            del self._hits[key]
        if len(self._hits) >= self.max_keys:  # still full of active keys: drop the oldest third
            for key in list(self._hits)[: self.max_keys // 3]:
                del self._hits[key]
