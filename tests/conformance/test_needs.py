"""needs.py: a declared license resolves to the timeout its scenario asks for on a target."""

from __future__ import annotations

from leasecheck.conformance.needs import License, Need, ScenarioNeeds
from leasecheck.conformance.settings import Settings


def test_timeouts_resolve_in_the_targets_minutes() -> None:
    real, fast = Settings(minute_seconds=60.0), Settings(minute_seconds=1.0)
    assert License(minutes=5).timeout_minutes(real) == License(minutes=5).timeout_minutes(fast) == 5
    assert License().timeout_minutes(real) == 1  # the default ask
    assert License(lasting=3.0).timeout_minutes(real) == 1 and License(lasting=3.0).timeout_minutes(fast) == 3
    tolerant = Settings(minute_seconds=1.0, expiry_tolerance=4.0)
    assert License(lasting=lambda s: 2 * s.expiry_tolerance).timeout_minutes(tolerant) == 8


def test_management_is_the_blocker_before_any_license() -> None:
    plain = Need(2, 5, "subscription", False)
    assert ScenarioNeeds("t", (), ((plain, None),), None).blocker is None
    assert "suspends" in str(ScenarioNeeds("t", (), ((plain, None),), "suspends its license").blocker)
    features = Need(2, 2, "subscription", True)
    assert "metadata.features" in str(ScenarioNeeds("t", (), ((features, None),), None).blocker)
