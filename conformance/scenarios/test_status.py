"""status: license status and what it forbids."""

from __future__ import annotations

import re

import pytest

from leasecheck.conformance.needs import License
from leasecheck.conformance.target import NotRunnable
from leasecheck.core.client import hardware_binding

STATE_CODE = re.compile(r"LICENSE|INACTIVE|SUSPENDED|REVOKED")  # STAT-04
REVOKED = (401, 403)  # STAT-03
NOT_FLOATING = (403, 409, 422)  # STAT-05


def _set_status(target, f, action):
    try:
        target.set_status(f, action)
    except NotRunnable as exc:
        pytest.skip(f"not_run: {exc}")


@pytest.mark.requirement("STAT-01", "STAT-02", "STAT-04")
@pytest.mark.needs_management("suspends and reinstates its license")
@pytest.mark.licenses(License(seats=3, minutes=5))
def test_suspend_forbids_checkout_and_reinstate_allows_it(target, lic, expect):
    """Suspension is how a vendor stops a customer's use: a suspended license
    must not obtain a seat (403), and reinstating must give use back."""
    f = lic(seats=3, timeout_minutes=5)
    c = target.client(f)
    before = c.checkout(hardware_binding())
    expect.status("STAT-02", before, [200], "checkout before suspension")
    _set_status(target, f, "suspend")
    refused = c.checkout(hardware_binding())
    expect.status("STAT-01", refused, [403], "checkout by a suspended license")
    code = refused.error_code or ""
    expect(
        "STAT-04",
        STATE_CODE.search(code),
        f"the suspended license's refusal has code {code!r}, which does not name the state",
        refused,
    )
    _set_status(target, f, "reinstate")
    after = c.checkout(hardware_binding())
    expect.status("STAT-02", after, [200], "checkout after reinstate")
    for tok in (before.lease_token, after.lease_token):
        if tok:
            c.checkin(tok)


@pytest.mark.requirement("STAT-03", "STAT-04")
@pytest.mark.needs_management("revokes its license")
@pytest.mark.licenses(License(seats=2, minutes=5))
def test_revoked_license_cannot_check_out(target, lic, expect):
    """Revocation is final: a revoked license must not obtain a seat."""
    f = lic(seats=2, timeout_minutes=5)
    c = target.client(f)
    _set_status(target, f, "revoke")
    refused = c.checkout(hardware_binding())
    expect.status("STAT-03", refused, REVOKED, "checkout by a revoked license")
    code = refused.error_code or ""
    expect(
        "STAT-04",
        STATE_CODE.search(code),
        f"the revoked license's refusal has code {code!r}, which does not name the state",
        refused,
    )


@pytest.mark.requirement("STAT-05")
@pytest.mark.licenses(License(seats=None))
def test_policy_without_floating_seats_grants_no_lease(target, lic, expect):
    """Floating is an overlay on a policy: a policy without max_floating_users
    has no seats to lease."""
    f = lic(seats=None)
    ex = target.client(f).checkout(hardware_binding())
    expect.status("STAT-05", ex, NOT_FLOATING, "checkout under a policy without max_floating_users")
