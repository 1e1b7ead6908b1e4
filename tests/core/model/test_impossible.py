"""Successes no honest server gives — and the near misses it may."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from leasecheck.core.model import Accepted, HistoryBuilder, Model, check_history
from leasecheck.core.model.builder import Expected

Steps = Callable[[HistoryBuilder], object]


def _checked_in() -> tuple[HistoryBuilder, int, int]:
    b = HistoryBuilder()
    b.create(seats=2)
    g = b.checkout("a", 0, 0.1, expires=10)
    c = b.checkin("a", 2, 2.1)
    return b, g, c


#: What follows `_checked_in()` (ops 0-2; the next is 3), and the verdict it earns.
AFTER_CHECKIN: dict[str, tuple[Steps, Expected]] = {
    "a_heartbeat_after_the_checkin_was_answered_is_an_ended_lease_accepted": (
        lambda b: b.heartbeat("a", 2.2, 2.3, expires=12.3),
        ("ended_lease_accepted", {"acknowledged": [1], "ended": [2], "accepted": [3]}),
    ),
    "a_heartbeat_racing_the_checkin_is_legal": (lambda b: b.heartbeat("a", 2.05, 2.3, expires=12.3), None),
    "a_checkout_with_a_new_key_returning_a_checked_in_lease_is_impossible": (
        lambda b: b.checkout("a", 3, 3.1, expires=13.1, device="dev-a"),
        ("ended_lease_accepted", {"acknowledged": [1], "ended": [2], "accepted": [3]}),
    ),
    "a_replay_after_checkin_may_return_the_stored_answer": (lambda b: b.replay(1, 3, 3.1, request_id="req-new"), None),
}


@pytest.mark.parametrize("steps, expected", AFTER_CHECKIN.values(), ids=AFTER_CHECKIN.keys())
def test_after_a_checkin(steps: Steps, expected: Expected) -> None:
    _checked_in()[0].then(steps).assert_verdict(expected)


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
    b.assert_verdict(("over_grant", {"capacity": [0], "held": [nb, h]}))


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


def _two_seats() -> HistoryBuilder:
    b = HistoryBuilder()
    b.create(seats=2)
    return b


#: What follows `_two_seats()` (op 0 creates it), and the verdict it earns.
LICENSE_STATE: dict[str, tuple[Steps, Expected]] = {
    "a_checkout_granted_while_the_license_was_certainly_suspended_is_impossible": (
        lambda b: (b.status("suspend", 5, 5.1), b.checkout("a", 6, 6.1, expires=16)),
        ("inactive_license_granted", {"status": [1], "accepted": [2]}),
    ),
    "a_checkout_racing_the_suspend_or_after_reinstate_is_legal": (
        lambda b: (
            b.status("suspend", 5, 5.3),
            b.checkout("a", 5.1, 5.2, expires=15),
            b.status("reinstate", 8, 8.1),
            b.checkout("b", 9, 9.1, expires=19),
        ),
        None,
    ),
    "a_suspend_that_got_no_answer_may_or_may_not_have_happened": (
        lambda b: (b.status("suspend", 5, None, status=None), b.checkout("a", 6, 6.1, expires=16)),
        None,
    ),
    "revoked_licenses_grant_nothing": (
        lambda b: (b.status("revoke", 5, 5.1), b.checkout("a", 6, 6.1, expires=16)),
        ("inactive_license_granted", {"status": [1], "accepted": [2]}),
    ),
}


@pytest.mark.parametrize("steps, expected", LICENSE_STATE.values(), ids=LICENSE_STATE.keys())
def test_on_two_seats(steps: Steps, expected: Expected) -> None:
    _two_seats().then(steps).assert_verdict(expected)
