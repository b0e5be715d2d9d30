"""Rate limits per credential: a token bucket, like Bitbucket Data Center's per-user limit, and a count of
requests in a rolling window, like Bitbucket Cloud's per-user hourly limit."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
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


class WindowLimiter:
    """At most ``limit`` requests per credential in any ``window`` seconds (a rolling window); refused
    requests are not counted.  Thread-safe."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a whole number of at least 1, not {limit!r}")
        if isinstance(window, bool) or not isinstance(window, (int, float)) or not 0 < window < math.inf:
            raise ValueError(f"window must be a positive number of seconds, not {window!r}")
        self.limit = limit
        self.window = float(window)
        self._clock = clock
        self._lock = threading.Lock()
        self._times: dict[str, deque[float]] = {}

    def acquire(self, credential: str) -> float:
        """0.0 if the request may go ahead (it is counted), else the seconds until the credential's oldest
        counted request leaves the window."""
        with self._lock:
            now = self._clock()
            times = self._times.setdefault(credential, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) < self.limit:
                times.append(now)
                return 0.0
            return times[0] + self.window - now

    def clear(self) -> None:
        with self._lock:
            self._times.clear()


def check_rate_limit(rate: object, burst: object) -> tuple[float, int]:
    """Validate and default a rate/burst pair; ``ValueError`` if they make no sense."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate <= 0:
        raise ValueError(f"rate must be a positive number of tokens per second, not {rate!r}")
    if burst is None:
        burst = DEFAULT_BURST
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise ValueError(f"burst must be a whole number of at least 1, not {burst!r}")
    return float(rate), burst
