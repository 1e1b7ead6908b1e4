"""Time: RFC 3339 parsing, the server's clock, and deadline waits.

The suite never sleeps for a fixed time. It waits until an instant derived
from the server's own answers (`lease_expires_at`, `meta.timestamp`),
translated to the local clock with the offset measured on every exchange.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def is_rfc3339(value: Any) -> bool:
    """An RFC 3339 date-time with an explicit offset (the spec's `date-time` format)."""
    from leasecheck.specs.validate import is_date_time

    return isinstance(value, str) and is_date_time(value)


#: The shape servers stamp with (UTC "Z", at most microseconds, no leap second):
#: `datetime.fromisoformat` reads it as it is. A load run parses two or three of
#: these per answer, and the general path below costs several times as much.
_CANONICAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-5][0-9](?:\.[0-9]{1,6})?Z", re.ASCII)


def parse_rfc3339(value: str) -> float:
    """Epoch seconds of an RFC 3339 date-time (any offset, any fraction length)."""
    if isinstance(value, str) and _CANONICAL.fullmatch(value):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            pass  # not a real date or time (2026-02-30, hour 24): the general path says so
    if not is_rfc3339(value):
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    s = value.upper().replace(" ", "T")
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    main, dot, rest = s.partition(".")
    if dot:
        digits = re.match(r"\d+", rest)
        assert digits
        frac, tz = digits.group(0), rest[digits.end() :]
        s = f"{main}.{(frac + '000000')[:6]}{tz}"
    if s[17:19] == "60":  # a leap second: the instant after :59
        return datetime.fromisoformat(s[:17] + "59" + s[19:]).timestamp() + 1
    return datetime.fromisoformat(s).timestamp()


def format_rfc3339(epoch: float) -> str:
    """RFC 3339 in UTC with milliseconds. The year is always four digits: `%Y`
    prints year 301 as `301` on glibc, which is not RFC 3339."""
    dt = datetime.fromtimestamp(epoch, tz=UTC)
    return f"{dt.year:04d}-{dt:%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}Z"


@dataclass
class ServerClock:
    """Estimates server_time - local_time from (sent, received, meta.timestamp) samples.

    The bound is the tightest round trip seen (half of it each way), widened by
    the timestamp's own resolution (a server may print whole seconds).
    """

    offset: float = 0.0
    uncertainty: float = float("inf")
    samples: int = 0
    _best_rtt: float = field(default=float("inf"), repr=False)

    def observe(self, sent: float, received: float, server_timestamp: str | None) -> None:
        if not server_timestamp:
            return
        try:
            server = parse_rfc3339(server_timestamp)
        except ValueError:
            return
        resolution = 0.0 if "." in server_timestamp else 1.0
        rtt = max(received - sent, 0.0)
        self.samples += 1
        if rtt <= self._best_rtt:
            self._best_rtt = rtt
            # The server stamped somewhere in [sent, received]; with whole-second
            # stamps the true time is up to one second after the printed one.
            self.offset = (server + resolution / 2) - (sent + received) / 2
            self.uncertainty = rtt / 2 + resolution / 2

    def to_local(self, server_epoch: float) -> float:
        return server_epoch - self.offset

    def to_server(self, local_epoch: float) -> float:
        return local_epoch + self.offset

    def bound(self) -> float:
        return self.uncertainty if self.samples else 1.0

    @property
    def best_round_trip(self) -> float:
        """The shortest round trip seen (inf before any)."""
        return self._best_rtt


class Waits:
    """Who is blocked in `wait_until` right now, and until when: what a progress
    display shows during a long wait. A thread names its waits with `label()`."""

    def __init__(self) -> None:
        self._now: dict[int, tuple[object, float]] = {}
        self._labels = threading.local()
        self._lock = threading.Lock()

    def label(self, label: object) -> None:
        """What this thread's waits are shown as (unlabelled waits are not shown)."""
        self._labels.value = label

    def snapshot(self) -> list[tuple[object, float]]:
        """(label, local deadline) of every labelled wait under way."""
        with self._lock:
            return list(self._now.values())

    def _enter(self, deadline: float) -> bool:
        label = getattr(self._labels, "value", None)
        if label is None:
            return False
        with self._lock:
            self._now[threading.get_ident()] = (label, deadline)
        return True

    def _leave(self) -> None:
        with self._lock:
            self._now.pop(threading.get_ident(), None)


#: The waits of this process.
WAITS = Waits()


def wait_until(deadline: float, *, poll: Callable[[], bool] | None = None, step: float = 0.05) -> bool:
    """Block until local time `deadline`, or earlier if `poll()` turns true.

    Returns True if `poll` succeeded (or there was no poll), False on deadline.
    Raises `interrupts.Stopping` when the run is asked to stop meanwhile.
    The wait is listed in `WAITS` while it lasts.
    """
    shown = WAITS._enter(deadline)
    try:
        return _wait_until(deadline, poll, step)
    finally:
        if shown:
            WAITS._leave()


def _wait_until(deadline: float, poll: Callable[[], bool] | None, step: float) -> bool:
    from .interrupts import Stopping, stopping

    while True:
        if stopping.is_set():
            raise Stopping("the run is stopping")
        if poll is not None and poll():
            return True
        remaining = deadline - time.time()
        if remaining <= 0:
            return poll is None
        stopping.wait(min(step if poll is not None else 0.25, remaining))


def poll_until(predicate: Callable[[], Any], timeout: float, what: str = "condition", interval: float = 0.02) -> Any:
    """Poll `predicate` until it is truthy and return its value; raise
    TimeoutError naming `what` after `timeout` seconds. For waiting on a state
    (a file written, a process ready), never on the passage of time."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not within {timeout:.1f} s")
        time.sleep(interval)
