"""Legal histories from the executable model pass; histories with a fault do not."""

from __future__ import annotations

import pytest

from leasecheck.core.model import Model, check_history
from leasecheck.core.model.simulate import Workload, simulate
from leasecheck.core.model.spec import FAULTS, Choices

BUSY = Workload(licenses=3, duration=60, p_status=0.5, p_lost=0.01)

LEGAL = {
    "random honest picks": (BUSY, Model()),
    "client clock 2.5 s off the server": (Workload(licenses=3, duration=60, clock_offset=2.5), Model()),
    "one clock per worker, each up to 1.5 s off": (
        Workload(licenses=3, duration=60, clock_offset=1.5, distinct_clocks=True, p_status=0.5),
        Model(clock_domains="worker"),
    ),
    "slow, jittery network and late heartbeats": (
        Workload(licenses=3, duration=60, latency=(0.0001, 0.3), heartbeat_at=(0.8, 0.95), p_abandon=0.3),
        Model(),
    ),
    "short leases, many expiries and revivals": (
        Workload(licenses=3, duration=30, timeout=2.0, think=(0, 0.1), p_abandon=0.4, p_revive=0.9),
        Model(),
    ),
    "uncoded refusals judged": (BUSY, Model(judge_uncoded_refusals=True)),
}


@pytest.mark.parametrize("name", LEGAL)
def test_legal_histories_are_never_reported(name: str):
    workload, model = LEGAL[name]
    for seed in range(4):
        h = simulate(workload, seed)
        v = check_history(h, model)
        assert v.ok, f"seed {seed}: {v.render()}"


@pytest.mark.parametrize(
    "picks",
    [
        Choices(same_device="reuse", revive_expired=True, checkin_of_ended_ok=True, suspension_ends_leases=True),
        Choices(same_device="refuse", store_errors=True, replay_current_expiry=True, ended_status=422),
        Choices(reaper_delay=0.9, early_expiry=0.04, capacity_status=403, conflict_status=409),
    ],
)
def test_each_fixed_set_of_honest_picks_passes(picks: Choices):
    for seed in range(3):
        assert check_history(simulate(BUSY, seed, choices=picks)).ok


EXPECTED = {
    "over_grant": "over_grant",
    "leaky_checkin": "capacity_refused",
    "forget_keys": "replay_refused",
    "zombie_heartbeat": "ended_lease_accepted",
    "cross_license": "cross_license",
    "early_expiry": "heartbeat_refused",
    "grant_suspended": "inactive_license_granted",
    "global_keys": "cross_license",
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_is_caught(fault: str):
    workload = Workload(licenses=4, duration=80, p_status=1.0, p_shared_key=0.05, p_foreign_token=0.05)
    found = sum(
        check_history(simulate(workload, seed, faults=frozenset({fault}))).counts[EXPECTED[fault]] for seed in range(3)
    )
    assert found > 0


def test_simulations_are_reproducible():
    a, b = simulate(BUSY, 5), simulate(BUSY, 5)
    assert [(o.kind, o.status, o.sent_at) for o in a] == [(o.kind, o.status, o.sent_at) for o in b]
