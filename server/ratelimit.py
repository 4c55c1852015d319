"""Token buckets for intake abuse limits: per client address and per connection."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """`rate_per_minute` tokens refill continuously up to `burst`. `take()` returns 0 when allowed,
    else the whole seconds to wait, which the error message tells the client."""

    def __init__(self, rate_per_minute: float, burst: int, *, enabled: bool = True, max_keys: int = 200_000) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = float(burst)
        self.enabled = enabled
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, now: float | None = None) -> int:
        if not self.enabled:
            return 0
        now = time.monotonic() if now is None else now
        bucket = self._buckets.pop(key, None)  # re-inserted below: the dict stays in use order
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                # Forget the least recently used key: O(1), where scanning every bucket on each
                # new address let a flood of addresses stall the event loop.
                del self._buckets[next(iter(self._buckets))]
            bucket = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
        self._buckets[key] = bucket
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0
        return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))

    def forget(self, key: str) -> None:
        self._buckets.pop(key, None)
