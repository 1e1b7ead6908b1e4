"""Checkout, heartbeat and checkin: each one SQLite write transaction.

The steps are small public methods on purpose: the seat check, the expiry
test, the lease deadline and the lease lookup are the places where real
servers have shipped bugs, and where the fault gallery (`leasecheck.gallery`,
which this server never imports) subclasses `Runtime` and overrides one step
by name to prove the suite catches the bug. Every method that reads seats
runs inside `Store.write()`, so the count and the insert that follows cannot
interleave with another process.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from typing import Any

from . import clock
from .errors import (
    FLOATING_NOT_ENABLED,
    LEASE_NOT_ACTIVE,
    LICENSE_EXPIRED,
    LICENSE_INACTIVE,
    ApiError,
    lease_not_found,
    unauthorized,
)
from .idempotency import Answer, Idempotency
from .settings import Settings
from .store import Lease, License, Policy, Store, Tx
from .validation import binding_identity, policy_features

PRUNE_EVERY_SECONDS = 600.0
#: Keys remembered by `Runtime.authenticate` before it starts over (a bound on memory).
KNOWN_KEYS_MAX = 10_000


def new_lease_token() -> str:
    """`llt_` and 192 random bits (32 characters); the gallery's variants issue other
    lengths (the facts leave a token's length open)."""
    return "llt_" + secrets.token_urlsafe(24)


def key_hash(license_key: str) -> str:
    return hashlib.sha256(license_key.encode("utf-8")).hexdigest()


def device_id(license_id: str, identity: str) -> str:
    """Stable per license and binding identity, without storing a device table."""
    return "dev_" + hashlib.sha256(f"{license_id}\x00{identity}".encode()).hexdigest()[:24]


def effective_status(lic: License, now: float) -> str:
    if lic.status == "active" and lic.expires_at is not None and lic.expires_at <= now:
        return "expired"
    return lic.status


class Runtime:
    """The floating-lease runtime surface over one store."""

    def __init__(self, store: Store, settings: Settings, idempotency: Idempotency | None = None) -> None:
        self.store = store
        self.settings = settings
        self.behaviour = settings.behaviour
        self.idempotency = idempotency or Idempotency.from_settings(settings)
        self._next_prune = 0.0
        self._known_keys: dict[str, License] = {}

    # ------------------------------------------------------------------ operations
    def authenticate(self, license_key: str) -> License:
        """The license a key belongs to, or 401.

        A key once found is remembered: a license is never deleted and its key
        never changes, so the answer cannot go stale, and the handlers take only
        the license's id from it (every operation reads the license again inside
        its own transaction, status included). An unknown key is never
        remembered: it may belong to a license created a moment later.
        """
        digest = key_hash(license_key)
        lic = self._known_keys.get(digest)
        if lic is not None:
            return lic
        with self.store.read() as tx:
            lic = tx.license_by_key_hash(digest)
        if lic is None:
            raise unauthorized("unknown license key")
        if len(self._known_keys) >= KNOWN_KEYS_MAX:
            self._known_keys.clear()
        self._known_keys[digest] = lic
        return lic

    def known_license(self, license_key: str) -> License | None:
        """The license of a key `authenticate` has found before, without touching the store."""
        return self._known_keys.get(key_hash(license_key))

    def checkout(self, license_id: str, key: str, body: dict[str, Any]) -> Answer:
        identity = binding_identity(body)
        with self.idempotency.in_flight(license_id, "checkout", key), self.store.write() as tx:
            now = clock.now()
            self.housekeeping(tx, now)
            return self.idempotency.run(
                tx,
                license_id=license_id,
                endpoint="checkout",
                key=key,
                body=body,
                now=now,
                work=lambda: self.grant_lease(tx, license_id, identity, now),
            )

    def heartbeat(self, license_id: str, token: str) -> Answer:
        with self.store.write() as tx:
            now = clock.now()
            lic, policy = self.usable_license(tx, license_id, now)
            self.reclaim_expired(tx, license_id, now)
            lease = self.find_lease(tx, license_id, token)
            if lease is None:
                raise self.dead_lease()
            if self.is_live(lease, now):
                lease = self.extend(tx, lease, policy, now)
            else:
                lease = self.revive_or_refuse(tx, lease, policy, now)
            return Answer(self.lease_data(lic, policy, lease, now, with_token=False))

    def checkin(self, license_id: str, key: str, body: dict[str, Any]) -> Answer:
        with self.idempotency.in_flight(license_id, "checkin", key), self.store.write() as tx:
            now = clock.now()
            return self.idempotency.run(
                tx,
                license_id=license_id,
                endpoint="checkin",
                key=key,
                body=body,
                now=now,
                work=lambda: self.release_lease(tx, license_id, body["lease_token"], now),
            )

    # ------------------------------------------------------------------ steps
    def housekeeping(self, tx: Tx, now: float) -> None:
        """Now and then, forget idempotency records and ended leases past the retention."""
        if now >= self._next_prune:
            tx.prune(now, self.settings.idempotency_ttl_seconds)
            self._next_prune = now + PRUNE_EVERY_SECONDS

    def grant_lease(self, tx: Tx, license_id: str, identity: str, now: float) -> dict[str, Any]:
        """Checkout's work: extend the lease this identity holds (CAP-06) or allocate a free seat."""
        lic, policy = self.usable_license(tx, license_id, now)
        seats = self.seats(policy)
        self.reclaim_expired(tx, license_id, now)
        held = self.held_lease(tx, license_id, identity, now)
        if held is not None:
            lease = self.extend(tx, held, policy, now)
        else:
            lease = self.allocate_seat(tx, lic, policy, identity, seats, now)
        return self.lease_data(lic, policy, lease, now, with_token=True)

    def release_lease(self, tx: Tx, license_id: str, token: str, now: float) -> dict[str, Any]:
        """Checkin's work: end a live lease of this license and answer its final view (LIFE-03, CHK-03)."""
        lic = self.find_license(tx, license_id)
        policy = self.policy_of(tx, lic)
        self.reclaim_expired(tx, license_id, now)
        lease = self.find_lease(tx, license_id, token)
        if lease is not None and not self.is_live(lease, now) and self.behaviour.checkin_ended == "no_op":
            return self.lease_data(lic, policy, lease, now, with_token=False)  # already ended: frees nothing
        if lease is None or not self.is_live(lease, now):
            raise self.dead_lease()
        ended = self.end_lease(tx, lease, now)
        return self.lease_data(lic, policy, ended, now, with_token=False)

    def find_license(self, tx: Tx, license_id: str) -> License:
        """The authenticated license, read again inside this transaction (it may have changed since)."""
        lic = tx.license(license_id)
        if lic is None:
            raise unauthorized("unknown license key")
        return lic

    def policy_of(self, tx: Tx, lic: License) -> Policy:
        """The policy a license's floating seats and timeout come from."""
        policy = tx.policy(lic.policy_id)
        if policy is None:  # the schema's foreign key makes this unreachable
            raise RuntimeError(f"license {lic.id} has no policy")
        return policy

    def usable_license(self, tx: Tx, license_id: str, now: float) -> tuple[License, Policy]:
        """The license and its policy, refused unless the license may hold leases now (STAT-01)."""
        lic = self.find_license(tx, license_id)
        self.check_license_state(lic, now)
        return lic, self.policy_of(tx, lic)

    def check_license_state(self, lic: License, now: float) -> None:
        """Suspended, revoked or not-yet-started -> 403 LICENSE_INACTIVE; past expires_at -> LICENSE_EXPIRED."""
        if lic.status in ("suspended", "revoked"):
            raise ApiError(403, LICENSE_INACTIVE, f"the license is {lic.status}")
        if lic.starts_at is not None and lic.starts_at > now:
            raise ApiError(403, LICENSE_INACTIVE, "the license has not started yet")
        if lic.expires_at is not None and lic.expires_at <= now:
            raise ApiError(403, LICENSE_EXPIRED, "the license has expired")

    def seats(self, policy: Policy) -> int:
        """The policy's floating seats; a policy with none (or 0) grants no lease (CAP-05)."""
        if not policy.max_floating_users:
            raise ApiError(403, FLOATING_NOT_ENABLED, "the license's policy grants no floating seats")
        return policy.max_floating_users

    def is_live(self, lease: Lease, now: float) -> bool:
        """A lease holds its seat until, not at, its lease_expires_at."""
        return lease.ended_at is None and lease.expires_at > now

    def seats_in_use(self, tx: Tx, license_id: str, now: float) -> int:
        """Leases of this license that hold a seat now (the count the seat check compares)."""
        return tx.count_live_leases(license_id, now)

    def find_lease(self, tx: Tx, license_id: str, token: str) -> Lease | None:
        """The lease with this token, only under its own license (AUTH-02)."""
        lease = tx.lease(token)
        return lease if lease is not None and lease.license_id == license_id else None

    def reclaim_expired(self, tx: Tx, license_id: str, now: float) -> None:
        """Lazy reaping: end this license's leases whose expiry has passed (EXP-01)."""
        tx.end_expired_leases(license_id, now)

    def deadline(self, policy: Policy, now: float) -> float:
        """When a lease granted or extended now expires: the policy's timeout from now (TIME-01)."""
        return clock.later(now, policy.floating_timeout_minutes * self.settings.minute_seconds)

    def held_lease(self, tx: Tx, license_id: str, identity: str, now: float) -> Lease | None:
        """The live lease this binding identity already holds, which a new checkout extends (CAP-06)."""
        if self.behaviour.same_identity == "new_seat":
            return None
        return tx.live_lease_for_identity(license_id, identity, now)

    def allocate_seat(self, tx: Tx, lic: License, policy: Policy, identity: str, seats: int, now: float) -> Lease:
        """A new lease in a free seat, or the over-capacity refusal when none is free (CAP-02, CAP-04)."""
        if self.seats_in_use(tx, lic.id, now) >= seats:
            raise self.over_capacity(seats)
        lease = Lease(
            token=self.new_token(),
            license_id=lic.id,
            device_id=device_id(lic.id, identity),
            identity=identity,
            issued_at=now,
            expires_at=self.deadline(policy, now),
        )
        tx.insert_lease(lease)
        return lease

    def over_capacity(self, seats: int) -> ApiError:
        """The refusal of a checkout when every seat is held: 409 (or the variant's 403), never retryable (CAP-02)."""
        return ApiError(
            self.behaviour.over_capacity_status,
            self.behaviour.over_capacity_code,
            f"every floating seat of this license is in use ({seats} of {seats})",
        )

    def new_token(self) -> str:
        """A fresh lease token: a bearer credential, so unguessable (LIFE-06)."""
        return new_lease_token()

    def dead_lease(self) -> ApiError:
        """The refusal of a heartbeat or checkin whose lease is unknown, expired, checked in or
        another license's: one answer for all, so that a token's fate is not revealed; 404 by
        default, 409 or 422 as the variant chooses (CHK-03, LIFE-03, EXP-03)."""
        status = self.behaviour.dead_lease_status
        return (
            lease_not_found()
            if status == 404
            else ApiError(status, LEASE_NOT_ACTIVE, "no live lease with this lease_token for this license")
        )

    def extend(self, tx: Tx, lease: Lease, policy: Policy, now: float) -> Lease:
        """A heartbeat (or a repeated checkout) moves the expiry to a full timeout from now (TIME-03)."""
        expires_at = max(lease.expires_at, self.deadline(policy, now))  # never shortens (TIME-02)
        tx.extend_lease(lease.token, expires_at)
        return Lease(lease.token, lease.license_id, lease.device_id, lease.identity, lease.issued_at, expires_at)

    def end_lease(self, tx: Tx, lease: Lease, now: float) -> Lease:
        """End a lease now, freeing its seat for the next checkout (LIFE-03). The answer's
        lease_expires_at is the end, or (a variant) the expiry the lease had: the facts leave it open."""
        tx.end_lease(lease.token, now, "checked_in")
        expires_at = lease.expires_at if self.behaviour.checkin_expiry == "held" else now
        return replace(lease, expires_at=expires_at, ended_at=now, end_reason="checked_in")

    def revive_or_refuse(self, tx: Tx, lease: Lease, policy: Policy, now: float) -> Lease:
        """An expired lease is dead (404) unless the variant revives it into a free seat (EXP-04)."""
        if (
            self.behaviour.revive_expired_when_free
            and lease.end_reason == "expired"
            and self.seats_in_use(tx, lease.license_id, now) < (policy.max_floating_users or 0)
        ):
            expires_at = self.deadline(policy, now)
            tx.revive_lease(lease.token, expires_at)
            return Lease(lease.token, lease.license_id, lease.device_id, lease.identity, lease.issued_at, expires_at)
        raise self.dead_lease()

    # ------------------------------------------------------------------ answers
    def lease_data(self, lic: License, policy: Policy, lease: Lease, now: float, *, with_token: bool) -> dict[str, Any]:
        """Signed `data`, in the key order specs/README.md gives."""
        style = self.behaviour.timestamp_style
        data: dict[str, Any] = {
            "license_id": lic.id,
            "status": effective_status(lic, now),
            "license_type": policy.license_type,
            "entitlement_version": lic.entitlement_version,
            "issued_at": clock.rfc3339(now, style),
        }
        if lic.expires_at is not None:
            data["expires_at"] = clock.rfc3339(lic.expires_at, style)
        data["device_id"] = lease.device_id
        if with_token:
            data["lease_token"] = lease.token
        data["lease_expires_at"] = clock.rfc3339(lease.expires_at, style)
        data["features"] = policy_features(policy.metadata)
        if self.behaviour.extra_fields:  # fields beyond the contract's: the SDKs ignore them
            data["seats_max"] = policy.max_floating_users
            data["lease"] = {"ended": lease.ended_at is not None, "timeout_minutes": policy.floating_timeout_minutes}
        return data
