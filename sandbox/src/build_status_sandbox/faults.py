"""Faults injected before an emulation sees a request: queued rules and a rate limit.

A rule answers the next ``times`` matching requests with a chosen status (optionally after a delay),
closes the connection without an answer, or holds it open.  A faulted request never reaches the
emulation, so it changes no stored state.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from .messages import Outcome, Request, Response
from .ratelimit import RateLimiter

if TYPE_CHECKING:
    from .emulation import Emulation

#: Every delay or hang ends after this many seconds at the latest (and when the sandbox stops).
MAX_DELAY = 60.0

#: respond: answer with ``status``; close: drop the connection unanswered; hang: hold it open;
#: truncate: let the emulation carry the request out, then send half of its answer and reset the connection;
#: interim: carry it out and send ``102 Processing`` and ``103 Early Hints`` before the answer;
#: corrupt: carry it out and answer ``status`` with ``Content-Encoding: gzip`` over bytes that are not gzip;
#: bomb: answer ``status`` with a gzip body of 1 GiB of zeros (about 1 MiB on the wire);
#: gzip2: the same bomb gzipped twice (``Content-Encoding: gzip, gzip``; a few KiB on the wire);
#: endless: answer ``status`` with a chunked body that never ends (until the client goes or MAX_DELAY).
ACTIONS = ("respond", "close", "hang", "truncate", "interim", "corrupt", "bomb", "gzip2", "endless")
#: The actions after which the emulation has carried the request out.
CARRIED_OUT = ("truncate", "interim", "corrupt")
RULE_FIELDS = ("status", "times", "path", "method", "emulation", "retry_after", "body", "delay", "action", "headers")

RATE_LIMITED_MESSAGE = "Too many requests. You have been rate limited; retry after the time in Retry-After."
RATE_LIMITED_EXCEPTION = "com.atlassian.bitbucket.throttle.ThrottledException"


@dataclass
class FaultRule:
    """One queued fault.  ``times=None`` means it never gets used up.

    ``path`` is a regular expression searched for in the request path; ``method`` is compared
    case-insensitively; ``emulation`` names the emulation whose routes the path must belong to
    (``"bitbucket"``, ``"bitbucket-cloud"``, ``"coveralls"``, ``"webappio"``...).  ``body`` None means the
    error document of the emulation that owns the path (Bitbucket Data Center's when none does) for
    status >= 400.
    """

    status: int = 503
    times: Optional[int] = 1
    path: Optional[str] = None
    method: Optional[str] = None
    emulation: Optional[str] = None
    retry_after: Optional[str] = None
    body: Any = None
    delay: float = 0.0
    action: str = "respond"
    #: Extra answer headers (``Content-Type: text/html`` for a login page).
    headers: Optional[dict] = None
    hits: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {self.action!r}")
        if isinstance(self.status, bool) or not isinstance(self.status, int) or not 100 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status code (100-599), not {self.status!r}")
        if self.times is not None and (
            isinstance(self.times, bool) or not isinstance(self.times, int) or self.times < 1
        ):
            raise ValueError(f"times must be a whole number of at least 1 (or null for always), not {self.times!r}")
        if self.path is not None:
            if not isinstance(self.path, str):
                raise ValueError(f"path must be a regular expression, not {self.path!r}")
            try:
                self._path_re = re.compile(self.path)
            except re.error as exc:
                raise ValueError(f"path is not a valid regular expression: {exc}") from None
        else:
            self._path_re = None
        if self.method is not None:
            if not isinstance(self.method, str):
                raise ValueError(f"method must be a string, not {self.method!r}")
            self.method = self.method.upper()
        if self.emulation is not None and (not isinstance(self.emulation, str) or not self.emulation):
            raise ValueError(f"emulation must be the name of an emulation, not {self.emulation!r}")
        if self.retry_after is not None:
            if isinstance(self.retry_after, bool) or not isinstance(self.retry_after, (str, int)):
                raise ValueError(f"retry_after must be a header value, not {self.retry_after!r}")
            self.retry_after = str(self.retry_after)
        if self.headers is not None and not (
            isinstance(self.headers, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in self.headers.items())
        ):
            raise ValueError(f"headers must be an object of header names to strings, not {self.headers!r}")
        if self.delay is None:
            self.delay = 0.0
        if (
            isinstance(self.delay, bool)
            or not isinstance(self.delay, (int, float))
            or not math.isfinite(self.delay)
            or self.delay < 0
        ):
            raise ValueError(f"delay must be a number of seconds >= 0, not {self.delay!r}")
        self.delay = min(float(self.delay), MAX_DELAY)

    @classmethod
    def from_json(cls, data: object) -> FaultRule:
        if not isinstance(data, dict):
            raise ValueError(f"a fault rule must be a JSON object, not {data!r}")
        unknown = sorted(set(data) - set(RULE_FIELDS))
        if unknown:
            raise ValueError(f"unknown fault rule field(s): {', '.join(unknown)}; known: {', '.join(RULE_FIELDS)}")
        return cls(**data)

    def matches(self, method: str, path: str, emulation: str | None = None) -> bool:
        """Whether the rule applies to a request; ``emulation`` is the name of the one owning the path."""
        if self.method is not None and self.method != method.upper():
            return False
        if self.emulation is not None and self.emulation != emulation:
            return False
        return self._path_re is None or self._path_re.search(path) is not None

    def outcome(self, owner: Emulation | None = None) -> Outcome:
        if self.action in CARRIED_OUT or self.action in ("close", "hang"):
            return Outcome(None, self.action, self.delay, fault=self.action)
        if self.action != "respond":
            return Outcome(
                Response(self.status, None, dict(self.headers or {})), self.action, self.delay, fault=self.action
            )
        headers = dict(self.headers or {})
        if self.retry_after is not None:
            headers["Retry-After"] = self.retry_after
        body = self.body
        if body is None and self.status >= 400:
            body = error_document(owner, self.status, f"Sandbox fault: HTTP {self.status}.")
        return Outcome(Response(self.status, body, headers), "respond", self.delay, fault="respond")

    def to_json(self) -> dict:
        data = {name: getattr(self, name) for name in RULE_FIELDS}
        if isinstance(data["body"], bytes):
            data["body"] = data["body"].decode("utf-8", errors="replace")
        data["hits"] = self.hits
        return data


def error_document(owner: Emulation | None, status: int, message: str, exception_name: str | None = None) -> Any:
    """The error body the emulation owning the path answers with (Bitbucket Data Center's when none does)."""
    from .emulation import Emulation

    return (owner or Emulation()).error_document(status, message, exception_name)


class Faults:
    """The fault rules (a queue, first match wins) and the optional rate limit, behind one lock.

    ``emulation_names`` (when given) lists the emulations a rule may name; a rule naming another is refused.
    """

    def __init__(
        self,
        rate: float | None = None,
        burst: int | None = None,
        emulation_names: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        self._emulation_names = emulation_names
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._initial = (rate, burst)
        self._limiter: RateLimiter | None = None
        self.set_rate_limit(rate, burst)

    # -- rules ---------------------------------------------------------------------------------
    def add(self, rule: FaultRule | None = None, **fields: Any) -> FaultRule:
        """Queue a rule (a :class:`FaultRule`, or its fields as keywords) and return it."""
        if rule is None:
            rule = FaultRule(**fields)
        elif fields:
            raise TypeError("give either a FaultRule or its fields, not both")
        self._check_emulation(rule)
        with self._lock:
            self._rules.append(rule)
        return rule

    def _check_emulation(self, rule: FaultRule) -> None:
        if rule.emulation is None or self._emulation_names is None:
            return
        names = sorted(self._emulation_names())
        if rule.emulation not in names:
            raise ValueError(f"no emulation named {rule.emulation!r}; known: {', '.join(names)}")

    def rules(self) -> list[dict]:
        with self._lock:
            return [rule.to_json() for rule in self._rules]

    def clear(self) -> None:
        """No rules and no rate limit."""
        with self._lock:
            self._rules.clear()
            self._limiter = None

    def reset(self) -> None:
        """No rules, and the rate limit given at construction again (with full buckets)."""
        with self._lock:
            self._rules.clear()
        self.set_rate_limit(*self._initial)

    # -- rate limit ----------------------------------------------------------------------------
    def set_rate_limit(self, rate: float | None, burst: int | None = None) -> None:
        """Limit each credential to ``burst`` requests at once, refilled at ``rate`` per second;
        ``rate=None`` turns the limit off.  Buckets start full."""
        if rate is None:
            if burst is not None:
                raise ValueError("burst needs a rate")
            limiter = None
        else:
            limiter = RateLimiter(rate, burst)
        with self._lock:
            self._limiter = limiter

    @property
    def rate_limit(self) -> dict | None:
        limiter = self._limiter
        return None if limiter is None else limiter.to_json()

    # -- checking a request --------------------------------------------------------------------
    def check(self, request: Request, owner: Emulation | None = None) -> Outcome | None:
        """The fault for this request (consuming it), or None to let the emulation answer; ``owner`` is the
        emulation whose routes the path belongs to."""
        name = None if owner is None else owner.name
        with self._lock:
            for index, rule in enumerate(self._rules):
                if rule.matches(request.method, request.path, name):
                    rule.hits += 1
                    if rule.times is not None and rule.hits >= rule.times:
                        del self._rules[index]
                    return rule.outcome(owner)
            limiter = self._limiter
        if limiter is None:
            return None
        wait = limiter.acquire(request.headers.get("Authorization") or "anonymous")
        if wait <= 0:
            return None
        response = Response(
            429,
            error_document(owner, 429, RATE_LIMITED_MESSAGE, RATE_LIMITED_EXCEPTION),
            {"Retry-After": RateLimiter.retry_after(wait)},
        )
        return Outcome(response, fault="rate-limit")

    # -- JSON admin ----------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {"rules": self.rules(), "rate_limit": self.rate_limit}

    def configure(self, data: object) -> None:
        """Apply ``POST /_sandbox/faults``: a rule object, a list of rules, or an object with any of
        ``rules`` (list), ``rate`` and ``burst`` (``"rate": null`` turns the limit off).  All or nothing."""
        rules: list[FaultRule] = []
        rate_change: tuple[Any, Any] | None = None
        if isinstance(data, list):
            rules = [FaultRule.from_json(item) for item in data]
        elif isinstance(data, dict):
            if "rules" in data or "rate" in data or "burst" in data:
                unknown = sorted(set(data) - {"rules", "rate", "burst"})
                if unknown:
                    raise ValueError(f"unknown field(s): {', '.join(unknown)}; expected rules, rate, burst")
                raw_rules = data.get("rules", [])
                if not isinstance(raw_rules, list):
                    raise ValueError("rules must be a list of fault rules")
                rules = [FaultRule.from_json(item) for item in raw_rules]
                if "rate" in data or "burst" in data:
                    rate_change = (data.get("rate"), data.get("burst"))
                    if rate_change[0] is not None:
                        RateLimiter(*rate_change)  # validate before changing anything
                    elif rate_change[1] is not None:
                        raise ValueError("burst needs a rate")
            else:
                rules = [FaultRule.from_json(data)]
        else:
            raise ValueError("expected a fault rule object, a list of rules, or {rules, rate, burst}")
        for rule in rules:
            self._check_emulation(rule)
        for rule in rules:
            self.add(rule)
        if rate_change is not None:
            self.set_rate_limit(*rate_change)
