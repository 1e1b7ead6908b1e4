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

from typing import Any

from leasecheck.reference_server.idempotency import Idempotency
from leasecheck.reference_server.leases import Runtime
from leasecheck.reference_server.store import IdempotencyRecord, Lease, Tx

#: How many characters of a fingerprint or an Idempotency-Key the truncating faults keep
#: (a VARCHAR(64) column, or an index on a prefix).
KEPT_CHARACTERS = 64


def _live_leases(tx: Tx, where: str, *args: Any) -> int:
    row = tx.conn.execute(f"SELECT COUNT(*) FROM leases WHERE ended_at IS NULL AND {where}", args).fetchone()
    return int(row[0])


class CheckinKeysGlobal(Idempotency):
    """Checkin records are kept in one space for every license (checkout's are scoped right)."""

    def _scoped(self, license_id: str, endpoint: str) -> str:
        return "*" if endpoint == "checkin" else license_id  # BUG: checkin keys are not scoped to the license

    def lookup(self, tx: Tx, license_id: str, endpoint: str, key: str, now: float) -> IdempotencyRecord | None:
        return super().lookup(tx, self._scoped(license_id, endpoint), endpoint, key, now)

    def remember(self, tx: Tx, license_id: str, endpoint: str, key: str, body: Any, data: Any, now: float) -> None:
        super().remember(tx, self._scoped(license_id, endpoint), endpoint, key, body, data, now)


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


class CheckinEndsDeviceEverywhere(Runtime):
    """A checkin ends every live lease of the device, under every license (a device table without license)."""

    def end_lease(self, tx: Tx, lease: Lease, now: float) -> Lease:
        ended = super().end_lease(tx, lease, now)
        tx.conn.execute(  # BUG: the device's leases under other licenses end too
            "UPDATE leases SET ended_at = ?, end_reason = 'checked_in' WHERE identity = ? AND ended_at IS NULL",
            (now, lease.identity),
        )
        return ended


class FingerprintTruncated(Runtime):
    """Fingerprints are kept to 64 characters: devices whose long fingerprints share a prefix are one device."""

    def grant_lease(self, tx: Tx, license_id: str, identity: str, now: float) -> dict[str, Any]:
        return super().grant_lease(tx, license_id, identity[:KEPT_CHARACTERS], now)  # BUG: cut short
