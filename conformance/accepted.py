"""The answers the catalogue accepts where honest servers differ, in one place.

Scenarios (`scenarios/`) and the generated run's own checks (`generated/`)
judge the same situations; each set below is the `accepted` of the
requirements named beside it (specs/requirements.yaml), never narrower.
"""

from __future__ import annotations

from typing import Any

from leasecheck.core.model.refusals import LENGTH_LIMIT_STATUSES

#: A full pool (CAP-02): the facts leave 403 or 409 open.
DENIED = (403, 409)
#: Heartbeat or checkin of an unknown, expired or ended lease (CHK-03, LIFE-03, EXP-03): the
#: contract lists 404, 409 and 422 for them (422 is Keygen's answer for a dead machine).
DEAD_LEASE = (404, 409, 422)
#: A heartbeat of an expired lease whose seat another lease took (EXP-03): the refusal of a
#: dead lease, or, from a server that revives expired leases subject to the limit, the
#: refusal a full pool gives a checkout.
REVIVAL_REFUSED = tuple(sorted({*DEAD_LEASE, *DENIED}))
#: A write repeated on a lease that already ended (CHK-02, EXP-05, IDEM-10): a 200 that frees
#: nothing, or the refusal of a dead lease.
ENDED_LEASE_WRITE = (200, *DEAD_LEASE)
#: An Idempotency-Key reused with another body (IDEM-05): the facts leave it open; 422 is the
#: IETF draft's, 409 and 400 are what payment APIs answer (a conflict, a bad request).
KEY_CONFLICT = (400, 409, 422)
#: A duplicate sent while the first is in flight (IDEM-08): the stored answer (the server
#: waited), 409 (the IETF draft's SHOULD, Stripe's answer), or 429/503 asking for a retry.
IN_FLIGHT_DUPLICATE = (200, 409, 429, 503)
#: Characters of an Idempotency-Key, a binding field or a lease_token every server must take.
#: The contract sets no length limits and lets a server impose its own, refused with a 400/422
#: of its own (facts); this spec asks for this much (a UUID key, a SHA-256 hex fingerprint fit),
#: so a 400 or 422 to a longer value is an honest limit, not a refusal of a valid request.
COMMON_LENGTH = 64
#: The refusals a server may give a value beyond its own length limit (facts); the model
#: checker reads them from the same set (`Op.oversized`).
LENGTH_LIMIT_REFUSAL = tuple(sorted(LENGTH_LIMIT_STATUSES))


def beyond_common_length(key: str | None, body: Any) -> str | None:
    """The first value of a runtime request longer than `COMMON_LENGTH` (its Idempotency-Key,
    a string field of its JSON body), said for a note; None if there is none. A server may
    refuse such a request with a 400/422 of its own (facts: its own length limit), so the
    generated run's triage and exploration's history both ask this of what they sent."""
    if key is not None and len(key) > COMMON_LENGTH:
        return f"an Idempotency-Key of {len(key)} characters"
    if isinstance(body, dict):
        for name, value in body.items():
            if isinstance(value, str) and len(value) > COMMON_LENGTH:
                return f"{name} of {len(value)} characters"
    return None
