"""Certain, possible and live intervals of one lease."""

from __future__ import annotations

import pytest

from leasecheck.core.model import HistoryBuilder, Model
from leasecheck.core.model.clock import Clock, make_timeline
from leasecheck.core.model.index import Index
from leasecheck.core.model.leases import (
    certain_of,
    covering,
    interval_at,
    live_intervals,
    merge,
    possible_intervals,
    read_lease,
)

T0 = 1_700_000_000.0
EXACT = Clock(0.0, 0.0)  # no clock slack: intervals read exactly


def _view(b: HistoryBuilder, ref: str = "a", tolerance: float = 0.0):
    model = Model(tolerance=tolerance)
    idx = Index(b.ops, make_timeline(b.ops, per_worker=False, tolerance=tolerance, clock=EXACT), model)
    v = idx.licenses["L"].leases[ref]
    read_lease(idx, v, [])
    return idx, v


def rel(ivs):
    return [(round(s - T0, 6), round(e - T0, 6)) for s, e, *_ in ivs]


def test_certain_from_each_receive_to_expiry_or_the_send_of_what_may_end_it():
    b = HistoryBuilder()
    b.checkout("a", 0, 0.5, expires=10)
    b.heartbeat("a", 4, 4.2, expires=14)
    b.checkin("a", 6, 6.5)
    idx, v = _view(b)
    assert rel(certain_of(idx, v, [])) == [(0.5, 6.0), (4.2, 6.0)]
    assert rel(v.spans) == [(0.5, 6.0)]


def test_possible_from_each_send_until_expiry_plus_reclaim_or_a_certainly_later_checkin():
    b = HistoryBuilder()
    b.checkout("a", 0, 0.5, expires=10)
    b.checkin("a", 6, 6.5)
    idx, v = _view(b)
    assert rel(possible_intervals(idx, v, float("inf"), [])) == [(0.0, 6.5)]
    b2 = HistoryBuilder()
    b2.checkout("a", 0, 0.5, expires=10)
    idx2, v2 = _view(b2)
    assert rel(possible_intervals(idx2, v2, float("inf"), [])) == [(0.0, 11.0)]  # + 1 s reclaim delay
    assert v2.lo == T0 and v2.hi == pytest.approx(T0 + 11.0)


def test_live_stops_a_margin_before_expiry_and_ignores_refusals():
    b = HistoryBuilder()
    b.checkout("a", 0, 0.0, expires=10)
    b.heartbeat("a", 5, 5.1, status=404)
    idx, v = _view(b)
    assert rel(v.spans) == [(0.0, 5.0)]  # the refusal ends certainty
    assert rel(live_intervals(idx, v, [], 0.05)) == [(0.0, 9.5)]  # but not liveness


def test_replays_are_not_acknowledgements_but_may_have_held_it():
    b = HistoryBuilder()
    g = b.checkout("a", 0, 0.5, expires=10, key="k")
    r = b.replay(g, 20, 20.1)
    u = b.checkout("a", 3, 3.1, expires=13.1, key="k-new", device="dev-a")
    idx, v = _view(b)
    assert v.grant == g and v.replays == [r] and v.reuses == [u] and v.acks == [g, u]
    assert (T0 + 20.0) in [iv[0] for iv in possible_intervals(idx, v, float("inf"), [])]


def test_an_acknowledgement_without_expiry_proves_no_holding():
    b = HistoryBuilder()
    b.add("checkout", 0, 0.1, 200, lease="a", key="k")
    _idx, v = _view(b)
    assert v.spans == [] and v.hi == float("inf")


def test_helpers():
    ivs = [(0.0, 2.0, 1, -1), (1.0, 3.0, 2, -1), (5.0, 6.0, 3, -1)]
    assert merge(ivs) == [(0.0, 3.0), (5.0, 6.0)]
    assert covering(ivs, 0.5, 2.5) == ivs[:2]
    assert covering(ivs, 2.5, 5.5) is None
    assert interval_at(ivs, 5.5) == ivs[2] and interval_at(ivs, 4.0) is None
