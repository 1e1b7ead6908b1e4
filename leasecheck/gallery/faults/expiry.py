"""Expiry faults: abandoned seats that never, or too late, or too early come free (EXP-*)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from leasecheck.reference_server import clock
from leasecheck.reference_server.leases import Runtime
from leasecheck.reference_server.store import Lease, License, Policy, Tx

from . import bug

#: expire-late: the grace the reaper adds, in policy minutes.
GRACE_MINUTES = 5


@bug("never-expire", "EXP-01")
class NeverExpires(Runtime):
    """lease_expires_at is printed but never compared with the clock: abandoned leases hold their seats forever."""

    def is_live(self, lease: Lease, now: float) -> bool:
        return lease.ended_at is None  # BUG: no `expires_at > now`

    def reclaim_expired(self, tx: Tx, license_id: str, now: float) -> None:
        pass  # BUG: nothing is ever past its expiry

    def seats_in_use(self, tx: Tx, license_id: str, now: float) -> int:
        return super().seats_in_use(tx, license_id, -math.inf)  # BUG: every lease not ended counts


@bug("zombie-seats", "EXP-01")
class ZombieSeats(Runtime):
    """The reaper that ends expired leases never runs and the seat count trusts it: an expired lease is dead to its
    client but its seat is never freed (Keygen: dead machines never culled).
    """

    def reclaim_expired(self, tx: Tx, license_id: str, now: float) -> None:
        pass  # BUG: the reaper job is never scheduled

    def seats_in_use(self, tx: Tx, license_id: str, now: float) -> int:
        return super().seats_in_use(tx, license_id, -math.inf)  # BUG: counts what the reaper would have ended


@bug("expire-late", "EXP-01")
class ExpiresLate(Runtime):
    """The reaper grants a grace of 5 timeout minutes that lease_expires_at does not show, so an abandoned seat comes
    free long after the promised instant.
    """

    def _grace(self) -> float:
        return GRACE_MINUTES * self.settings.minute_seconds

    def is_live(self, lease: Lease, now: float) -> bool:
        return super().is_live(lease, now - self._grace())  # BUG: a hidden grace

    def reclaim_expired(self, tx: Tx, license_id: str, now: float) -> None:
        super().reclaim_expired(tx, license_id, now - self._grace())

    def seats_in_use(self, tx: Tx, license_id: str, now: float) -> int:
        return super().seats_in_use(tx, license_id, now - self._grace())


@bug("expire-early", "EXP-02", "TIME-04")
class ExpiresEarly(Runtime):
    """The stored deadline is half the window the answer promises (the heartbeat interval used as the timeout), so a
    seat is given away and a late heartbeat refused before lease_expires_at.
    """

    def _half(self, policy: Policy) -> float:
        return policy.floating_timeout_minutes * self.settings.minute_seconds / 2

    def deadline(self, policy: Policy, now: float) -> float:
        return clock.later(now, self._half(policy))  # BUG: half the timeout is stored...

    def lease_data(self, lic: License, policy: Policy, lease: Lease, now: float, *, with_token: bool) -> dict[str, Any]:
        data = super().lease_data(lic, policy, lease, now, with_token=with_token)
        if lease.ended_at is None:  # ...and the whole timeout promised
            data["lease_expires_at"] = clock.rfc3339(
                lease.expires_at + self._half(policy), self.behaviour.timestamp_style
            )
        return data


@bug("heartbeat-revives-taken-seat", "EXP-03")
class RevivesAnyway(Runtime):
    """A heartbeat revives an expired lease without looking at the pool, even after its seat went to someone else."""

    def revive_or_refuse(self, tx: Tx, lease: Lease, policy: Policy, now: float) -> Lease:
        if lease.end_reason != "expired":
            return super().revive_or_refuse(tx, lease, policy, now)
        expires_at = self.deadline(policy, now)  # BUG: no seat check
        tx.revive_lease(lease.token, expires_at)
        return replace(lease, expires_at=expires_at, ended_at=None, end_reason=None)
