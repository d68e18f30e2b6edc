"""GitHub's primary rate limit: 5000 requests an hour per user, 60 per address without auth."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Quota:
    limit: int
    used: int
    reset: int  # epoch seconds

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset),
            "x-ratelimit-used": str(min(self.used, self.limit)),
            "x-ratelimit-resource": "core",
        }


class RateLimits:
    """Fixed one-hour windows that start with a key's first request, as GitHub's do."""

    def __init__(self, window: int = 3600) -> None:
        self.window = window
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (reset, used)

    def hit(self, key: str, limit: int) -> Quota:
        now = int(time.time())
        reset, used = self._windows.get(key, (0, 0))
        if now >= reset:
            reset, used = now + self.window, 0
        used += 1
        self._windows[key] = (reset, used)
        return Quota(limit, used, reset)

    def peek(self, key: str, limit: int) -> Quota:
        """The key's quota without spending a request."""
        reset, used = self._windows.get(key, (int(time.time()) + self.window, 0))
        return Quota(limit, used, reset)

    def clear(self) -> None:
        self._windows.clear()
