"""The budgeted loop against real servers: a fault of combinations is found, its witness
shrunk, and the exploration ends when it is found rather than when the budget does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from leasecheck.conformance.explore import explore
from leasecheck.conformance.settings import Settings
from leasecheck.conformance.target import Target
from leasecheck.core.model import UNSAFE
from leasecheck.core.server_process import ReferenceServer
from leasecheck.gallery.process import server

#: Far more than any fault of the gallery needs at three cases at a time (the matrix gives 90 s):
#: the exploration ending long before it is the early end working, not a lucky draw.
BUDGET = 240.0


def _target(srv: ReferenceServer) -> Target:
    assert srv.base_url is not None
    settings = Settings.load(
        {"target": srv.base_url, "management_token": srv.management_token, "minute_seconds": 1.0}, environ={}
    )
    t = Target(settings, srv.base_url, management_token=srv.management_token)
    t.refresh_keys()
    return t


@pytest.fixture
def faulty() -> Iterator[Target]:
    with server(fault="reconnect-revives-checked-in", minute_seconds=1.0) as srv:
        t = _target(srv)
        yield t
        t.close()


@pytest.mark.timeout(BUDGET + 60)
def test_a_found_fault_ends_the_exploration_before_its_budget(faulty: Target) -> None:
    result = explore(faulty, seed=1, budget=BUDGET)
    finding = result.findings.get(UNSAFE)
    assert finding is not None, result.summary()
    # Ended by the finding: its programs stopped before the budget and MAX_ROUNDS did, and the
    # budget was not spent (the run's own clock, not a speed claim).
    assert result.cut_short > 0 and result.seconds < BUDGET, result.summary()
    assert "checkout" in finding.describe(result.seed)


def test_an_honest_server_is_explored_for_the_whole_budget() -> None:
    with ReferenceServer(minute_seconds=1.0) as srv:
        t = _target(srv)
        try:
            result = explore(t, seed=1, budget=3.0)
        finally:
            t.close()
    assert result.programs > 0 and not result.findings, result.summary()
    assert result.seconds >= 3.0 and result.cut_short == 0, result.summary()  # no early end without a finding
