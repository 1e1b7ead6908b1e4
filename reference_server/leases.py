"""Checkout, heartbeat and checkin: each one SQLite write transaction.

The steps are small methods on purpose: the seat check, the expiry test,
the lease deadline and the idempotency lookup are the places where real
servers have shipped bugs, and where the fault gallery (faults.py) overrides
one of them by name to prove the suite catches the bug. Every method that
reads seats runs inside `Store.write()`, so the count and the insert that
follows cannot interleave with another process.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from . import clock
from .errors import (
    FLOATING_NOT_ENABLED,
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


def new_lease_token() -> str:
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

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.behaviour = settings.behaviour
        self.idempotency = Idempotency(
            settings.idempotency_ttl_seconds,
            settings.behaviour.idempotency_conflict_status,
            settings.behaviour.idempotency_conflict_code,
        )
        self._next_prune = 0.0

    # ------------------------------------------------------------------ operations
    def authenticate(self, license_key: str) -> License:
        with self.store.read() as tx:
            lic = tx.license_by_key_hash(key_hash(license_key))
        if lic is None:
            raise unauthorized("unknown license key")
        return lic

    def checkout(self, license_id: str, key: str, body: dict[str, Any]) -> Answer:
        identity = binding_identity(body)
        with self.store.write() as tx:
            now = clock.now()
            self.housekeeping(tx, now)
            return self.idempotency.run(
                tx,
                license_id=license_id,
                endpoint="checkout",
                key=key,
                body=body,
                now=now,
                work=lambda: self._grant(tx, license_id, identity, now),
            )

    def heartbeat(self, license_id: str, token: str) -> Answer:
        with self.store.write() as tx:
            now = clock.now()
            lic, policy = self._usable_license(tx, license_id, now)
            self.reclaim_expired(tx, license_id, now)
            lease = self.find_lease(tx, license_id, token)
            if lease is None:
                raise lease_not_found()
            if self.is_live(lease, now):
                lease = self.extend(tx, lease, policy, now)
            else:
                lease = self.revive_or_refuse(tx, lease, policy, now)
            return Answer(self.lease_data(lic, policy, lease, now, with_token=False))

    def checkin(self, license_id: str, key: str, body: dict[str, Any]) -> Answer:
        with self.store.write() as tx:
            now = clock.now()
            return self.idempotency.run(
                tx,
                license_id=license_id,
                endpoint="checkin",
                key=key,
                body=body,
                now=now,
                work=lambda: self._release(tx, license_id, body["lease_token"], now),
            )

    # ------------------------------------------------------------------ steps
    def housekeeping(self, tx: Tx, now: float) -> None:
        """Now and then, forget idempotency records and ended leases past the retention."""
        if now >= self._next_prune:
            tx.prune(now, self.settings.idempotency_ttl_seconds)
            self._next_prune = now + PRUNE_EVERY_SECONDS

    def _grant(self, tx: Tx, license_id: str, identity: str, now: float) -> dict[str, Any]:
        lic, policy = self._usable_license(tx, license_id, now)
        seats = self.seats(policy)
        self.reclaim_expired(tx, license_id, now)
        held = self.held_lease(tx, license_id, identity, now)
        if held is not None:
            lease = self.extend(tx, held, policy, now)
        else:
            lease = self.allocate_seat(tx, lic, policy, identity, seats, now)
        return self.lease_data(lic, policy, lease, now, with_token=True)

    def _release(self, tx: Tx, license_id: str, token: str, now: float) -> dict[str, Any]:
        lic = self._license(tx, license_id)
        policy = self._policy(tx, lic)
        self.reclaim_expired(tx, license_id, now)
        lease = self.find_lease(tx, license_id, token)
        if lease is None or not self.is_live(lease, now):
            raise lease_not_found()
        tx.end_lease(lease.token, now, "checked_in")
        ended = Lease(
            lease.token,
            lease.license_id,
            lease.device_id,
            lease.identity,
            lease.issued_at,
            expires_at=now,
            ended_at=now,
            end_reason="checked_in",
        )
        return self.lease_data(lic, policy, ended, now, with_token=False)

    def _license(self, tx: Tx, license_id: str) -> License:
        lic = tx.license(license_id)
        if lic is None:
            raise unauthorized("unknown license key")
        return lic

    def _policy(self, tx: Tx, lic: License) -> Policy:
        policy = tx.policy(lic.policy_id)
        if policy is None:  # the schema's foreign key makes this unreachable
            raise RuntimeError(f"license {lic.id} has no policy")
        return policy

    def _usable_license(self, tx: Tx, license_id: str, now: float) -> tuple[License, Policy]:
        lic = self._license(tx, license_id)
        self.check_license_state(lic, now)
        return lic, self._policy(tx, lic)

    def check_license_state(self, lic: License, now: float) -> None:
        """Suspended, revoked or not-yet-started -> 403 LICENSE_INACTIVE; past expires_at -> LICENSE_EXPIRED."""
        if lic.status in ("suspended", "revoked"):
            raise ApiError(403, LICENSE_INACTIVE, f"the license is {lic.status}")
        if lic.starts_at is not None and lic.starts_at > now:
            raise ApiError(403, LICENSE_INACTIVE, "the license has not started yet")
        if lic.expires_at is not None and lic.expires_at <= now:
            raise ApiError(403, LICENSE_EXPIRED, "the license has expired")

    def seats(self, policy: Policy) -> int:
        if not policy.max_floating_users:
            raise ApiError(403, FLOATING_NOT_ENABLED, "the license's policy grants no floating seats")
        return policy.max_floating_users

    def is_live(self, lease: Lease, now: float) -> bool:
        """A lease holds its seat until, not at, its lease_expires_at."""
        return lease.ended_at is None and lease.expires_at > now

    def seats_in_use(self, tx: Tx, license_id: str, now: float) -> int:
        return tx.count_live_leases(license_id, now)

    def find_lease(self, tx: Tx, license_id: str, token: str) -> Lease | None:
        """The lease with this token, only under its own license (AUTH-02)."""
        return tx.lease(license_id, token)

    def reclaim_expired(self, tx: Tx, license_id: str, now: float) -> None:
        tx.end_expired_leases(license_id, now)

    def deadline(self, policy: Policy, now: float) -> float:
        return clock.later(now, policy.floating_timeout_minutes * self.settings.minute_seconds)

    def held_lease(self, tx: Tx, license_id: str, identity: str, now: float) -> Lease | None:
        """The live lease this binding identity already holds, which a new checkout extends (CAP-06)."""
        if self.behaviour.same_identity == "new_seat":
            return None
        return tx.live_lease_for_identity(license_id, identity, now)

    def allocate_seat(self, tx: Tx, lic: License, policy: Policy, identity: str, seats: int, now: float) -> Lease:
        if self.seats_in_use(tx, lic.id, now) >= seats:
            raise ApiError(
                self.behaviour.over_capacity_status,
                self.behaviour.over_capacity_code,
                f"every floating seat of this license is in use ({seats} of {seats})",
            )
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

    def new_token(self) -> str:
        return new_lease_token()

    def extend(self, tx: Tx, lease: Lease, policy: Policy, now: float) -> Lease:
        expires_at = max(lease.expires_at, self.deadline(policy, now))  # never shortens (TIME-02)
        tx.extend_lease(lease.token, expires_at)
        return Lease(lease.token, lease.license_id, lease.device_id, lease.identity, lease.issued_at, expires_at)

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
        raise lease_not_found()

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
        return data
