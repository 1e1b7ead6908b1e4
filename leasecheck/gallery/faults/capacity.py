"""Capacity faults: seats over- or under-counted, and the full pool's answer (CAP-*)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

from leasecheck.reference_server import clock
from leasecheck.reference_server.errors import ApiError
from leasecheck.reference_server.idempotency import Answer
from leasecheck.reference_server.leases import Runtime
from leasecheck.reference_server.store import Lease, License, Policy, Tx

from . import RACE_WINDOW_SECONDS, bug


@bug("race-check-then-insert", "CAP-04", race=True)
class CheckThenInsert(Runtime):
    """The seat count and the lease insert run in separate transactions (time-of-check to time-of-use): simultaneous
    checkouts all see a free seat.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._counted = threading.local()

    def checkout(self, license_id: str, key: str, body: dict[str, Any]) -> Answer:
        with self.store.read() as tx:  # BUG: counted outside the transaction that inserts
            counted = tx.count_live_leases(license_id, clock.now())
        time.sleep(RACE_WINDOW_SECONDS)
        self._counted.value = counted
        try:
            return super().checkout(license_id, key, body)
        finally:
            self._counted.value = None

    def seats_in_use(self, tx: Tx, license_id: str, now: float) -> int:
        counted = getattr(self._counted, "value", None)
        return super().seats_in_use(tx, license_id, now) if counted is None else counted


@bug("off-by-one-capacity", "CAP-02", "CAP-04")
class OffByOne(Runtime):
    """The pool counts as full only when seats in use exceed the limit (> instead of >=): N seats grant N + 1 leases."""

    def allocate_seat(self, tx: Tx, lic: License, policy: Policy, identity: str, seats: int, now: float) -> Lease:
        return super().allocate_seat(tx, lic, policy, identity, seats + 1, now)  # BUG: same as `in_use > seats`


@bug("zero-seats-unlimited", "CAP-05")
class ZeroMeansUnlimited(Runtime):
    """max_floating_users 0 read as 'no limit', a common configuration convention."""

    def seats(self, policy: Policy) -> int:
        if policy.max_floating_users == 0:
            return 2**31  # BUG: zero is not "unlimited"
        return super().seats(policy)


@bug("over-capacity-429", "CAP-02")
class OverCapacityIs429(Runtime):
    """A full pool is answered 429 Too Many Requests, so clients retry instead of giving up."""

    def over_capacity(self, seats: int) -> ApiError:
        refusal = super().over_capacity(seats)
        return ApiError(429, refusal.code, refusal.message)  # BUG: clients are told to retry a 429


@bug("reconnect-takes-extra-seat", "CAP-06")
class ReconnectTakesExtraSeat(Runtime):
    """A device checking out again gets its old lease back, but the reconnect also registered a new seat (FlexNet: an
    extra seat consumed on reconnect).
    """

    def held_lease(self, tx: Tx, license_id: str, identity: str, now: float) -> Lease | None:
        held = super().held_lease(tx, license_id, identity, now)
        if held is not None:  # BUG: a seat row for the reconnect, never handed out, never freed
            tx.insert_lease(replace(held, token=self.new_token(), issued_at=now))
        return held


@bug("one-seat-short", "CAP-01")
class OneSeatShort(Runtime):
    """The pool counts as full one lease early (in_use + 1 >= seats, a reserved seat nobody asked for): N seats grant
    N - 1 leases, and a single-seat license none.
    """

    def allocate_seat(self, tx: Tx, lic: License, policy: Policy, identity: str, seats: int, now: float) -> Lease:
        return super().allocate_seat(tx, lic, policy, identity, seats - 1, now)  # BUG: one seat kept back
