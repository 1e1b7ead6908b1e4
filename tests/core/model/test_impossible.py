"""Successes no honest server gives — and the near misses it may."""

from __future__ import annotations

from leasecheck.core.model import Accepted, HistoryBuilder, Model, check_history


def _checked_in() -> tuple[HistoryBuilder, int, int]:
    b = HistoryBuilder()
    b.create(seats=2)
    g = b.checkout("a", 0, 0.1, expires=10)
    c = b.checkin("a", 2, 2.1)
    return b, g, c


def test_a_heartbeat_after_the_checkin_was_answered_is_an_ended_lease_accepted():
    b, g, c = _checked_in()
    h = b.heartbeat("a", 2.2, 2.3, expires=12.3)
    assert b.sole_violation("ended_lease_accepted").roles() == {"acknowledged": [g], "ended": [c], "accepted": [h]}


def test_a_heartbeat_racing_the_checkin_is_legal():
    b, _g, _c = _checked_in()
    b.heartbeat("a", 2.05, 2.3, expires=12.3)
    assert check_history(b.history).ok


def test_a_checkout_with_a_new_key_returning_a_checked_in_lease_is_impossible():
    b, _g, c = _checked_in()
    r = b.checkout("a", 3, 3.1, expires=13.1, device="dev-a")
    v = check_history(b.history)
    assert v.counts == {"ended_lease_accepted": 1}
    assert v.violations[0].roles()["accepted"] == [r]
    assert v.violations[0].roles()["ended"] == [c]


def test_a_replay_after_checkin_may_return_the_stored_answer():
    b, g, _c = _checked_in()
    b.replay(g, 3, 3.1, request_id="req-new")
    assert check_history(b.history).ok


def test_expiry_then_revival_is_accepted_by_default_and_not_when_narrowed():
    b = HistoryBuilder()
    b.create(seats=1)
    g = b.checkout("a", 0, 0.1, expires=5)
    h = b.heartbeat("a", 7, 7.1, expires=17.1)
    assert check_history(b.history).ok
    assert b.sole_violation("ended_lease_accepted", Model(accepted=Accepted(revive_expired=False))).roles() == {
        "acknowledged": [g],
        "accepted": [h],
    }


def test_a_heartbeat_just_after_expiry_is_not_certainly_a_revival():
    b = HistoryBuilder()
    b.create(seats=1)
    b.checkout("a", 0, 0.1, expires=5)
    b.heartbeat("a", 5.02, 5.1, expires=15.1)  # within the clock slack of the expiry
    assert check_history(b.history, Model(accepted=Accepted(revive_expired=False))).ok


def test_a_revival_behind_a_full_pool_is_an_over_grant():
    b = HistoryBuilder()
    b.create(seats=1)
    b.checkout("a", 0, 0.1, expires=5)
    nb = b.checkout("b", 6, 6.1, expires=30)
    h = b.heartbeat("a", 7, 7.1, expires=17.1)
    v = check_history(b.history)
    assert v.counts == {"over_grant": 1}
    assert v.violations[0].roles()["held"] == [nb, h]


def test_a_no_op_checkin_of_an_expired_lease_then_a_revival_is_legal():
    b = HistoryBuilder()
    b.create(seats=1)
    b.checkout("a", 0, 0.1, expires=5)
    b.checkin("a", 6, 6.1)  # 200 no-op: the lease had expired
    b.heartbeat("a", 7, 7.1, expires=17.1)  # revived while the seat is free
    assert check_history(b.history).ok
    narrowed = Model(accepted=Accepted(checkin_of_ended_succeeds=False))
    assert check_history(b.history, narrowed).counts["ended_lease_accepted"] >= 1


def test_a_second_checkin_answered_200_is_accepted_unless_narrowed():
    b, _g, c = _checked_in()
    c2 = b.checkin("a", 3, 3.1)
    assert check_history(b.history).ok
    assert b.sole_violation(
        "ended_lease_accepted", Model(accepted=Accepted(checkin_of_ended_succeeds=False))
    ).roles() == {"ended": [c], "accepted": [c2]}


def test_a_checkout_granted_while_the_license_was_certainly_suspended_is_impossible():
    b = HistoryBuilder()
    b.create(seats=2)
    s = b.status("suspend", 5, 5.1)
    g = b.checkout("a", 6, 6.1, expires=16)
    assert b.sole_violation("inactive_license_granted").roles() == {"status": [s], "accepted": [g]}


def test_a_checkout_racing_the_suspend_or_after_reinstate_is_legal():
    b = HistoryBuilder()
    b.create(seats=2)
    b.status("suspend", 5, 5.3)
    b.checkout("a", 5.1, 5.2, expires=15)
    b.status("reinstate", 8, 8.1)
    b.checkout("b", 9, 9.1, expires=19)
    assert check_history(b.history).ok


def test_a_suspend_that_got_no_answer_may_or_may_not_have_happened():
    b = HistoryBuilder()
    b.create(seats=2)
    b.status("suspend", 5, None, status=None)
    b.checkout("a", 6, 6.1, expires=16)
    assert check_history(b.history).ok


def test_revoked_licenses_grant_nothing():
    b = HistoryBuilder()
    b.create(seats=2)
    b.status("revoke", 5, 5.1)
    b.checkout("a", 6, 6.1, expires=16)
    assert check_history(b.history).counts == {"inactive_license_granted": 1}
