"""What a refusal claims, from its status and code."""

from __future__ import annotations

import pytest

from leasecheck.core.model.options import RefusalWords
from leasecheck.core.model.refusals import Claim, claim_of, judged_as

W = RefusalWords()


@pytest.mark.parametrize(
    ("status", "code", "claim"),
    [
        (409, "FLOATING_LIMIT_EXCEEDED", Claim.CAPACITY),
        (403, "ACTIVATION_LIMIT_EXCEEDED", Claim.CAPACITY),
        (422, "MACHINE_LIMIT_EXCEEDED", Claim.CAPACITY),
        (422, "IDEMPOTENCY_CONFLICT", Claim.KEY_CONFLICT),
        (403, "LICENSE_SUSPENDED", Claim.LICENSE_STATE),
        (403, "LICENSE_INACTIVE", Claim.LICENSE_STATE),
        (403, "LICENSE_EXPIRED", Claim.UNMODELLED),
        (404, "LEASE_NOT_FOUND", Claim.LEASE_ENDED),
        (422, "MACHINE_HEARTBEAT_DEAD", Claim.LEASE_ENDED),
        (422, "FINGERPRINT_TAKEN", Claim.CONFLICT),
        (403, "DEVICE_BLACKLISTED", Claim.UNMODELLED),
        (404, None, Claim.LEASE_ENDED),
        (410, None, Claim.LEASE_ENDED),
        (409, None, Claim.CONFLICT),
        (403, None, Claim.UNKNOWN),
        (422, "SOMETHING_ELSE", Claim.UNKNOWN),
        # a refusal of the input itself (a length limit of the server's own) is not judged
        (422, "FINGERPRINT_TOO_LONG", Claim.NONE),
        (422, "IDEMPOTENCY_KEY_TOO_LONG", Claim.NONE),
        (422, "VALIDATION_ERROR", Claim.NONE),
        (409, "FIELD_LENGTH_LIMIT", Claim.NONE),
        (422, "UNPROCESSABLE_ENTITY", Claim.NONE),
        (422, "INVALID_REQUEST", Claim.NONE),
        (400, "LEASE_NOT_FOUND", Claim.NONE),
        (401, None, Claim.NONE),
        (429, None, Claim.NONE),
    ],
)
def test_claims(status: int, code: str | None, claim: Claim):
    assert claim_of(status, code, W) is claim


def test_what_each_kind_is_held_to():
    assert judged_as("checkout", Claim.CONFLICT, False) is Claim.CAPACITY
    assert judged_as("checkout", Claim.KEY_CONFLICT, False) is Claim.CAPACITY
    assert judged_as("checkout", Claim.LEASE_ENDED, False) is Claim.NONE
    assert judged_as("heartbeat", Claim.CONFLICT, False) is Claim.LEASE_ENDED
    assert judged_as("checkin", Claim.LICENSE_STATE, False) is Claim.LICENSE_STATE
    assert judged_as("heartbeat", Claim.UNKNOWN, False) is Claim.NONE
    assert judged_as("heartbeat", Claim.UNKNOWN, True) is Claim.LEASE_ENDED
    assert judged_as("checkout", Claim.UNMODELLED, True) is Claim.NONE
    assert judged_as("suspend", Claim.CONFLICT, False) is Claim.NONE


def test_words_are_the_callers_to_change():
    words = RefusalWords(capacity=("FULL",))
    assert claim_of(409, "POOL_FULL", words) is Claim.CAPACITY
    assert claim_of(409, "FLOATING_LIMIT_EXCEEDED", words) is Claim.CONFLICT
