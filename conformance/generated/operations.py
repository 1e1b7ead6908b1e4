"""The operations a generated run exercises, and what our spec ties to each.

Management operations are provisioning only: the run never generates them.
Operations are named by their operationId (the spec's, which are the official
contract's).
"""

from __future__ import annotations

#: The lease life cycle: authenticated with the license key, signed answers.
RUNTIME = ("checkoutFloatingLicense", "heartbeatFloatingLicense", "checkinFloatingLicense")
CHECKOUT_OP, HEARTBEAT_OP, CHECKIN_OP = RUNTIME
#: Unauthenticated, read-only.
SYSTEM = ("listPublicKeys", "health", "healthz", "readyz", "getMetrics")
#: operationId -> the label leasecheck.core.client gives the same call (`Exchange.operation`):
#: the lease tracker and the signature inspection key on that label.
CLIENT_LABEL = {CHECKOUT_OP: "checkout", HEARTBEAT_OP: "heartbeat", CHECKIN_OP: "checkin"}
#: Operations that require an Idempotency-Key, and the requirement that says so.
KEYED = {CHECKOUT_OP: "IDEM-01", CHECKIN_OP: "IDEM-02"}
#: The request body schema of each runtime operation (specs/schemas).
BODY_SCHEMA = {CHECKOUT_OP: "CheckoutRequest", HEARTBEAT_OP: "LeaseTokenRequest", CHECKIN_OP: "LeaseTokenRequest"}
#: The requirement a valid request that is refused breaks, per operation.
ACCEPTS = {
    CHECKOUT_OP: "LIFE-01",
    HEARTBEAT_OP: "CHK-03",
    CHECKIN_OP: "CHK-03",
    "health": "SYS-01",
    "healthz": "SYS-01",
    "readyz": "SYS-02",
    "getMetrics": "SYS-03",
    "listPublicKeys": "SYS-04",
}
#: ENV-04: any operation may answer these.
ALWAYS_ALLOWED = (429, 503)
#: Our spec's Idempotency-Key is 1..255 characters.
IDEMPOTENCY_KEY_MAX = 255
