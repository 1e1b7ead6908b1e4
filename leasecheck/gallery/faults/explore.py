"""Faults in combinations: bugs no single scenario aims at, found by exploration (EXPL-*).

Each shows only when two operations of different kinds meet (a checkin and
a later checkout by the same device, a heartbeat under the wrong license and
the expiry that follows), when one license's traffic touches another's, or
at a boundary of time or size. How we know the scenarios miss each one: the
whole suite without the exploration area, against `leasecheck serve --fault
NAME --minute-seconds 1`, exits 0 with no MUST failure
(`leasecheck conformance --target URL --management-token T -k "not explore"`,
run for every fault here on 2026-12-02); `--only explore` against the same
server fails the requirement its registry entry names (the gallery matrix
runs exactly that).
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


class CheckinBodyNotCompared(Idempotency):
    """A checkin key reused for another lease replays the first checkin; that lease is never ended.

    Missed by IDEM-05 (it reuses checkout keys only) and IDEM-10 (same body); EXPL-01
    finds key_reuse_accepted: two checkin successes for one key with different bodies.
    """

    def refuse_changed_body(self, record: IdempotencyRecord, body: Any) -> None:
        if record.endpoint == "checkin":
            return  # BUG: only checkout bodies are compared
        super().refuse_changed_body(record, body)


class KeysTruncated(Idempotency):
    """Keys are stored in a 64-character column: long keys that differ only at the end collide.

    Missed by every scenario (their keys are short UUIDs); EXPL-02 finds the
    refusal of a fresh key as a reused one (the largest-length keys exploration sends).
    """

    def lookup(self, tx: Tx, license_id: str, endpoint: str, key: str, now: float) -> IdempotencyRecord | None:
        return super().lookup(tx, license_id, endpoint, key[:KEPT_CHARACTERS], now)  # BUG: cut short

    def remember(self, tx: Tx, license_id: str, endpoint: str, key: str, body: Any, data: Any, now: float) -> None:
        super().remember(tx, license_id, endpoint, key[:KEPT_CHARACTERS], body, data, now)


class FingerprintTruncated(Runtime):
    """Fingerprints are kept to 64 characters: devices whose long fingerprints share a prefix are one device.

    Missed by every scenario (fingerprints are short UUIDs) and by the generated
    requests (one checkout each); EXPL-01 finds one lease for two devices.
    """

    def grant_lease(self, tx: Tx, license_id: str, identity: str, now: float) -> dict[str, Any]:
        return super().grant_lease(tx, license_id, identity[:KEPT_CHARACTERS], now)  # BUG: cut short


class ReconnectRevives(Runtime):
    """A device checking out again gets one of its ended leases back, revived without a seat check.

    The base of `ReconnectRevivesCheckedIn`. Reviving *expired* leases (`revives = "expired"`,
    EXPL-01 over_grant) is not in the gallery: exploration found it in only some runs.
    """

    #: The ended leases a reconnect hands back.
    revives = "expired"

    def held_lease(self, tx: Tx, license_id: str, identity: str, now: float) -> Lease | None:
        held = super().held_lease(tx, license_id, identity, now)
        if held is not None or self.behaviour.same_identity == "new_seat":
            return held
        row = tx.conn.execute(  # BUG: the device's expired lease counts as "held"
            "SELECT token FROM leases WHERE license_id = ? AND identity = ? AND end_reason = ? ORDER BY issued_at DESC",
            (license_id, identity, self.revives),
        ).fetchone()
        if row is None:
            return None
        lease = tx.lease(row[0])
        if lease is not None:
            tx.revive_lease(lease.token, now)  # extended by the caller; no look at the pool
        return lease


class ReconnectRevivesCheckedIn(ReconnectRevives):
    """A device checking out again after its checkin gets the checked-in lease back, revived.

    Missed by CAP-06 (live leases only), LIFE-03 (a heartbeat after checkin) and IDEM-09 (a
    replay with the old key); EXPL-01 finds the lease its checkin certainly ended accepted again.
    """

    revives = "checked_in"
