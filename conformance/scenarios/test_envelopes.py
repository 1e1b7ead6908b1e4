"""envelopes: every answer of the run is inspected; this module makes sure
each envelope kind is exercised even when only this area is selected.

The envelope inspector (leasecheck.core.envelope) judges ENV-01..05 and
TIME-05 on every exchange of every scenario; a violation is attributed to the
scenario that provoked it, with the exchange as evidence.
"""

from __future__ import annotations

import pytest

from leasecheck.conformance.needs import License
from leasecheck.core.client import hardware_binding


@pytest.mark.requirement("ENV-01", "ENV-02", "ENV-04")
@pytest.mark.licenses(License(seats=1, minutes=2))
def test_success_and_error_envelopes_are_exercised(target, lic, expect):
    f = lic(seats=1, timeout_minutes=2)
    c = target.client(f)
    ok = c.checkout(hardware_binding())
    expect.status("ENV-01", ok, [200], "checkout")
    over = c.checkout(hardware_binding())  # over capacity: an error envelope
    expect("ENV-02", over.status is not None and over.status >= 400, "a checkout over capacity was not refused", over)
    unknown = c.heartbeat("llt_" + "0" * 32)  # unknown lease: an error envelope
    expect(
        "ENV-02",
        unknown.status is not None and unknown.status >= 400,
        "heartbeat of an unknown lease was not refused",
        unknown,
    )
    anon = target.raw_client(None).checkout(hardware_binding())  # unauthenticated
    expect("ENV-04", anon.status == 401, f"unauthenticated checkout answered {anon.status}", anon)
    c.checkin(ok.lease_token)


@pytest.mark.requirement("ENV-05")
@pytest.mark.licenses(License(seats=1, minutes=2))
def test_request_ids_differ(target, lic, expect):
    f = lic(seats=1, timeout_minutes=2)
    c = target.client(f)
    answers = [target.system.health() for _ in range(3)] + [c.heartbeat("llt_unknown_lease_token_000000")]
    ids = [a.json.get("meta", {}).get("request_id") for a in answers if isinstance(a.json, dict)]
    expect("ENV-05", len(ids) == len(set(ids)), f"meta.request_id repeats across answers: {ids}", *answers)
