"""Timing faults: heartbeats and timeouts that move lease_expires_at wrongly (TIME-*)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from leasecheck.reference_server import clock
from leasecheck.reference_server.leases import Runtime
from leasecheck.reference_server.management import DEFAULT_TIMEOUT_MINUTES
from leasecheck.reference_server.store import Lease, License, Policy, Tx

from . import bug


@bug("heartbeat-does-not-extend", "TIME-03")
class HeartbeatOnlyTouches(Runtime):
    """A heartbeat records that the client is alive and answers 200, but leaves lease_expires_at where it was."""

    def extend(self, tx: Tx, lease: Lease, policy: Policy, now: float) -> Lease:
        return lease  # BUG: last-seen updated (elsewhere), expiry not


@bug("heartbeat-shortens", "TIME-02")
class HeartbeatShortens(Runtime):
    """A heartbeat sets the expiry to now plus the heartbeat interval (half the timeout), moving it earlier when the
    client heartbeats early.
    """

    def extend(self, tx: Tx, lease: Lease, policy: Policy, now: float) -> Lease:
        expires_at = clock.later(now, policy.floating_timeout_minutes * self.settings.minute_seconds / 2)  # BUG
        tx.extend_lease(lease.token, expires_at)
        return replace(lease, expires_at=expires_at)


@bug("policy-timeout-ignored", "TIME-01")
class PolicyTimeoutIgnored(Runtime):
    """Every lease gets the server's default timeout (10 minutes), not the policy's floating_timeout_minutes.

    The 10 is `DEFAULT_TIMEOUT_MINUTES`; tests/gallery/test_registry.py keeps the two together.
    """

    def deadline(self, policy: Policy, now: float) -> float:
        return clock.later(now, DEFAULT_TIMEOUT_MINUTES * self.settings.minute_seconds)  # BUG


@bug("timestamps-without-offset", "TIME-05")
class NaiveTimestamps(Runtime):
    """Lease timestamps printed without an offset (a naive datetime.isoformat()): clients guess the zone."""

    def lease_data(self, lic: License, policy: Policy, lease: Lease, now: float, *, with_token: bool) -> dict[str, Any]:
        data = super().lease_data(lic, policy, lease, now, with_token=with_token)
        for name in ("issued_at", "expires_at", "lease_expires_at"):
            if name in data:
                data[name] = data[name].removesuffix("Z").removesuffix("+00:00")  # BUG
        return data
