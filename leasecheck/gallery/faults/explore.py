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
from leasecheck.reference_server.store import IdempotencyRecord, Lease, License, Policy, Tx

from . import bug

#: How many characters of a fingerprint or an Idempotency-Key the truncating faults keep
#: (a VARCHAR(64) column, or an index on a prefix).
KEPT_CHARACTERS = 64


def _live_leases(tx: Tx, where: str, *args: Any) -> int:
    row = tx.conn.execute(f"SELECT COUNT(*) FROM leases WHERE ended_at IS NULL AND {where}", args).fetchone()
    return int(row[0])


@bug("checkin-key-body-not-compared", "EXPL-01")
class CheckinBodyNotCompared(Idempotency):
    """Only checkout bodies are compared with the stored record: a checkin key reused for another lease replays the
    first checkin, and the second lease is never ended.

    Missed by IDEM-05 (it reuses checkout keys only) and IDEM-10 (same body); EXPL-01
    finds key_reuse_accepted: two checkin successes for one key with different bodies.
    """

    def refuse_changed_body(self, record: IdempotencyRecord, body: Any) -> None:
        if record.endpoint == "checkin":
            return  # BUG: only checkout bodies are compared
        super().refuse_changed_body(record, body)


@bug("idempotency-keys-truncated", "EXPL-02")
class KeysTruncated(Idempotency):
    """Idempotency-Keys are stored in a 64-character column: two long keys that differ only at the end collide, and the
    second request is refused as a reused key.

    Missed by every scenario (their keys are short UUIDs); EXPL-02 finds the
    refusal of a fresh key as a reused one (the largest-length keys exploration sends).
    """

    def lookup(self, tx: Tx, license_id: str, endpoint: str, key: str, now: float) -> IdempotencyRecord | None:
        return super().lookup(tx, license_id, endpoint, key[:KEPT_CHARACTERS], now)  # BUG: cut short

    def remember(self, tx: Tx, license_id: str, endpoint: str, key: str, body: Any, data: Any, now: float) -> None:
        super().remember(tx, license_id, endpoint, key[:KEPT_CHARACTERS], body, data, now)


@bug("fingerprint-truncated", "EXPL-01")
class FingerprintTruncated(Runtime):
    """Fingerprints are kept to 64 characters, so two devices whose long fingerprints share a prefix are one device and
    the second gets the first's lease.

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


@bug("reconnect-revives-checked-in", "EXPL-01")
class ReconnectRevivesCheckedIn(ReconnectRevives):
    """A device checking out again after its checkin gets the checked-in lease_token back, revived, so a token its
    holder gave up is live again.

    Missed by CAP-06 (live leases only), LIFE-03 (a heartbeat after checkin) and IDEM-09 (a
    replay with the old key); EXPL-01 finds the lease its checkin certainly ended accepted again.
    """

    revives = "checked_in"


@bug("checkout-ends-device-elsewhere", "EXPL-01", "EXPL-02", any_of=True)
class CheckoutEndsDeviceElsewhere(Runtime):
    """A device's checkout under one license ends its live leases under every other license, so those leases' heartbeats
    and checkins are refused before their lease_expires_at and their seats given away.

    One device, one seat vendor-wide: a lease table keyed by fingerprint alone.
    Missed by AUTH-02 (it uses another license's token, not its device) and CAP-06
    (one license); EXPL-02 finds a heartbeat or checkin of a certainly live lease refused
    (checkin_refused), or EXPL-01 the ended lease's seat given to another device (over_grant),
    whichever the drawing reaches first.
    """

    def allocate_seat(self, tx: Tx, lic: License, policy: Policy, identity: str, seats: int, now: float) -> Lease:
        lease = super().allocate_seat(tx, lic, policy, identity, seats, now)
        tx.conn.execute(  # BUG: the device's leases of other licenses are taken away
            "UPDATE leases SET ended_at = ?, end_reason = 'checked_in' "
            "WHERE identity = ? AND license_id != ? AND ended_at IS NULL",
            (now, identity, lic.id),
        )
        return lease


#: The longest key the faulty cache stores (memcached's limit on a key, in bytes).
CACHE_KEY_LIMIT = 250


@bug("long-keys-not-remembered", "EXPL-01")
class LongKeysNotRemembered(Idempotency):
    """Idempotency-Keys longer than a cache's 250-byte key limit are silently not stored, so a replay of one is done
    again and answers another lease once the first has ended.

    memcached refuses keys over 250 bytes and a client that ignores the error
    remembers nothing. Missed by every replay scenario (their keys are short
    UUIDs); EXPL-01 finds a replay answered with another lease once the first had ended
    (replay_mismatch).
    """

    def remember(self, tx: Tx, license_id: str, endpoint: str, key: str, body: Any, data: Any, now: float) -> None:
        if len(key.encode("utf-8")) > CACHE_KEY_LIMIT:
            return  # BUG: the cache's refusal of a long key is ignored
        super().remember(tx, license_id, endpoint, key, body, data, now)


@bug("keys-scoped-to-license-version", "EXPL-01")
class KeysScopedToLicenseVersion(Idempotency):
    """Stored answers are keyed by the license's entitlement_version, which a suspend or reinstate bumps, so a replay
    after a status change is done again and answers another lease.

    A cache namespace per license version: a suspend and reinstate forget every
    key. Missed by the replay scenarios (no status change between a request and
    its replay) and STAT-01/02 (no replay); EXPL-01 finds a key answered twice
    (key_reuse_accepted: the second use, after a status change, done again).
    """

    def versioned(self, tx: Tx, license_id: str) -> str:
        lic = tx.license(license_id)
        return license_id if lic is None else f"{license_id}@{lic.entitlement_version}"  # BUG: not the license alone

    def lookup(self, tx: Tx, license_id: str, endpoint: str, key: str, now: float) -> IdempotencyRecord | None:
        return super().lookup(tx, self.versioned(tx, license_id), endpoint, key, now)

    def remember(self, tx: Tx, license_id: str, endpoint: str, key: str, body: Any, data: Any, now: float) -> None:
        super().remember(tx, self.versioned(tx, license_id), endpoint, key, body, data, now)


#: The other runtime endpoint that takes an Idempotency-Key.
OTHER_ENDPOINT = {"checkout": "checkin", "checkin": "checkout"}


@bug("keys-replayed-across-endpoints", "EXPL-01")
class KeysAcrossEndpoints(Idempotency):
    """Stored answers are looked up by license and key alone, so a checkin sent with a checkout's key replays that
    checkout's answer and ends nothing.

    Records are looked up by (license, key) and bodies compared only within one
    endpoint. Missed by the replay and key-reuse scenarios (each stays on one
    endpoint); EXPL-01 finds a checkout with a checkin's key answered success where
    no order explains it (the checkin's stored answer, e.g. inactive_license_granted after
    a revoke), and ENV-01 the replayed answer without a lease_token.
    """

    def lookup(self, tx: Tx, license_id: str, endpoint: str, key: str, now: float) -> IdempotencyRecord | None:
        own = super().lookup(tx, license_id, endpoint, key, now)
        return own or super().lookup(tx, license_id, OTHER_ENDPOINT[endpoint], key, now)  # BUG: any endpoint

    def refuse_changed_body(self, record: IdempotencyRecord, body: Any) -> None:
        if record.endpoint == _endpoint_of(body):  # BUG: another endpoint's record is replayed unchecked
            super().refuse_changed_body(record, body)


def _endpoint_of(body: Any) -> str:
    """Which endpoint a runtime body was sent to (a checkin's body names its lease)."""
    return "checkin" if isinstance(body, dict) and "lease_token" in body else "checkout"


@bug("seats-counted-since-status-change", "EXPL-01")
class SeatsCountedSinceStatusChange(Runtime):
    """The seats-in-use count starts again at a suspend or reinstate, so leases held through a suspension hold no seat
    and a refilled pool grants more leases than it has seats.

    A seats-in-use counter reset when a license is re-provisioned on reinstate
    (here: only leases issued since the license's last status change count).
    Missed by STAT-02 (one checkout after reinstate, seats to spare) and the
    capacity scenarios (no status change); EXPL-01 finds more leases held than
    seats (over_grant) once a pool filled before a suspension is filled again after
    the reinstate.
    """

    def seats_in_use(self, tx: Tx, license_id: str, now: float) -> int:
        lic = tx.license(license_id)
        since = lic.updated_at if lic is not None else 0.0
        # BUG: the leases issued before the last status change are forgotten
        return _live_leases(tx, "license_id = ? AND expires_at > ? AND issued_at >= ?", license_id, now, since)
