"""Honest variants: the reference server making another accepted choice.

Where the catalogue accepts several answers (403 or 409 for a full pool,
409 or 422 for a reused key, ...), a variant picks another one than the
default, through the server's own `Behaviour`: no step is overridden, no
warning is printed. The suite must pass every variant; the matrix proves it.
"""

from __future__ import annotations

from dataclasses import dataclass

from leasecheck.reference_server.settings import Behaviour

#: The policy-minute length the gallery's servers use.
MINUTE_SECONDS = 1.0


@dataclass(frozen=True)
class Variant:
    name: str
    behaviour: Behaviour
    note: str  # what it chooses differently from the default (for the report)
    minute_seconds: float = MINUTE_SECONDS  # some choices need longer minutes for the suite's tolerances


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("default", Behaviour(), "the reference server's own choices (specs/README.md)"),
        # CAP-02 403 with LicenseKit's documented code; IDEM-05 409 (Stripe's answer).
        Variant(
            "status-403",
            Behaviour(
                over_capacity_status=403,
                over_capacity_code="ACTIVATION_LIMIT_EXCEEDED",
                idempotency_conflict_status=409,
            ),
            "403 ACTIVATION_LIMIT_EXCEEDED over capacity (CAP-02); 409 for a reused key (IDEM-05)",
        ),
        Variant(
            "new-seat-per-fingerprint",
            Behaviour(same_identity="new_seat"),
            "a fingerprint that holds a lease takes another seat on a new checkout (CAP-06)",
        ),
        Variant(
            "revive-when-free",
            Behaviour(revive_expired_when_free=True),
            "a heartbeat revives an expired lease while a seat is free (EXP-04)",
        ),
        # Whole seconds blur every instant by up to one: minutes of 3 s keep the suite's tolerances.
        Variant(
            "offset-timestamps",
            Behaviour(timestamp_style="offset_seconds"),
            "timestamps as `+00:00` with whole seconds (TIME-05), 3-second minutes",
            minute_seconds=3.0,
        ),
        # Codes only SHOULD rules judge: CAP-03 still names the seat; IDEM-06 wants
        # IDEMPOTENCY_CONFLICT, so this variant earns a warning, never a failure.
        Variant(
            "codes-alt",
            Behaviour(over_capacity_code="NO_FREE_SEAT", idempotency_conflict_code="IDEMPOTENCY_KEY_REUSED"),
            "codes NO_FREE_SEAT and IDEMPOTENCY_KEY_REUSED where only SHOULD rules judge codes",
        ),
    )
}
