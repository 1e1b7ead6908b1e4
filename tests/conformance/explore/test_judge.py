"""The judge is the model's verdict, less the one honest answer the model counts as a grant."""

from __future__ import annotations

import pytest

from leasecheck.conformance.explore.judge import judge
from leasecheck.core.model import HistoryBuilder


@pytest.mark.parametrize(
    ("lease", "key", "body", "violations", "aside"),
    [
        # IETF draft: a repeated request gets the stored response; the lease was granted while active.
        ("a", "k1", "b1", [], ["inactive_license_granted"]),
        # A new request (a new key and body) granted after revoke is a violation, replay or not.
        ("b", "k2", "b2", ["inactive_license_granted"], []),
    ],
)
def test_only_a_stored_checkout_replayed_after_revoke_is_set_aside(lease, key, body, violations, aside) -> None:
    b = HistoryBuilder()
    b.create(seats=2, at=-1)
    b.checkout("a", 0.0, 0.1, key="k1", body="b1", expires=30)
    b.status("revoke", 1.0, 1.1)
    b.checkout(lease, 2.0, 2.1, key=key, body=body, expires=30)
    judged = judge(b.history)
    assert [v.kind for v in judged.violations] == violations
    assert [v.kind for v in judged.set_aside] == aside
    assert judged.ok is (not violations)
