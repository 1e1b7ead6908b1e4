"""Being a good citizen on a shared server: a request-rate cap and 429 back-off.

`Pacer` caps the average request rate of a whole run (every connection of it
shares one), so a suite cannot flood a small staging server. `Backoff` decides
how long to wait after a 429 answer: the server's `Retry-After`, bounded per
wait, per request and per run, so that a throttling server slows a run down
instead of failing it, and a server that never stops throttling cannot hold
a run hostage.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime


class Pacer:
    """A token bucket shared by every connection of a run: at most `rate`
    requests per second on average, bursts of at most `burst`.

    The balance may go negative: a caller that finds no token waits until its
    token would have been earned, so concurrent callers queue up fairly and
    the long-run rate never exceeds `rate`.
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be > 0, not {rate}")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate))
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._last = clock()
        self._lock = threading.Lock()
        self._local = threading.local()
        self.requests = 0
        self.waited_seconds = 0.0

    def _take(self, n: float) -> float:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= n
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
            self.requests += int(n)
            self.waited_seconds += wait
        return wait

    def acquire(self) -> float:
        """Wait (if needed) for one request's token; returns the seconds waited.

        A thread holding a `Permit` spends it instead (see `reserve`)."""
        permit: Permit | None = getattr(self._local, "permit", None)
        if permit is not None and permit.spend():
            return 0.0
        wait = self._take(1)
        if wait > 0:
            self._sleep(wait)
        return wait

    def reserve(self, n: int) -> Permit:
        """Pay for `n` requests now (waiting as the cap demands), to be sent later
        without pacing: a race stays simultaneous under a rate cap."""
        wait = self._take(n)
        if wait > 0:
            self._sleep(wait)
        return Permit(self, n)

    @contextlib.contextmanager
    def using(self, permit: Permit | None) -> Iterator[None]:
        """Requests from this thread spend `permit` first."""
        old = getattr(self._local, "permit", None)
        self._local.permit = permit
        try:
            yield
        finally:
            self._local.permit = old


class Permit:
    """Requests already paid for; shared by the threads of one race."""

    def __init__(self, pacer: Pacer, n: int) -> None:
        self.pacer = pacer
        self._left = n
        self._lock = threading.Lock()

    def spend(self) -> bool:
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    def use(self) -> contextlib.AbstractContextManager[None]:
        return self.pacer.using(self)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date
    (RFC 9110 §10.2.3). None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


#: Defaults: one wait is at most this long, one request retries at most this often.
MAX_WAIT_SECONDS = 30.0
MAX_RETRIES = 6
#: Without a usable Retry-After, wait 1, 2, 4 … seconds (capped by MAX_WAIT_SECONDS).
FALLBACK_FIRST_WAIT = 1.0


@dataclass
class Backoff:
    """How a run answers 429: wait as told, within bounds, and count it.

    One instance is shared by every connection of a run, so the budget
    (`budget_seconds`, total waiting per run) and the counters are per run.
    The counters are what a report shows: `answers` (429s received),
    `retried`, `waited_seconds`, `gave_up` (429s passed on to the caller
    because a bound was reached).
    """

    max_retries: int = MAX_RETRIES
    max_wait: float = MAX_WAIT_SECONDS
    budget_seconds: float = 300.0
    sleep: Callable[[float], None] = time.sleep
    answers: int = 0
    retried: int = 0
    waited_seconds: float = 0.0
    gave_up: int = 0
    longest_wait: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def delay(self, retry_after: str | None, attempt: int) -> float | None:
        """Seconds to wait before retry number `attempt + 1`, or None to stop
        retrying (the 429 is then the answer). Reserves the wait in the budget."""
        asked = parse_retry_after(retry_after)
        wait = min(self.max_wait, asked if asked is not None else FALLBACK_FIRST_WAIT * 2**attempt)
        with self._lock:
            self.answers += 1
            if attempt >= self.max_retries or self.waited_seconds + wait > self.budget_seconds:
                self.gave_up += 1
                return None
            self.retried += 1
            self.waited_seconds += wait
            self.longest_wait = max(self.longest_wait, wait)
        return wait

    def to_json(self) -> dict[str, float | int]:
        with self._lock:
            return {
                "answers": self.answers,
                "retried": self.retried,
                "waited_seconds": round(self.waited_seconds, 3),
                "longest_wait_seconds": round(self.longest_wait, 3),
                "gave_up": self.gave_up,
                "budget_seconds": self.budget_seconds,
                "max_wait_seconds": self.max_wait,
                "max_retries": self.max_retries,
            }
