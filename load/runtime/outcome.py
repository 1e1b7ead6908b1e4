"""What an answer means for a load run: the system working, or a failure.

A "no seat" answer is the server doing its job, and so is "that lease is
gone" for a request sent after the lease's acknowledged expiry (a client-side
expiry, `expiry.py`: the client was late), and "still working on that key"
for a retry. Only the rest counts against the error budget, including a
lease refused while it was certainly still live.
"""

from __future__ import annotations

from leasecheck.core.client import Exchange

OK, DENIED, EXPIRED, IN_PROGRESS, FAILED = "ok", "denied", "expired", "in_progress", "failed"

#: Checkout refusals that are not "the pool is full".
NOT_A_DENIAL = frozenset(
    {
        "LICENSE_INACTIVE",
        "LICENSE_EXPIRED",
        "FLOATING_NOT_ENABLED",
        "UNAUTHORIZED",
        "IDEMPOTENCY_CONFLICT",
        "IDEMPOTENCY_IN_PROGRESS",
        "VALIDATION_ERROR",
    }
)
IN_PROGRESS_CODES = frozenset({"IDEMPOTENCY_IN_PROGRESS"})


def classify(ex: Exchange, *, live_when_sent: bool = True) -> str:
    """ok | denied | expired | in_progress | failed (transport errors, 5xx, 429, the rest).
    `live_when_sent`: a heartbeat's or checkin's lease was certainly live when it left."""
    if ex.status is None:
        return FAILED
    if ex.ok:
        return OK
    code = ex.error_code
    if ex.status == 409 and code in IN_PROGRESS_CODES:
        return IN_PROGRESS
    if ex.operation == "checkout" and ex.status in (403, 409) and code not in NOT_A_DENIAL:
        return DENIED
    if ex.operation in ("heartbeat", "checkin") and ex.status in (404, 409) and not live_when_sent:
        return EXPIRED
    return FAILED


def retryable(ex: Exchange, outcome: str) -> bool:
    """What the LicenseKit docs tell clients to retry: transport failures, 429,
    5xx, and an idempotency key that is still in flight."""
    if outcome == IN_PROGRESS:
        return True
    return ex.status is None or ex.status == 429 or ex.status >= 500
