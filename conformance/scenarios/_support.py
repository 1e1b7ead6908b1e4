"""Helpers scenarios share: racing requests, probing free seats, waiting on leases.

Nothing here asserts; scenarios judge with `expect`. Waits are derived from
the server's own timestamps through the target's clock, never fixed.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from leasecheck.conformance.target import LicenseFixture, Target
from leasecheck.core.client import Exchange, LeaseClient, hardware_binding
from leasecheck.core.history import History
from leasecheck.core.timeutil import parse_rfc3339, wait_until

T = TypeVar("T")

#: Seconds a lease must outlive a scenario that judges it still holds its seat: with
#: one-second minutes a one-minute lease could end while a slow run is still judging it.
HOLD_SECONDS = 30.0


def hold_minutes(target: Target) -> int:
    """The fewest policy minutes that last HOLD_SECONDS on this target."""
    return max(1, math.ceil(HOLD_SECONDS / target.settings.minute))


def race(
    target: Target, calls: Sequence[Callable[[LeaseClient], T]], fixture: LicenseFixture, width: int | None = None
) -> list[T]:
    """Run `calls` as simultaneously as possible: one thread and one connection
    each, all released by one barrier once every connection is open.

    The width is stated to the target before anything is sent (the report
    lists it per scenario), and under a rate cap the whole race is paid for
    up front so its requests still leave together."""
    width = min(width or target.settings.concurrency, len(calls))
    target.note_race(width, len(calls))
    clients = [target.client(fixture, target.new_http()) for _ in range(width)]
    permit = target.race_permit(len(calls))
    barrier = threading.Barrier(width)
    results: list[Any] = [None] * len(calls)

    def worker(slot: int) -> None:
        try:
            clients[slot].http.request("GET", "/health")  # each opens its connection before the start line
        except BaseException:
            barrier.abort()  # the others would wait at the start line for this one forever
            raise
        with permit.use() if permit is not None else contextlib.nullcontext():
            barrier.wait()
            for i in range(slot, len(calls), width):
                results[i] = calls[i](clients[slot])

    with ThreadPoolExecutor(max_workers=width) as pool:
        list(pool.map(worker, range(width)))
    return results


def record(
    history: History, fixture: LicenseFixture, exchanges: Sequence[Exchange], tokens: Sequence[str | None] | None = None
) -> None:
    for i, ex in enumerate(exchanges):
        history.record(ex, fixture.name, lease_token=tokens[i] if tokens else None)


def fill(client: LeaseClient, n: int) -> list[Exchange]:
    """Check out n leases for n new fingerprints, one after another."""
    return [client.checkout(hardware_binding()) for _ in range(n)]


def expires_local(target: Target, ex: Exchange) -> float:
    """The local instant at which the lease of this answer expires."""
    return target.clock.to_local(parse_rfc3339(ex.data["lease_expires_at"]))


def wait_past_expiry(target: Target, ex: Exchange) -> float:
    """Wait until the answer's lease_expires_at has certainly passed on the server,
    plus the configured expiry tolerance. Returns the local instant waited for."""
    deadline = expires_local(target, ex) + target.clock.bound() + target.settings.expiry_tolerance
    wait_until(deadline)
    return deadline


def wait_fraction(target: Target, ex: Exchange, fraction: float) -> float:
    """Wait until `fraction` of the way from the answer's meta.timestamp to its lease_expires_at."""
    start = target.clock.to_local(parse_rfc3339(ex.json["meta"]["timestamp"]))
    end = expires_local(target, ex)
    at = start + (end - start) * fraction
    wait_until(at)
    return at


@dataclass
class Timed:
    """A checkout answer and its server-clock window, for timing rules."""

    ex: Exchange
    timestamp: float
    expires: float

    @classmethod
    def of(cls, ex: Exchange) -> Timed:
        return cls(ex, parse_rfc3339(ex.json["meta"]["timestamp"]), parse_rfc3339(ex.data["lease_expires_at"]))


def now() -> float:
    return time.time()
