"""The honest variants: what the contract leaves open, as switches of the model.

The facts file lists places where the sources are silent and honest servers
differ. A checker that picked one of those choices would fail every server that
picked another, so each choice is a field here and **every default accepts all
honest variants**. Narrowing a field is for a caller who knows what the target
chose and wants the checker to hold it to that choice.

What the model never judges, whatever the options (honest servers differ and
the history cannot tell them apart):

- which 4xx status an ended or unknown lease gets (404, 409, 410 or 422), which
  of 409/422 a key reused with another body gets, and which of 403/409 an
  over-capacity checkout gets: refusals are judged by *whether* refusing was
  allowed, never by their status;
- whether a replay re-signs, carries a new `meta.request_id` or an
  `Idempotent-Replayed` header (signatures are judged elsewhere);
- what a checkin answer's `lease_expires_at` holds;
- whether heartbeats and checkins of a suspended or revoked license succeed;
- answers of the management calls themselves (a refused suspend has no effect).

Assumptions every history must meet (the recorders do): requests are
well-formed and carry the right license key (400 and 401 answers are not
judged); Idempotency-Keys are fresh per logical request; the history holds
every management change of its licenses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: A status change's effect on the license's live leases.
SuspensionEffect = Literal["may", "always", "never"]
#: What a replay must repeat of the first answer.
ReplayAnswer = Literal["same_lease", "same_data"]
#: Whose clock the client times are on.
ClockDomains = Literal["history", "worker"]


@dataclass(frozen=True)
class Accepted:
    """The behaviours the checker accepts where honest servers differ.

    - `same_device_reuse`, `same_device_new_seat`, `same_device_refusal`: a
      second checkout by a fingerprint that holds a live lease may return that
      lease (extended, no new seat), take another seat (subject to the limit),
      or be refused (e.g. 422 FINGERPRINT_TAKEN). Facts: "Whether a second
      checkout by a fingerprint that already holds a lease reuses that lease or
      takes another seat"; Keygen refuses, Relay extends, FlexNet configures.
    - `revive_expired`: a heartbeat of an expired lease may succeed (the lease
      is held again) — only while a seat is free, which the seat rule checks.
      Facts: "whether an expired lease can be revived".
    - `checkin_of_ended_succeeds`: a checkin of a lease that already ended may
      answer 200 as a no-op (facts: "deactivating twice: some servers error,
      some no-op — both legitimate; freeing two seats is not").
    - `suspension_ends_leases`: whether suspend/revoke ends the license's live
      leases. "may" (silent in the facts) accepts both; "always"/"never" hold
      the target to one.
    - `late_heartbeat_margin`: the fraction of a lease's duration before
      `lease_expires_at` in which a server may already treat it as expired
      (facts: "how close to expiry a heartbeat may come" is silent; TIME-04
      requires heartbeats up to 95 % of the way to succeed).
    - `reclaim_delay`: seconds after `lease_expires_at` an expired lease may
      still occupy its seat (EXP-01's expiry tolerance).
    - `key_retention`: seconds an Idempotency-Key is kept at least (facts: "how
      long keys are kept" is silent; Stripe and AWS keep 24 h). Two uses of one
      key further apart are judged as unrelated requests.
    - `replay_answer`: what a replay must repeat. "same_lease" (default): the
      lease token and device; other data may show current state (AIP-155) and
      the envelope may be re-signed. "same_data": the stored data, byte for byte.
    """

    same_device_reuse: bool = True
    same_device_new_seat: bool = True
    same_device_refusal: bool = True
    revive_expired: bool = True
    checkin_of_ended_succeeds: bool = True
    suspension_ends_leases: SuspensionEffect = "may"
    late_heartbeat_margin: float = 0.05
    reclaim_delay: float = 1.0
    key_retention: float = 86400.0
    replay_answer: ReplayAnswer = "same_lease"


@dataclass(frozen=True)
class RefusalWords:
    """Words in an upper-cased `error.code` that say what a refusal claims.

    The contract names no code strings; LicenseKit's docs list typical ones
    (ACTIVATION_LIMIT_EXCEEDED, LICENSE_INACTIVE, IDEMPOTENCY_CONFLICT, ...),
    peers use others (MACHINE_LIMIT_EXCEEDED, MACHINE_HEARTBEAT_DEAD,
    FINGERPRINT_TAKEN). They are checked in this order; see `refusals.py`.
    """

    #: the request's input refused (a length limit of the server's own, facts): not judged
    input: tuple[str, ...] = (
        "TOO_LONG",
        "TOO_LARGE",
        "LENGTH",
        "VALIDATION",
        "BAD_REQUEST",
        "INVALID_REQUEST",
        "UNPROCESSABLE",
        "MALFORMED",
    )
    key: tuple[str, ...] = ("IDEMPOTEN",)
    capacity: tuple[str, ...] = ("LIMIT", "SEAT", "CAPACITY", "NOT_AVAILABLE", "ALL_IN_USE")
    license: tuple[str, ...] = ("LICENSE", "INACTIVE", "SUSPENDED", "REVOKED")
    lease: tuple[str, ...] = ("LEASE", "NOT_FOUND", "DEAD", "GONE", "UNKNOWN", "EXPIRED", "ENDED", "CHECKED_IN")
    conflict: tuple[str, ...] = ("TAKEN", "ALREADY", "DUPLICATE", "IN_USE", "CONFLICT")
    unmodelled: tuple[str, ...] = ("DEVICE", "FINGERPRINT", "MACHINE", "VERSION", "POLICY", "BLACKLIST", "QUOTA")


@dataclass(frozen=True)
class Model:
    """The contract model the checker judges with: honest variants plus how to
    read the history.

    - `accepted`: the honest variants (see `Accepted`).
    - `tolerance`: seconds of slack on every comparison with a server instant
      (timestamp rounding, the implementation-defined expiry boundary).
    - `clock_domains`: "history" — all client times come from one clock (one
      machine: conformance, locust workers on one host); "worker" — each
      `Op.worker` has its own clock, estimated separately.
    - `indeterminate_horizon`: seconds after its send within which a request
      that got no answer (transport failure) may still take effect; None: any
      time later (sound, but such a request then keeps its possible effects
      open for the rest of the history).
    - `judge_uncoded_refusals`: 403/422 refusals whose error code names
      nothing the model knows may come from device, policy or version state
      the history does not hold, so by default they are not judged. True is
      for histories whose run set no such state (load, exploration): they are
      then judged like a 409.
    - `words`: how error codes are read (see `RefusalWords`).
    - `max_reports`: violations reported per license and kind (all are counted).
    """

    accepted: Accepted = field(default_factory=Accepted)
    tolerance: float = 0.05
    clock_domains: ClockDomains = "history"
    indeterminate_horizon: float | None = None
    judge_uncoded_refusals: bool = False
    words: RefusalWords = field(default_factory=RefusalWords)
    max_reports: int = 3
