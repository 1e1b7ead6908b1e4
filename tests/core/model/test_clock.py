"""Clock offsets and bounds: estimated from the answers, never exceeded in judging."""

from __future__ import annotations

import random

import pytest

from leasecheck.core.history import Op
from leasecheck.core.model import Clock, HistoryBuilder, Model, check_history
from leasecheck.core.model.clock import estimate_clock, make_timeline, stamp_resolution
from leasecheck.core.model.columns import read_columns


def _op(sent: float, received: float, stamp: float | None, worker: str | None = None) -> Op:
    return Op("heartbeat", "L", sent, received, 200, server_time=stamp, worker=worker)


def test_the_offset_interval_is_where_every_stamp_agrees():
    # server = client + 2.0; each stamp taken somewhere inside its window
    ops = [_op(0, 0.1, 2.03), _op(1, 1.02, 3.015), _op(5, 5.4, 7.1)]
    c = estimate_clock(ops)
    assert c.consistent and c.samples == 3
    lo, hi = c.offset - c.bound, c.offset + c.bound
    assert lo <= 2.0 <= hi
    # [1.995, 2.015] (the second op's window), widened by the 1 ms stamp resolution
    assert c.bound == pytest.approx(0.011) and c.offset == pytest.approx(2.005)


def test_no_stamps_means_no_bound():
    assert estimate_clock([Op("heartbeat", "L", 0, 1, 200)]).bound == float("inf")


def test_whole_second_stamps_widen_the_bound_by_a_second():
    ops = [_op(0.2, 0.3, 2.0), _op(1.5, 1.6, 3.0)]
    assert stamp_resolution(read_columns(ops).stamp) == 1.0
    c = estimate_clock(ops)
    assert c.consistent and c.bound >= 0.9


def test_disagreeing_stamps_move_the_judge_to_the_server_clock():
    # two client machines, one 1 s behind the other, recorded as one clock
    ops = [_op(0, 0.01, 0.005), _op(0, 0.01, 1.005)]
    c = estimate_clock(ops)
    assert not c.consistent and c.bound >= 0.5
    tl = make_timeline(ops, per_worker=False, tolerance=0.05)
    assert tl.per_worker and tl.shift_widen("any")[1] == c.bound


def test_an_explicit_clock_overrides_the_estimate():
    ops = [_op(0, 0.1, 2.05)]
    tl = make_timeline(ops, per_worker=False, tolerance=0.0, clock=Clock(offset=2.0, bound=0.2))
    assert tl.expiry_shift == -2.0 and tl.slack == 0.2


def test_per_worker_clocks_are_estimated_separately():
    ops = [_op(0, 0.1, 1.05, "w1"), _op(0, 0.1, -0.95, "w2")]
    tl = make_timeline(ops, per_worker=True, tolerance=0.01)
    assert tl.shift_widen("w1")[0] == pytest.approx(1.0, abs=0.06)
    assert tl.shift_widen("w2")[0] == pytest.approx(-1.0, abs=0.06)
    assert tl.slack == 0.01


@pytest.mark.parametrize("offset", [-3.0, 0.0, 0.4, 7.5])
def test_the_same_history_reads_the_same_whatever_the_offset(offset: float):
    legal = HistoryBuilder(offset=offset)
    legal.create(seats=1)
    legal.checkout("a", 0, 0.1, expires=5.0)
    legal.checkout("b", 4.85, 4.95, expires=30)
    assert check_history(legal.history).ok
    bad = HistoryBuilder(offset=offset)
    bad.create(seats=1)
    bad.checkout("a", 0, 0.1, expires=5.0)
    bad.checkout("b", 4.5, 4.6, expires=30)
    assert check_history(bad.history).counts == {"over_grant": 1}


def test_stamps_anywhere_in_their_windows_never_make_a_legal_history_fail():
    # The server's clock is 1.3 s ahead; each answer is stamped at a random
    # instant of its window. The grant of b comes just after a's true expiry:
    # legal for every stamp placement within the windows.
    rng = random.Random(3)
    for _ in range(50):
        b = HistoryBuilder(offset=1.3)
        b.create(seats=1)

        def stamp(s: float, r: float) -> float:
            return rng.uniform(s, r)

        b.checkout("a", 0, 0.2, expires=5.0, stamp=stamp(0, 0.2))
        b.heartbeat("a", 3.0, 3.3, expires=8.2, stamp=stamp(3.0, 3.3))
        b.checkout("b", 8.1, 8.25, expires=20, stamp=stamp(8.1, 8.25))
        v = check_history(b.history)
        assert v.ok, v.render()


def test_per_worker_clocks_judge_a_history_from_two_machines():
    # w2's clock is 2 s behind w1's; judged per worker, the handover is legal.
    b = HistoryBuilder()
    b.create(seats=1)
    b.checkout("a", 0, 0.1, expires=5, worker="w1")
    b.checkin("a", 1, 1.1, worker="w1")
    b.checkout("b", 1.2 - 2.0, 1.3 - 2.0, expires=20, worker="w2", stamp=1.25)
    b.ops[-1].expires_at = (b.ops[-1].server_time or 0.0) + 18  # stamps stay on the server clock
    assert check_history(b.history, Model(clock_domains="worker")).ok
