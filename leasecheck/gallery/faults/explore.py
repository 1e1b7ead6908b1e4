"""Faults in combinations: bugs no single scenario aims at, found by exploration (EXPL-*).

Each shows only when two operations of different kinds meet (a checkin and
a later checkout by the same device, a heartbeat under the wrong license and
the expiry that follows), when one license's traffic touches another's, when
a status change meets held leases, or at a boundary of time or size. For
each, the fault's entry in `..registry` says which model check caught it;
`tests/gallery/test_explore_faults.py` shows that the scenario areas do not
(the suite without `explore` passes it) and that exploration does.
"""

from __future__ import annotations

import threading
from typing import Any

from leasecheck.reference_server import clock
from leasecheck.reference_server.idempotency import Answer, Idempotency
from leasecheck.reference_server.leases import Runtime
from leasecheck.reference_server.store import IdempotencyRecord, Lease, Tx

#: How many characters of a fingerprint or an Idempotency-Key the truncating faults keep
#: (a VARCHAR(64) column, or an index on a prefix).
KEPT_CHARACTERS = 64
#: heartbeat-clock-ahead: how far ahead the heartbeat's clock runs, in policy minutes.
CLOCK_AHEAD_MINUTES = 0.1


def _live_leases(tx: Tx, where: str, *args: Any) -> int:
    row = tx.conn.execute(f"SELECT COUNT(*) FROM leases WHERE ended_at IS NULL AND {where}", args).fetchone()
    return int(row[0])


class ResumeResetsSeats(Runtime):
    """Seats are counted from the license's last status change: a reinstate starts the count at zero."""

    def seats_in_use(self, tx: Tx, license_id: str, now: float) -> int:
        lic = tx.license(license_id)
        since = lic.updated_at if lic is not None else 0.0
        # BUG: leases held from before the suspension still heartbeat, but no longer count
        return _live_leases(tx, "license_id = ? AND expires_at > ? AND issued_at >= ?", license_id, now, since)


class ForeignHeartbeatExtends(Runtime):
    """A heartbeat or checkin of another license's token is refused, after it extended that lease."""

    def find_lease(self, tx: Tx, license_id: str, token: str) -> Lease | None:
        lease = super().find_lease(tx, license_id, token)
        other = tx.lease(token) if lease is None else None
        now = clock.now()
        if other is not None and self.is_live(other, now):
            owner = tx.license(other.license_id)
            if owner is not None:  # BUG: the extension is written before the owner check refuses
                tx.extend_lease(token, max(other.expires_at, self.deadline(self.policy_of(tx, owner), now)))
        return lease


class KeysWithoutEndpoint(Idempotency):
    """Idempotency records keyed by (license, key): a checkin with a checkout's key meets its record."""

    def lookup(self, tx: Tx, license_id: str, endpoint: str, key: str, now: float) -> IdempotencyRecord | None:
        return super().lookup(tx, license_id, "runtime", key, now)  # BUG: the endpoint is not part of the key

    def remember(self, tx: Tx, license_id: str, endpoint: str, key: str, body: Any, data: Any, now: float) -> None:
        super().remember(tx, license_id, "runtime", key, body, data, now)


class CheckinBodyNotCompared(Idempotency):
    """A checkin key reused for another lease replays the first checkin; that lease is never ended."""

    def refuse_changed_body(self, record: IdempotencyRecord, body: Any) -> None:
        if record.endpoint == "checkin":
            return  # BUG: only checkout bodies are compared
        super().refuse_changed_body(record, body)


class KeysTruncated(Idempotency):
    """Keys are stored in a 64-character column: long keys that differ only at the end collide."""

    def lookup(self, tx: Tx, license_id: str, endpoint: str, key: str, now: float) -> IdempotencyRecord | None:
        return super().lookup(tx, license_id, endpoint, key[:KEPT_CHARACTERS], now)  # BUG: cut short

    def remember(self, tx: Tx, license_id: str, endpoint: str, key: str, body: Any, data: Any, now: float) -> None:
        super().remember(tx, license_id, endpoint, key[:KEPT_CHARACTERS], body, data, now)


class SeatsFromIssueTime(Runtime):
    """The seat count computes each lease's end from its issue time, ignoring heartbeats' extensions."""

    def seats_in_use(self, tx: Tx, license_id: str, now: float) -> int:
        lic = self.find_license(tx, license_id)
        window = self.policy_of(tx, lic).floating_timeout_minutes * self.settings.minute_seconds
        # BUG: issued_at + timeout, not the stored (extended) expires_at
        return _live_leases(tx, "license_id = ? AND expires_at > ? AND issued_at + ? > ?", license_id, now, window, now)


class DeviceLeaseAcrossLicenses(Runtime):
    """A device's held lease is looked up by its fingerprint alone, on any license."""

    def held_lease(self, tx: Tx, license_id: str, identity: str, now: float) -> Lease | None:
        if self.behaviour.same_identity == "new_seat":
            return None
        row = tx.conn.execute(  # BUG: no `license_id = ?`
            "SELECT token FROM leases WHERE identity = ? AND ended_at IS NULL AND expires_at > ? ORDER BY issued_at",
            (identity, now),
        ).fetchone()
        return tx.lease(row[0]) if row else None


class CheckinEndsDeviceEverywhere(Runtime):
    """A checkin ends every live lease of the device, under every license (a device table without license)."""

    def end_lease(self, tx: Tx, lease: Lease, now: float) -> Lease:
        ended = super().end_lease(tx, lease, now)
        tx.conn.execute(  # BUG: the device's leases under other licenses end too
            "UPDATE leases SET ended_at = ?, end_reason = 'checked_in' WHERE identity = ? AND ended_at IS NULL",
            (now, lease.identity),
        )
        return ended


class StaleCheckinEndsCurrent(Runtime):
    """A checkin of an ended or expired token falls back to the device's current lease and ends it."""

    def release_lease(self, tx: Tx, license_id: str, token: str, now: float) -> dict[str, Any]:
        self.reclaim_expired(tx, license_id, now)
        lease = self.find_lease(tx, license_id, token)
        if lease is not None and not self.is_live(lease, now):
            current = tx.live_lease_for_identity(license_id, lease.identity, now)
            if current is not None:
                token = current.token  # BUG: "the device checks in", whichever lease the token named
        return super().release_lease(tx, license_id, token, now)


class FingerprintTruncated(Runtime):
    """Fingerprints are kept to 64 characters: devices whose long fingerprints share a prefix are one device."""

    def grant_lease(self, tx: Tx, license_id: str, identity: str, now: float) -> dict[str, Any]:
        return super().grant_lease(tx, license_id, identity[:KEPT_CHARACTERS], now)  # BUG: cut short


class HeartbeatClockAhead(Runtime):
    """The heartbeat judges liveness on a clock that runs ahead (another host's, or local time as UTC)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._in_heartbeat = threading.local()

    def heartbeat(self, license_id: str, token: str) -> Answer:
        self._in_heartbeat.value = True
        try:
            return super().heartbeat(license_id, token)
        finally:
            self._in_heartbeat.value = False

    def is_live(self, lease: Lease, now: float) -> bool:
        if getattr(self._in_heartbeat, "value", False):
            now += CLOCK_AHEAD_MINUTES * self.settings.minute_seconds  # BUG: the wrong clock
        return super().is_live(lease, now)
