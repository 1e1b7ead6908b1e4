"""Seats in use are read from the checker's own sweep, not recomputed by a second rule."""

from __future__ import annotations

from leasecheck.core.model import HistoryBuilder, check_history
from leasecheck.load.analysis.occupancy import occupancies, occupancy


def test_steps_take_the_last_count_of_an_instant_and_close_at_the_end_of_observation():
    occ = occupancy(([1.0, 2.0, 2.0, 3.0, 9.0], [1, 0, 1, 2, 1]), "L", 2, until=5.0)
    assert occ.steps == [(1.0, 1), (2.0, 1), (3.0, 2), (5.0, 1)]
    assert occ.peak() == 2
    assert occ.grants(0.0, 2.5) == 2 and occ.grants(2.5, 10.0) == 1
    assert occ.mean(1.0, 5.0) == (1 * 2 + 2 * 2) / 4


def test_occupancy_is_what_the_checker_counted_held_and_a_license_never_used_holds_nothing():
    b = HistoryBuilder()
    b.create(seats=1)
    b.checkout("a", 0, 1, expires=60)
    b.checkout("b", 0.5, 2, expires=60)  # a second certainly held lease on one seat: an over-grant
    v = check_history(b.history, held=True)
    assert v.counts == {"over_grant": 1}
    occ = occupancies(v.held, {"L": 1, "unused": 3}, until=b.ops[-1].received_at + 100)
    assert occ["L"].peak() == 2  # the plot shows the over-grant the verdict reports
    assert occ["unused"].steps == [] and occ["unused"].peak() == 0
