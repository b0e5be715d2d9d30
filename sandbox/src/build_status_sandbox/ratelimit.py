"""A token-bucket rate limit per credential, like Bitbucket Data Center's per-user limit."""

from __future__ import annotations

import math
import threading
import time
from typing import Callable

#: Bitbucket Data Center's default bucket size (its default refill rate is 5 tokens/s).
DEFAULT_BURST = 60


class TokenBucket:
    """``burst`` tokens at most, refilled at ``rate`` tokens per second.  Not thread-safe by itself."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = now

    def take(self, now: float) -> float:
        """Take a token: 0.0 if one was available, else the seconds until one will be."""
        if now > self.updated:
            self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class RateLimiter:
    """One :class:`TokenBucket` per credential, all behind one lock."""

    def __init__(self, rate: float, burst: int | None = None, clock: Callable[[], float] = time.monotonic):
        rate, burst = check_rate_limit(rate, burst)
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}

    def acquire(self, credential: str) -> float:
        """0.0 if the request may go ahead, else the seconds until the credential has a token."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(credential)
            if bucket is None:
                bucket = self._buckets[credential] = TokenBucket(self.rate, self.burst, now)
            return bucket.take(now)

    @staticmethod
    def retry_after(wait: float) -> str:
        """The ``Retry-After`` value for a wait: whole seconds, at least 1."""
        return str(max(1, math.ceil(wait)))

    def to_json(self) -> dict:
        return {"rate": self.rate, "burst": self.burst}


def check_rate_limit(rate: object, burst: object) -> tuple[float, int]:
    """Validate and default a rate/burst pair; ``ValueError`` if they make no sense."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate <= 0:
        raise ValueError(f"rate must be a positive number of tokens per second, not {rate!r}")
    if burst is None:
        burst = DEFAULT_BURST
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise ValueError(f"burst must be a whole number of at least 1, not {burst!r}")
    return float(rate), burst
