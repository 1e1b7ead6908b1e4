"""What a refusal claims, read from its status and error code.

A refusal is judged by whether refusing was allowed, never by which status it
chose (honest servers differ there). To know which rule applies, the checker
reads what the refusal claims: over capacity, license state, lease ended, a
key conflict, a state conflict of some kind, or something the model does not
hold (device, policy, version). The error code decides when it says something
(the `RefusalWords`, checked in order input → key → capacity → license →
lease → conflict → unmodelled; a refusal of the input itself, such as a value
beyond the server's own length limit, is not judged); otherwise the status:

| status            | claim without a telling code                           |
|-------------------|--------------------------------------------------------|
| 400, 401, 429, …  | NONE: not judged (malformed, credentials, throttled)   |
| 403, 422          | UNKNOWN: may be device/policy/version state; judged    |
|                   | like 409 only with `Model.judge_uncoded_refusals`      |
| 404, 410          | LEASE_ENDED                                            |
| 409               | CONFLICT: any state conflict the model holds           |

A request marked `Op.oversized` (it sent a value longer than every server
must take) refused 400 or 422 with a code that names nothing is not judged
either: the facts let a server refuse a value beyond its own length limit
with an error of its own.

Transport failures and 5xx are not refusals: they are *indeterminate* (the
request may or may not have taken effect); 429 had no effect.
"""

from __future__ import annotations

from enum import StrEnum

from .options import RefusalWords

JUDGED_STATUSES = frozenset({403, 404, 409, 410, 422})
#: What a server may answer a value beyond its own length limit (facts: "a 400/422 error of its own").
LENGTH_LIMIT_STATUSES = frozenset({400, 422})


class Claim(StrEnum):
    NONE = "none"
    CAPACITY = "capacity"
    LICENSE_STATE = "license_state"
    LEASE_ENDED = "lease_ended"
    KEY_CONFLICT = "key_conflict"
    CONFLICT = "conflict"
    UNMODELLED = "unmodelled"
    UNKNOWN = "unknown"


def claim_of(status: int, code: str | None, words: RefusalWords) -> Claim:
    """What a 4xx refusal claims (Claim.NONE for statuses that are not judged)."""
    if status not in JUDGED_STATUSES:
        return Claim.NONE
    if code:
        c = code.upper()
        if any(w in c for w in words.input):
            return Claim.NONE
        for claim, ws in (
            (Claim.KEY_CONFLICT, words.key),
            (Claim.CAPACITY, words.capacity),
            (Claim.LICENSE_STATE, words.license),
            (Claim.LEASE_ENDED, words.lease),
            (Claim.CONFLICT, words.conflict),
            (Claim.UNMODELLED, words.unmodelled),
        ):
            if any(w in c for w in ws):
                if claim is Claim.LICENSE_STATE and "EXPIRED" in c:
                    return Claim.UNMODELLED  # the license's own expiry is not in the history
                return claim
    if status in (404, 410):
        return Claim.LEASE_ENDED
    if status == 409:
        return Claim.CONFLICT
    return Claim.UNKNOWN


def judged_as(kind: str, claim: Claim, judge_uncoded: bool) -> Claim:
    """The claim a refusal of `kind` is held to (NONE: not judged).

    Checkout refusals claiming capacity or a conflict (a key conflict too: it
    is honest only where the key was used before, which the rule checks) are
    judged by the seat rule (CAPACITY); heartbeat and checkin refusals
    claiming the lease ended, a conflict or capacity by the live-lease rule
    (LEASE_ENDED); any runtime refusal claiming license state by the status
    rule.
    """
    if claim is Claim.UNKNOWN and judge_uncoded:
        claim = Claim.CONFLICT
    if claim is Claim.LICENSE_STATE:
        return claim
    if kind == "checkout":
        return Claim.CAPACITY if claim in (Claim.CAPACITY, Claim.CONFLICT, Claim.KEY_CONFLICT) else Claim.NONE
    if kind in ("heartbeat", "checkin"):
        lease_claims = (Claim.LEASE_ENDED, Claim.CONFLICT, Claim.CAPACITY, Claim.KEY_CONFLICT)
        return Claim.LEASE_ENDED if claim in lease_claims else Claim.NONE
    return Claim.NONE
