"""The judge is the model's verdict, less the one honest answer the model counts as a grant."""

from __future__ import annotations

from leasecheck.conformance.explore.judge import judge
from leasecheck.core.model import HistoryBuilder


def test_a_stored_checkout_replayed_after_revoke_is_set_aside() -> None:
    """IETF draft: a repeated request gets the stored response; the lease was granted while active."""
    b = HistoryBuilder()
    b.create(seats=2, at=-1)
    b.checkout("a", 0.0, 0.1, key="k1", body="b1", expires=30)
    b.status("revoke", 1.0, 1.1)
    b.checkout("a", 2.0, 2.1, key="k1", body="b1", expires=30)
    judged = judge(b.history)
    assert judged.ok
    assert [v.kind for v in judged.set_aside] == ["inactive_license_granted"]


def test_a_new_checkout_granted_after_revoke_is_still_a_violation() -> None:
    b = HistoryBuilder()
    b.create(seats=2, at=-1)
    b.checkout("a", 0.0, 0.1, key="k1", body="b1", expires=30)
    b.status("revoke", 1.0, 1.1)
    b.checkout("b", 2.0, 2.1, key="k2", body="b2", expires=30)
    judged = judge(b.history)
    assert [v.kind for v in judged.violations] == ["inactive_license_granted"]
    assert judged.directions() == {"unsafe"}
    assert not judged.set_aside
