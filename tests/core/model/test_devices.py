"""One lease, one device, one license."""

from __future__ import annotations

from leasecheck.core.model import Accepted, HistoryBuilder, Model, check_history


def test_a_heartbeat_of_another_licenses_lease_that_succeeds_is_cross_license():
    b = HistoryBuilder()
    b.create(seats=1)
    g = b.checkout("a", 0, 0.1, expires=30)
    h = b.heartbeat("a", 1, 1.1, expires=31, license="M")
    v = check_history(b.history)
    assert v.counts == {"cross_license": 1}
    (w,) = v.violations
    assert w.license == "M" and w.details == {"owner": "L"}
    assert w.roles() == {"first": [g], "accepted": [h]}


def test_refusing_another_licenses_lease_is_right():
    b = HistoryBuilder()
    b.create(seats=1)
    b.checkout("a", 0, 0.1, expires=30)
    b.heartbeat("a", 1, 1.1, status=404, license="M")
    b.checkin("a", 2, 2.1, status=404, license="M")
    assert check_history(b.history).ok


def test_a_key_reused_under_another_license_must_not_return_the_first_licenses_lease():
    b = HistoryBuilder()
    b.create(seats=1)
    g = b.checkout("a", 0, 0.1, expires=30, key="k")
    r = b.replay(g, 1, 1.1, license="M")
    assert b.sole_violation("cross_license").roles() == {"first": [g], "accepted": [r]}


def test_the_owners_seat_rules_see_what_the_other_license_did_to_the_lease():
    # M's (wrongly accepted) heartbeat kept L's lease alive: L's later refusal is
    # explained by it, so only the cross-license violation is reported.
    b = HistoryBuilder()
    b.create(seats=1)
    b.checkout("a", 0, 0.1, expires=5)
    b.heartbeat("a", 4, 4.1, expires=14.1, license="M")
    b.refuse_checkout(8, 8.1)
    assert check_history(b.history).counts == {"cross_license": 1}


def test_the_same_device_may_get_its_lease_back_with_a_new_key():
    b = HistoryBuilder()
    b.create(seats=1)
    b.checkout("a", 0, 0.1, expires=10, device="laptop")
    u = b.checkout("a", 5, 5.1, expires=15.1, device="laptop")
    b.refuse_checkout(12, 12.1)  # the reuse extended the lease: the seat is taken
    assert check_history(b.history).ok
    assert b.sole_violation("device_mismatch", Model(accepted=Accepted(same_device_reuse=False))).roles() == {
        "first": [1],
        "accepted": [u],
    }


def test_a_lease_returned_to_another_device_is_a_device_mismatch():
    b = HistoryBuilder()
    b.create(seats=2)
    g = b.checkout("a", 0, 0.1, expires=10, device="laptop")
    u = b.checkout("a", 5, 5.1, expires=15.1, device="desktop")
    assert b.sole_violation("device_mismatch").roles() == {"first": [g], "accepted": [u]}


def test_a_second_seat_for_one_device_is_accepted_unless_narrowed():
    b = HistoryBuilder()
    b.create(seats=2)
    g1 = b.checkout("a", 0, 0.1, expires=10, device="laptop")
    g2 = b.checkout("b", 1, 1.1, expires=11, device="laptop")
    assert check_history(b.history).ok
    assert b.sole_violation("device_mismatch", Model(accepted=Accepted(same_device_new_seat=False))).roles() == {
        "held": [g1, g2]
    }
    b.checkin("a", 0.5, 0.6)
    assert check_history(b.history, Model(accepted=Accepted(same_device_new_seat=False))).ok
