"""Deadlines and retries: one deadline bounds the whole run, and retries happen inside it.

- Transient failures (connection errors, 429, 5xx) are retried with capped exponential backoff and
  jitter; ``Retry-After`` (seconds or an HTTP date) is honoured.  Other 4xx answers are final.
- One :class:`Deadline` bounds the whole run: no retry is started whose wait would pass it, each request's
  timeouts are cut to what is left, and :meth:`Deadline.enforced` stops a run that is still waiting on a
  server when it passes.
- Each retry says so as it happens (server, what failed, attempt, wait, time left), and a request that
  keeps the step waiting says so every :data:`HEARTBEAT` seconds, through the ``say`` callable the session
  was built with (:class:`Narrator`).
"""

from __future__ import annotations

import contextlib
import random
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

from urllib3.exceptions import InvalidHeader, MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from ..errors import DeadlineExceeded

#: Answers worth another try: rate limiting and server-side trouble.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: For a request that must not be repeated once it may have arrived: only answers that say it was not
#: carried out (too many requests, service unavailable) are worth another try.
ONCE_RETRY_STATUSES = frozenset({429, 503})
BACKOFF_FACTOR = 0.5
BACKOFF_MAX = 8.0
BACKOFF_JITTER = 0.5
#: The longest a single connection attempt may take (the deadline may cut it further).
CONNECT_TIMEOUT = 10.0
#: Leave this much of the deadline for reporting once the last request is given up.
RESERVE = 0.25
#: One attempt may wait for an answer at most half of what is left of the deadline (but at least this
#: long), so a server that hangs once still leaves time for another try.
ATTEMPT_FLOOR = 1.0
#: While a request keeps the step waiting, a line says so at least this often (seconds).
HEARTBEAT = 5.0


class Narrator:
    """Says what the HTTP layer is doing while the step waits: retries as they happen, and a line every
    :data:`HEARTBEAT` seconds while a request is outstanding and nothing else was said."""

    def __init__(self, say: Any = None, clock: Any = time.monotonic) -> None:
        self._say = say
        self._clock = clock
        self._lock = threading.Lock()
        self.last = clock()

    def say(self, text: str) -> None:
        with self._lock:
            self.last = self._clock()
        if self._say is not None:
            self._say(text)

    @contextlib.contextmanager
    def waiting(self, host: str, deadline: Deadline) -> Iterator[None]:
        """While the body of the ``with`` runs, say every :data:`HEARTBEAT` seconds that it still waits."""
        if self._say is None:
            yield
            return
        done = threading.Event()
        started = self._clock()

        def beat() -> None:
            while not done.wait(HEARTBEAT / 5):
                with self._lock:
                    quiet = self._clock() - self.last
                if quiet >= HEARTBEAT and not done.is_set():
                    self.say(
                        f"… still waiting for {host}: {self._clock() - started:.0f} s so far, "
                        f"{deadline.remaining():.0f} s left of the {deadline.seconds:g} s timeout."
                    )

        thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()


class Deadline:
    """A point in (monotonic) time by which the run must be over."""

    def __init__(self, seconds: float, clock: Any = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self.end = clock() + seconds

    def restart(self) -> None:
        """Start the same length of time again from now (for the next part of a long run)."""
        self.end = self._clock() + self.seconds

    def remaining(self) -> float:
        return max(0.0, self.end - self._clock())

    def expired(self) -> bool:
        return self.remaining() <= 0

    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` timeouts for the next request, cut to what is left of the deadline."""
        left = max(0.05, self.remaining() - RESERVE)
        return (min(CONNECT_TIMEOUT, left), min(left, max(ATTEMPT_FLOOR, left / 2)))

    @contextlib.contextmanager
    def enforced(self) -> Iterator[None]:
        """Interrupt whatever is still running when the deadline passes (main thread, POSIX only).

        Timeouts bound each socket operation; this bounds the sum, whatever a server does (a trickle of
        bytes, a slow TLS handshake, a name lookup that hangs).
        """
        usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
        if not usable:
            yield
            return

        def on_alarm(signum: int, frame: Any) -> None:
            raise DeadlineExceeded(f"the {self.seconds:g} s deadline (timeout input) passed")

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, max(0.01, self.remaining()))
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


class DeadlineRetry(Retry):
    """urllib3's Retry that gives up, instead of sleeping, when the next wait would pass the deadline.

    Giving up on an answer (429, 5xx) hands that answer back, so its message can be reported.
    """

    def __init__(
        self, *args: Any, deadline: Deadline | None = None, narrator: Narrator | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline
        self.narrator = narrator or Narrator()

    def new(self, **kw: Any) -> DeadlineRetry:
        retry = super().new(**kw)
        retry.deadline = self.deadline
        retry.narrator = self.narrator
        return retry

    def get_retry_after(self, response: Any) -> float | None:
        """``Retry-After`` in seconds; a value that is neither whole seconds nor an HTTP date (``1.5``,
        ``-5``, ``soon``) counts as absent, so the normal backoff applies."""
        try:
            return super().get_retry_after(response)
        except (InvalidHeader, ValueError, OverflowError):
            return None

    def sleep_for_retry(self, response: Any) -> bool:
        """Wait as ``Retry-After`` says, plus jitter, so that clients told the same time do not all
        come back at the same instant."""
        retry_after = self.get_retry_after(response)
        if retry_after is None:
            return False
        time.sleep(retry_after + random.uniform(0, self.backoff_jitter))  # noqa: S311 - jitter, not crypto
        return True

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        if self.deadline is not None:
            wait = None
            if response is not None and self.respect_retry_after_header:
                wait = retry.get_retry_after(response)
            if wait is None:
                wait = retry.get_backoff_time()
            else:
                wait += self.backoff_jitter
            # The next attempt needs time too, not only the wait before it.
            left = self.deadline.remaining()
            if wait + RESERVE * 2 >= left:
                reason = error or ResponseError(f"giving up: waiting {wait:.1f} s to retry would pass the deadline")
                raise MaxRetryError(_pool, url, reason) from reason  # type: ignore[arg-type]
            # Here, not at the top: failures (describing) needs session, which needs this module.
            from .failures import describe_exception

            failed = f"answered {response.status}" if response is not None else describe_exception(error)
            self.narrator.say(
                f"{_where(_pool)}: {failed} (attempt {len(retry.history)}); trying again in {wait:.1f} s, "
                f"{left:.1f} s left of the {self.deadline.seconds:g} s timeout."
            )
        return retry


def _where(pool: Any) -> str:
    host = getattr(pool, "host", "") or "the server"
    port = getattr(pool, "port", None)
    default = {"http": 80, "https": 443}.get(getattr(pool, "scheme", ""))
    return f"{host}:{port}" if port and port != default else host


def make_retry(
    deadline: Deadline, *, once: bool = False, total: int = 20, narrator: Narrator | None = None
) -> DeadlineRetry:
    """The retry policy.

    By default every method is retried (a status POST is safe to repeat: Bitbucket keeps one result per
    key, and closing a Coveralls build twice is recognised).  ``once`` is for requests that must not be
    carried out twice (starting a CI run): retried only when the request surely never arrived (the
    connection could not be made) or the server said it did not carry it out (429, 503); never after a
    read error, when it may have arrived.
    """
    return DeadlineRetry(
        total=total,
        connect=total,
        read=0 if once else total,
        status=total,
        other=0,
        redirect=0,
        allowed_methods=None,
        status_forcelist=ONCE_RETRY_STATUSES if once else RETRY_STATUSES,
        backoff_factor=BACKOFF_FACTOR,
        backoff_max=BACKOFF_MAX,
        backoff_jitter=BACKOFF_JITTER,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
        deadline=deadline,
        narrator=narrator,
    )
