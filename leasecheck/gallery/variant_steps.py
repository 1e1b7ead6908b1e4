"""Honest variants that make their choice in a step of the server, not in its settings.

The reference server issues 32-character lease tokens and lets a duplicate of
an in-flight keyed request wait for the first's stored answer. Other honest
servers issue shorter or longer tokens (the facts leave a token's length
open) or refuse the in-flight duplicate with 409 (the IETF draft's SHOULD):
those choices live here, as subclasses overriding one public step each, the
way `faults/*.py` do, so the reference server carries only its own behaviour.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.requests import Request

from leasecheck.reference_server import clock
from leasecheck.reference_server.app import Api
from leasecheck.reference_server.errors import FLOATING_NOT_ENABLED, IDEMPOTENCY_IN_PROGRESS, ApiError
from leasecheck.reference_server.idempotency import Answer, Idempotency
from leasecheck.reference_server.leases import Runtime
from leasecheck.reference_server.settings import Settings
from leasecheck.reference_server.store import Lease, License, Policy, Tx
from leasecheck.reference_server.validation import Field, Spec

#: ZeroMQ's Z85 alphabet: 85 printable characters, so 128 random bits fit in 20 of them.
Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
#: Characters after `llt_` of a long token (a JWT-sized bearer credential).
LONG_TOKEN_CHARS = 600
#: A server issuing longer tokens must take them back: its own limit, 4 KiB.
LONG_LEASE_TOKEN: Spec = {"lease_token": Field("string", required=True, min_length=1, max_length=4096)}


def z85_token() -> str:
    """`llt_` and 128 random bits in 20 Z85 characters."""
    n = secrets.randbits(128)
    return "llt_" + "".join(Z85[(n // 85**i) % 85] for i in range(20))


def long_token() -> str:
    """`llt_` and 600 URL-safe characters, longer than the spec's 512 for a request's lease_token."""
    return "llt_" + secrets.token_urlsafe(LONG_TOKEN_CHARS)[:LONG_TOKEN_CHARS]


class Z85Tokens(Runtime):
    def new_token(self) -> str:
        return z85_token()


class LongTokens(Runtime):
    def new_token(self) -> str:
        return long_token()


class TakesLongTokens(Api):
    """Heartbeat and checkin bodies may carry the long tokens this server issues."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lease_token_body = LONG_LEASE_TOKEN


class InFlightRefused(Idempotency):
    """A duplicate while the first request with its key runs is answered 409, in this worker process."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_flight: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()

    @contextmanager
    def in_flight(self, license_id: str, endpoint: str, key: str) -> Iterator[None]:
        slot = (self.scope(license_id), endpoint, key)
        with self._lock:
            busy = slot in self._in_flight
            self._in_flight.add(slot)
        if busy:
            raise self.refusal()
        try:
            yield
        finally:
            with self._lock:
                self._in_flight.discard(slot)

    def refusal(self) -> ApiError:
        return ApiError(409, IDEMPOTENCY_IN_PROGRESS, "a request with this Idempotency-Key is still in flight; retry")


class InFlightRetryLater(InFlightRefused):
    """A duplicate while the first request with its key runs is answered 503 with Retry-After (IDEM-08 accepts a
    request to retry: 429 or 503)."""

    def refusal(self) -> ApiError:
        return ApiError(
            503,
            IDEMPOTENCY_IN_PROGRESS,
            "a request with this Idempotency-Key is still in flight; retry",
            headers={"Retry-After": "1"},
        )


class RevokedIs401(Runtime):
    """A revoked license's key is no longer a credential: 401 LICENSE_REVOKED (STAT-03 accepts 401 or 403; the
    reference says 403)."""

    def check_license_state(self, lic: License, now: float) -> None:
        if lic.status == "revoked":
            raise ApiError(401, "LICENSE_REVOKED", "the license key was revoked")
        super().check_license_state(lic, now)


class NoSeatsIs422(Runtime):
    """A policy with no floating seats refuses a checkout as a business-validation failure, 422 (CAP-05 and
    STAT-05 accept 403, 409 or 422; the reference says 403)."""

    def seats(self, policy: Policy) -> int:
        if not policy.max_floating_users:
            raise ApiError(422, FLOATING_NOT_ENABLED, "the license's policy grants no floating seats")
        return super().seats(policy)


class RefusesHolder(Runtime):
    """A second checkout by an identity that holds a live lease is refused 422 FINGERPRINT_TAKEN
    (Keygen's answer for a machine already activated); CAP-06 accepts it, the facts leave it open."""

    def held_lease(self, tx: Tx, license_id: str, identity: str, now: float) -> Lease | None:
        if tx.live_lease_for_identity(license_id, identity, now) is not None:
            raise ApiError(422, "FINGERPRINT_TAKEN", "this fingerprint already holds a lease of this license")
        return None


class RevivalCountsSeats(Runtime):
    """An expired lease is revived while a seat is free; into a full pool the heartbeat gets
    the over-capacity refusal, the answer a checkout would get (EXP-03, EXP-04)."""

    def revive_or_refuse(self, tx: Tx, lease: Lease, policy: Policy, now: float) -> Lease:
        try:
            return super().revive_or_refuse(tx, lease, policy, now)
        except ApiError:
            if lease.end_reason == "expired":
                raise self.over_capacity(policy.max_floating_users or 0) from None
            raise


class ConflictIs400(Idempotency):
    """A key reused with another body is refused 400 IDEMPOTENCY_CONFLICT (a bad request of the
    client's, the way Stripe answers a changed body); the facts leave the status open."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Idempotency:
        return cls(settings.idempotency_ttl_seconds, 400, settings.behaviour.idempotency_conflict_code)


#: The share of a lease's duration, before lease_expires_at, in which `LateHeartbeatRefused`
#: refuses a heartbeat: the margin the model and TIME-04 leave a server.
LATE_HEARTBEAT_MARGIN = 0.05


class LateHeartbeatRefused(Runtime):
    """A heartbeat in the last 5 % of its lease is refused as a dead lease (too close to call);
    the seat stays held until lease_expires_at, and a checkin still ends it. The facts leave
    open how close to expiry a heartbeat may come; TIME-04 asks only up to 95 %."""

    def heartbeat(self, license_id: str, token: str) -> Answer:
        with self.store.read() as tx:
            lease = self.find_lease(tx, license_id, token)
            lic = tx.license(license_id)
            policy = self.policy_of(tx, lic) if lic is not None else None
        now = clock.now()
        if lease is not None and policy is not None and self.is_live(lease, now):
            duration = policy.floating_timeout_minutes * self.settings.minute_seconds
            if now >= lease.expires_at - LATE_HEARTBEAT_MARGIN * duration:
                raise self.dead_lease()
        return super().heartbeat(license_id, token)


#: `ShortLimits`' own limits: what this spec asks every server to take (COMMON_LENGTH) and a
#: little more, far below the reference server's 255 and 256.
SHORT_KEY_LIMIT, SHORT_FIELD_LIMIT = 64, 128


class ShortLimits(Api):
    """Idempotency-Keys up to 64 characters (longer: 400 IDEMPOTENCY_KEY_TOO_LONG) and binding
    fields up to 128 (longer: 422 FIELD_TOO_LONG): limits of the server's own, which the facts
    allow, refused with errors of its own."""

    #: The refusal of a key beyond `SHORT_KEY_LIMIT`, and of a field beyond `SHORT_FIELD_LIMIT`.
    key_refusal: tuple[int, str] = (400, "IDEMPOTENCY_KEY_TOO_LONG")
    field_refusal: tuple[int, str] = (422, "FIELD_TOO_LONG")

    def idempotency_key(self, request: Request) -> str:
        key = super().idempotency_key(request)
        if len(key) > SHORT_KEY_LIMIT:
            raise ApiError(*self.key_refusal, f"Idempotency-Key is longer than {SHORT_KEY_LIMIT}")
        return key

    def check_fields(self, value: Any, spec: Spec) -> dict[str, Any]:
        fields = super().check_fields(value, spec)
        for name, v in fields.items():
            if name != "lease_token" and isinstance(v, str) and len(v) > SHORT_FIELD_LIMIT:
                raise ApiError(*self.field_refusal, f"{name} is longer than {SHORT_FIELD_LIMIT} characters")
        return fields


class ShortLimitsUncoded(ShortLimits):
    """The same limits, both refused 422 with a numeric code of the server's own (E4220) that
    names nothing a reader of codes knows: the facts fix no code strings."""

    key_refusal = field_refusal = (422, "E4220")
