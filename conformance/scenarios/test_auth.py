"""auth: credentials and isolation between licenses."""

from __future__ import annotations

import uuid

import pytest

from leasecheck.conformance.needs import License
from leasecheck.core.client import hardware_binding, new_key

TOKEN_OF_ANOTHER_LICENSE = (401, 403, 404, 409, 422)  # AUTH-02


def _unknown_key() -> str:
    return f"LC-UNKNOWN-{uuid.uuid4().hex.upper()}"


def _call(client, operation, token, **kw):
    if operation == "checkout":
        return client.checkout(hardware_binding(), **kw)
    if operation == "heartbeat":
        return client.heartbeat(token, **kw)
    return client.checkin(token, **kw)


@pytest.mark.requirement("AUTH-01")
@pytest.mark.parametrize("operation", ["checkout", "heartbeat", "checkin"])
@pytest.mark.licenses(License(seats=1, minutes=5))
def test_runtime_calls_need_a_known_license_key(target, lic, expect, operation):
    """Without a header, or with a key the server never issued, a runtime call
    is unauthenticated (401), even when it names a real, live lease_token."""
    f = lic(seats=1, timeout_minutes=5)
    owner = target.client(f)
    out = owner.checkout(hardware_binding())
    expect.status("AUTH-01", out, [200], "checkout by the lease's own license")
    token = out.lease_token
    for label, key in (("no Authorization header", None), ("an unknown key", _unknown_key())):
        ex = _call(target.raw_client(key), operation, token)
        expect.status("AUTH-01", ex, [401], f"{operation} with {label}")
    owner.checkin(token)


@pytest.mark.requirement("AUTH-02")
@pytest.mark.licenses(License(seats=1, minutes=5, count=2))
def test_lease_tokens_belong_to_their_license(target, lic, expect):
    """License B presenting license A's lease_token must neither keep nor end
    A's lease: both calls are refused, and A's lease still heartbeats under A."""
    a, b = lic(seats=1, timeout_minutes=5), lic(seats=1, timeout_minutes=5)
    ca, cb = target.client(a), target.client(b)
    out = ca.checkout(hardware_binding())
    expect.status("AUTH-02", out, [200], "checkout by license-A")
    token = out.lease_token
    hb = cb.heartbeat(token)
    expect.status("AUTH-02", hb, TOKEN_OF_ANOTHER_LICENSE, "heartbeat of license-A's lease_token under license-B")
    ci = cb.checkin(token)
    expect.status("AUTH-02", ci, TOKEN_OF_ANOTHER_LICENSE, "checkin of license-A's lease_token under license-B")
    still = ca.heartbeat(token)
    expect(
        "AUTH-02",
        still.status == 200,
        f"license-A's lease no longer heartbeats under license-A after license-B presented its token ({still.describe()})",
        hb,
        ci,
        still,
    )
    ca.checkin(token)


@pytest.mark.requirement("AUTH-03")
@pytest.mark.licenses(License(seats=1, minutes=5))
def test_auth_comes_before_idempotency(target, lic, expect):
    """The idempotency cache must not answer before authentication: a bad key
    replaying a good license's Idempotency-Key and body gets 401, not the
    stored lease."""
    f = lic(seats=1, timeout_minutes=5)
    c = target.client(f)
    body, key = hardware_binding(), new_key()
    out = c.checkout(body, idempotency_key=key)
    expect.status("AUTH-03", out, [200], "checkout by the valid license")
    for label, bad in (("an unknown key", _unknown_key()), ("no Authorization header", None)):
        ex = target.raw_client(bad).checkout(body, idempotency_key=key)
        expect.status("AUTH-03", ex, [401], f"checkout with {label} and the valid license's key and body")
        expect(
            "AUTH-03",
            ex.lease_token != out.lease_token,
            f"checkout with {label} received the valid license's stored lease",
            out,
            ex,
        )
    ckey = new_key()
    ci = c.checkin(out.lease_token, idempotency_key=ckey)
    expect.status("AUTH-03", ci, [200], "checkin by the valid license")
    ex = target.raw_client(_unknown_key()).checkin(out.lease_token, idempotency_key=ckey)
    expect.status("AUTH-03", ex, [401], "checkin with an unknown key and the valid license's key and body")


@pytest.mark.requirement("AUTH-04")
@pytest.mark.needs_management("presents the management token to runtime calls")
@pytest.mark.licenses(License(seats=1, minutes=5))
def test_management_token_is_not_a_license_key(target, lic, expect):
    """The management Bearer token is a different credential with a different
    scheme; a runtime endpoint must not accept it."""
    if target.management_token is None:
        pytest.skip("not_run: needs the management token to present it to runtime calls")
    f = lic(seats=1, timeout_minutes=5)
    owner = target.client(f)
    out = owner.checkout(hardware_binding())
    expect.status("AUTH-04", out, [200], "checkout by the lease's own license")
    bearer = {"Authorization": f"Bearer {target.management_token}"}
    for operation in ("checkout", "heartbeat", "checkin"):
        ex = _call(target.raw_client(None), operation, out.lease_token, headers=bearer)
        expect.status("AUTH-04", ex, [401], f"{operation} with the management token under the scheme Bearer")
    owner.checkin(out.lease_token)
