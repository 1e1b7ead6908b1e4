"""Honest variants: the reference server making another accepted choice.

Where the facts are silent (licensekit-floating-facts.md, "Where the sources
are silent") or the catalogue accepts several answers (403 or 409 for a full
pool, 409 or 422 for a reused key, ...), a variant picks another one than the
default, through the server's own `Behaviour` and settings, or, for a choice
the reference server does not make at all, through `Parts` that override one
step (`variant_steps.py`); no warning is printed. The suite must pass every variant with no
MUST failure and no warning the default does not earn too; the matrix proves
it. `silent_points.py` maps every silent point of the facts to the variants
that make each honest choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from leasecheck.reference_server.settings import Behaviour

if TYPE_CHECKING:
    from leasecheck.reference_server.app import Parts

#: The policy-minute length the gallery's servers use.
MINUTE_SECONDS = 1.0

#: Warnings the default server earns on purpose, so every variant may earn them too:
#: SIG-08, because the suite puts non-ASCII feature codes into signed data, which the
#: official Python SDK cannot verify whatever the server does (facts).
DEFAULT_WARNINGS = frozenset({"SIG-08"})


@dataclass(frozen=True)
class Variant:
    name: str
    behaviour: Behaviour
    note: str  # what it chooses differently from the default (for the report)
    minute_seconds: float = MINUTE_SECONDS  # some choices need longer minutes for the suite's tolerances
    settings: dict[str, Any] = field(default_factory=dict)  # Settings fields the choice changes (retention, ...)
    #: Steps the choice overrides: a `Parts` field -> a class of `variant_steps.py`, by name, so
    #: that listing the variants (`--help`) loads no server code.
    steps: dict[str, str] = field(default_factory=dict)

    @property
    def parts(self) -> Parts:
        """The server's parts with this variant's steps in place."""
        from leasecheck.reference_server.app import Parts

        from . import variant_steps

        return Parts(**{part: getattr(variant_steps, name) for part, name in self.steps.items()})


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
        Variant(
            "holder-refused",
            Behaviour(),
            "a second checkout by a fingerprint that holds a lease is refused 422 FINGERPRINT_TAKEN (CAP-06)",
            steps={"runtime": "RefusesHolder"},
        ),
        Variant(
            "revival-counts-seats",
            Behaviour(
                revive_expired_when_free=True, over_capacity_status=403, over_capacity_code="ACTIVATION_LIMIT_EXCEEDED"
            ),
            "a heartbeat revives an expired lease while a seat is free, and into a full pool gets the "
            "over-capacity refusal, 403 (EXP-03, EXP-04)",
            steps={"runtime": "RevivalCountsSeats"},
        ),
        # Whole seconds blur every instant by up to one: minutes of 3 s keep the suite's tolerances.
        Variant(
            "offset-timestamps",
            Behaviour(timestamp_style="offset_seconds"),
            "timestamps as `+00:00` with whole seconds (TIME-05), 3-second minutes",
            minute_seconds=3.0,
        ),
        # The over-capacity code is silent; the key-conflict code is LicenseKit's documented one.
        Variant(
            "codes-alt",
            Behaviour(over_capacity_code="FLOATING_POOL_FULL"),
            "over-capacity code FLOATING_POOL_FULL, which names no limit (the code strings are silent)",
        ),
        Variant(
            "null-as-absent",
            Behaviour(null_fields="absent"),
            "a JSON null in a request field reads as the field not sent (pointer-typed servers); "
            "the default refuses it as a wrong type",
        ),
        Variant(
            "no-replayed-header",
            Behaviour(replayed_header=False),
            "replays carry no Idempotent-Replayed header (the contract has none)",
        ),
        Variant(
            "replay-stored-bytes",
            Behaviour(replayed_header=False, replay_meta="stored"),
            "a replay is the stored bytes: the first answer's meta.request_id and meta.timestamp, no header",
        ),
        Variant(
            "dead-lease-409",
            Behaviour(dead_lease_status=409),
            "409 LEASE_NOT_ACTIVE for an unknown, expired or ended lease (404 by default)",
        ),
        Variant(
            "dead-lease-422",
            Behaviour(dead_lease_status=422),
            "422 LEASE_NOT_ACTIVE for an unknown, expired or ended lease (Keygen's answer)",
        ),
        Variant(
            "checkin-ended-no-op",
            Behaviour(checkin_ended="no_op"),
            "a checkin of an expired or checked-in lease answers 200 and frees nothing (CHK-02, EXP-05)",
        ),
        Variant(
            "checkin-keeps-expiry",
            Behaviour(checkin_expiry="held"),
            "a checkin answer's lease_expires_at is the expiry the lease had, not the instant it ended",
        ),
        Variant(
            "extra-fields",
            Behaviour(extra_fields=True),
            "signed data carries fields beyond the contract's (seats_max, a nested lease object)",
        ),
        Variant(
            "short-lease-tokens",
            Behaviour(),
            "lease tokens of 128 random bits in 20 Z85 characters (the reference sends 32)",
            steps={"runtime": "Z85Tokens"},
        ),
        Variant(
            "long-lease-tokens",
            Behaviour(),
            "lease tokens of 600 characters, longer than the spec's 512 for a request's lease_token",
            steps={"api": "TakesLongTokens", "runtime": "LongTokens"},
        ),
        Variant(
            "default-timeout-30",
            Behaviour(default_timeout_minutes=30),
            "a policy created without floating_timeout_minutes times out after 30 minutes (10 by default)",
        ),
        Variant(
            "in-flight-409",
            Behaviour(),
            "a duplicate checkout or checkin while the first is in flight is refused 409 (the default waits)",
            steps={"idempotency": "InFlightRefused"},
        ),
        Variant(
            "late-heartbeat-cutoff",
            Behaviour(),
            "a heartbeat in the last 5 % of its lease is refused as a dead lease (TIME-04 asks up to 95 %)",
            steps={"runtime": "LateHeartbeatRefused"},
        ),
        Variant(
            "short-limits",
            Behaviour(),
            "Idempotency-Keys up to 64 characters and binding fields up to 128, longer ones refused "
            "with errors of the server's own (400, 422); the reference takes 255 and 256",
            steps={"api": "ShortLimits"},
        ),
        Variant(
            "short-limits-uncoded",
            Behaviour(),
            "the same limits as short-limits, every longer value refused 422 with a code of the "
            "server's own that names nothing (E4220)",
            steps={"api": "ShortLimitsUncoded"},
        ),
        Variant(
            "key-conflict-400",
            Behaviour(),
            "a key reused with another body is refused 400 IDEMPOTENCY_CONFLICT (IDEM-05; 422 by default)",
            steps={"idempotency": "ConflictIs400"},
        ),
        Variant(
            "in-flight-503",
            Behaviour(),
            "a duplicate checkout or checkin while the first is in flight is refused 503 with Retry-After",
            steps={"idempotency": "InFlightRetryLater"},
        ),
        Variant(
            "revoked-401",
            Behaviour(),
            "a revoked license's key is answered 401, no longer a credential (STAT-03; 403 by default)",
            steps={"runtime": "RevokedIs401"},
        ),
        Variant(
            "no-seats-422",
            Behaviour(),
            "a policy without floating seats refuses checkout 422 (CAP-05, STAT-05; 403 by default)",
            steps={"runtime": "NoSeatsIs422"},
        ),
        Variant(
            "keys-kept-briefly",
            Behaviour(),
            "Idempotency-Keys are kept 120 s, not a day (retention is the server's choice)",
            settings={"idempotency_ttl_seconds": 120.0},
        ),
    )
}
