"""lifecycle: checkout, heartbeat and checkin of one lease."""

from __future__ import annotations

import pytest

from leasecheck.conformance.accepted import DEAD_LEASE
from leasecheck.conformance.needs import License
from leasecheck.conformance.tokens import DERIVED_BITS, token_pairs
from leasecheck.core.client import hardware_binding

REQUIRED_CHECKOUT = (
    "license_id",
    "status",
    "license_type",
    "entitlement_version",
    "issued_at",
    "device_id",
    "lease_token",
    "lease_expires_at",
    "features",
)
#: Heartbeat and checkin data: the checkout's required fields but the token and the features.
REQUIRED_LEASE = tuple(f for f in REQUIRED_CHECKOUT if f not in ("lease_token", "features"))


@pytest.mark.requirement("LIFE-01", "LIFE-02", "LIFE-03", "LIFE-04", "LIFE-05")
@pytest.mark.licenses(License(seats=2, minutes=2))
def test_checkout_heartbeat_checkin(target, lic, expect):
    f = lic(seats=2, timeout_minutes=2, license_type="subscription")
    c = target.client(f)
    out = c.checkout(hardware_binding())
    expect.status("LIFE-01", out, [200], "checkout with a free seat")
    data = out.data
    missing = [k for k in REQUIRED_CHECKOUT if k not in data]
    expect("LIFE-01", not missing, f"checkout data lacks {missing}", out)
    expect("LIFE-01", isinstance(out.json.get("signature"), dict), "checkout answer is not signed", out)
    token = data["lease_token"]
    expect("LIFE-04", token.startswith("llt_"), f"lease_token does not start with llt_ ({token[:4]}…)", out)

    hb = c.heartbeat(token)
    expect.status("LIFE-02", hb, [200], "heartbeat of a live lease")
    missing = [k for k in REQUIRED_LEASE if k not in hb.data]
    expect("LIFE-02", not missing, f"heartbeat data lacks {missing}", hb)

    ci = c.checkin(token)
    expect.status("LIFE-03", ci, [200], "checkin of a live lease")
    missing = [k for k in REQUIRED_LEASE if k not in ci.data]
    expect("LIFE-03", not missing, f"checkin data lacks {missing}", ci)

    ids = {x.data.get("license_id") for x in (out, hb, ci)}
    expect(
        "LIFE-05", len(ids) == 1, f"license_id differs across one lease's answers: {sorted(map(str, ids))}", out, hb, ci
    )
    expect(
        "LIFE-05",
        data.get("license_type") == f.license_type,
        f"license_type {data.get('license_type')!r} is not the policy's {f.license_type!r}",
        out,
    )

    after = c.heartbeat(token)
    expect.status("LIFE-03", after, DEAD_LEASE, "heartbeat after checkin")


@pytest.mark.requirement("LIFE-06")
@pytest.mark.licenses(License(seats=8, minutes=2))
def test_lease_tokens_are_distinct_and_unguessable(target, lic, expect):
    """Tokens are bearer credentials. The suite cannot measure entropy, and the facts leave a
    token's length open (128 random bits fit in 20 printable characters), so it fails only
    what it can see: two leases sharing a token, or two tokens that differ in too few
    characters to hold a random draw (a counter or a clock advanced)."""
    f = lic(seats=8, timeout_minutes=2)
    c = target.client(f)
    outs = [c.checkout(hardware_binding()) for _ in range(8)]
    tokens = [o.lease_token for o in outs if o.ok and o.lease_token]
    expect("LIFE-06", len(tokens) == 8, "could not check out 8 leases on an 8-seat license", *outs)
    expect("LIFE-06", len(set(tokens)) == len(tokens), "two leases share one lease_token", *outs)
    close = [(a, b, bits) for a, b, bits in token_pairs(tokens) if bits < DERIVED_BITS]
    if close:
        a, b, bits = close[0]
        expect(
            "LIFE-06",
            False,
            f"{len(close)} pairs of lease tokens differ in so few characters that the difference holds at most "
            f"{bits:.0f} bits (fewer than {DERIVED_BITS}): one is derivable from the other",
            *[o for o in outs if o.lease_token in (a, b)],
        )
    for t in tokens:
        c.checkin(t)
