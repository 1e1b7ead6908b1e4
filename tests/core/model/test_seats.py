"""Seat rules both ways: over-grants, and over-capacity refusals nothing explains."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from leasecheck.core.model import Accepted, HistoryBuilder, Model, check_history
from leasecheck.core.model.builder import Expected


def test_three_leases_certainly_held_on_two_seats_is_an_over_grant_with_the_three_grants():
    b = HistoryBuilder()
    cap = b.create(seats=2)
    a = b.checkout("a", 0, 1, expires=60)
    bb = b.checkout("b", 0, 1.5, expires=60)
    c = b.checkout("c", 0.2, 2, expires=60)
    v = check_history(b.history)
    assert v.counts == {"over_grant": 1}
    (w,) = v.violations
    assert w.roles() == {"capacity": [cap], "held": [a, bb, c]}
    assert w.window == (b.ops[c].received_at, b.ops[c].received_at)
    assert w.details["leases"] == ["a", "b", "c"]


def _one_seat() -> HistoryBuilder:
    b = HistoryBuilder()
    b.create(seats=1)
    return b


Steps = Callable[[HistoryBuilder], object]

#: What follows `_one_seat()` (op 0 creates it), and the verdict it earns.
OVER_GRANTS: dict[str, tuple[Steps, Expected]] = {
    # The checkin was sent before the new grant was answered: the server may have freed the seat first.
    "a_checkin_racing_a_checkout_for_the_last_seat_is_legal": (
        lambda b: (
            b.checkout("a", 0, 0.1, expires=60),
            b.checkin("a", 2.0, 2.3),
            b.checkout("b", 2.1, 2.2, expires=60),
        ),
        None,
    ),
    "a_checkin_sent_after_the_new_grant_was_answered_is_an_over_grant": (
        lambda b: (
            b.checkout("a", 0, 0.1, expires=60),
            b.checkin("a", 2.3, 2.4),
            b.checkout("b", 2.1, 2.2, expires=60),
        ),
        ("over_grant", {"capacity": [0], "held": [1, 3]}),
    ),
    # slack = clock bound (~6 ms here) + tolerance (50 ms): a is certain until ~4.944.
    "a_grant_after_expiry_less_the_clock_slack_is_legal": (
        lambda b: (b.checkout("a", 0, 0.1, expires=5.0), b.checkout("b", 4.85, 4.95, expires=30)),
        None,
    ),
    "expiry_ends_certainty_at_lease_expires_at_less_the_clock_slack": (
        lambda b: (b.checkout("a", 0, 0.1, expires=5.0), b.checkout("b", 4.8, 4.9, expires=30)),
        ("over_grant", {"capacity": [0], "held": [1, 2]}),
    ),
    # No over-grant: the refusal itself is judged by its own rule.
    "a_heartbeat_refused_ends_certainty_at_its_send": (
        lambda b: (
            b.checkout("a", 0, 0.1, expires=50),
            b.heartbeat("a", 3, 3.1, status=404),
            b.checkout("b", 4.0, 4.1, expires=50),
        ),
        ("heartbeat_refused", {"acknowledged": [1], "refused": [2]}),
    ),
}


@pytest.mark.parametrize("steps, expected", OVER_GRANTS.values(), ids=OVER_GRANTS.keys())
def test_on_one_seat(steps: Steps, expected: Expected) -> None:
    _one_seat().then(steps).assert_verdict(expected)


def test_heartbeats_keep_a_lease_certainly_held():
    b = _one_seat()
    b.checkout("a", 0, 0.1, expires=5)
    hb = b.heartbeat("a", 4.0, 4.1, expires=9.1)
    b.assert_verdict(None)
    late = b.checkout("b", 6.0, 6.1, expires=30)
    b.assert_verdict(("over_grant", {"capacity": [0], "held": [hb, late]}))  # the heartbeat holds a, not the grant


def test_over_grants_are_counted_per_episode():
    b = HistoryBuilder()
    b.create(seats=1)
    b.checkout("a", 0, 0.1, expires=3)
    b.checkout("b", 1, 1.1, expires=3)
    b.checkout("c", 10, 10.1, expires=13)
    b.checkout("d", 11, 11.1, expires=13)
    assert check_history(b.history).counts == {"over_grant": 2}


def test_zero_seats_grant_nothing():
    b = HistoryBuilder()
    b.create(seats=0)
    b.refuse_checkout(1, 1.1)
    assert check_history(b.history).ok
    b.checkout("a", 2, 2.1, expires=30)
    assert check_history(b.history).counts == {"over_grant": 1}


# ------------------------------------------------------------ wrongful refusals
def _one_seat_checked_in() -> HistoryBuilder:
    b = HistoryBuilder()
    b.create(seats=1)
    b.checkout("a", 0, 0.1, expires=10)
    b.checkin("a", 3, 3.1)
    return b


def test_a_refusal_after_the_only_lease_was_checked_in_is_wrongful_with_the_checkin_as_witness():
    b = _one_seat_checked_in()
    r = b.refuse_checkout(4, 4.1)
    v = check_history(b.history)
    assert v.counts == {"capacity_refused": 1}
    (w,) = v.violations
    assert w.roles() == {"capacity": [0], "refused": [r], "ended": [2]}
    assert w.details["possibly_held"] == []


def test_an_expired_lease_may_keep_its_seat_for_the_reclaim_delay():
    legal = HistoryBuilder()
    legal.create(seats=1)
    legal.checkout("a", 0, 0.1, expires=5)
    legal.refuse_checkout(5.5, 5.6)  # 5 + slack + 1 s reclaim delay > 5.6
    assert check_history(legal.history).ok
    bad = HistoryBuilder()
    bad.create(seats=1)
    g = bad.checkout("a", 0, 0.1, expires=5)
    r = bad.refuse_checkout(6.2, 6.3)
    assert bad.sole_violation("capacity_refused").roles() == {"capacity": [0], "refused": [r], "ended": [g]}
    assert check_history(bad.history, Model(accepted=Accepted(reclaim_delay=2.0))).ok


def test_possibly_held_leases_are_named_when_fewer_than_n():
    b = HistoryBuilder()
    b.create(seats=2)
    a = b.checkout("a", 0, 0.1, expires=30)
    r = b.refuse_checkout(1, 1.1)
    assert b.sole_violation("capacity_refused").roles() == {"capacity": [0], "refused": [r], "possibly held": [a]}
    b.checkout("b", 0.5, 0.6, expires=30)
    assert check_history(b.history).ok


def test_a_refusal_of_the_device_that_holds_a_lease_may_be_a_same_device_refusal():
    b = HistoryBuilder()
    b.create(seats=2)
    b.checkout("a", 0, 0.1, expires=30, device="laptop")
    b.refuse_checkout(1, 1.1, status=422, code="FINGERPRINT_TAKEN", device="laptop")
    assert check_history(b.history).ok
    narrowed = Model(accepted=Accepted(same_device_refusal=False))
    assert check_history(b.history, narrowed).counts == {"capacity_refused": 1}
    other = HistoryBuilder()
    other.create(seats=2)
    other.checkout("a", 0, 0.1, expires=30, device="laptop")
    other.refuse_checkout(1, 1.1, status=422, code="FINGERPRINT_TAKEN", device="desktop")
    assert check_history(other.history).counts == {"capacity_refused": 1}


#: What follows `_one_seat_checked_in()` (its ops are numbered from 3), and the verdict it earns.
REFUSALS: dict[str, tuple[Steps, Expected]] = {
    "a_refusal_racing_the_checkin_is_legal": (lambda b: b.refuse_checkout(3.05, 3.2), None),
    # Only the first is wrongful: its key was fresh.
    "a_refusal_whose_key_was_used_before_may_be_a_conflict": (
        lambda b: (
            b.refuse_checkout(3.5, 3.6, key="k-x"),
            b.refuse_checkout(4, 4.1, key="k-x", status=422, code="IDEMPOTENCY_CONFLICT"),
        ),
        ("capacity_refused", {"capacity": [0], "refused": [3], "ended": [2]}),
    ),
    "a_refusal_while_the_license_may_be_suspended_is_honest": (
        lambda b: (
            b.status("suspend", 3.9, 4.2),
            b.refuse_checkout(4, 4.1, status=403, code="FLOATING_LIMIT_EXCEEDED"),
        ),
        None,
    ),
    "a_checkout_that_got_no_answer_may_hold_the_seat": (
        lambda b: (
            b.add("checkout", 3.5, None, None, key="k-lost", body="bind:x", device="x"),
            b.refuse_checkout(4, 4.1),
        ),
        None,
    ),
}


@pytest.mark.parametrize("steps, expected", REFUSALS.values(), ids=REFUSALS.keys())
def test_after_the_only_lease_was_checked_in(steps: Steps, expected: Expected) -> None:
    _one_seat_checked_in().then(steps).assert_verdict(expected)


def test_uncoded_403_refusals_are_judged_only_when_asked():
    b = _one_seat_checked_in()
    b.refuse_checkout(4, 4.1, status=403, code=None)
    assert check_history(b.history).ok  # may be device, policy or version state
    assert check_history(b.history, Model(judge_uncoded_refusals=True)).counts == {"capacity_refused": 1}


@pytest.mark.parametrize("status", [400, 422])
def test_an_uncoded_length_refusal_of_an_oversized_request_is_not_judged(status: int):
    """A 400/422 whose code names nothing, to a value beyond what every server must take, may be
    the server's own length limit (facts), even where uncoded refusals are judged."""
    b = _one_seat_checked_in()
    b.refuse_checkout(4, 4.1, status=status, code="E4220", oversized=True)
    assert check_history(b.history, Model(judge_uncoded_refusals=True)).ok


@pytest.mark.parametrize(
    "status, code",
    [(409, "E4220"), (403, None), (422, "FLOATING_LIMIT_EXCEEDED")],
    ids=["a-409", "an-uncoded-403", "a-coded-capacity-422"],
)
def test_an_oversized_request_is_judged_when_its_refusal_claims_something(status: int, code: str | None):
    """Only a length limit's statuses with a code that says nothing are excused: a 409, a 403 or a
    capacity code is a claim about the pool, judged as for any request."""
    b = _one_seat_checked_in()
    b.refuse_checkout(4, 4.1, status=status, code=code, oversized=True)
    assert check_history(b.history, Model(judge_uncoded_refusals=True)).counts == {"capacity_refused": 1}


def test_capacity_given_by_the_caller_judges_a_license_without_create_op():
    b = HistoryBuilder()
    b.checkout("a", 0, 0.1, expires=30)
    b.checkout("b", 1, 1.1, expires=30)
    assert check_history(b.history).ok  # seats unknown
    assert check_history(b.history).unjudged_licenses == ["L"]
    assert check_history(b.history, capacity={"L": 1}).counts == {"over_grant": 1}


def test_held_returns_the_over_grant_sweep_a_report_plots_as_seats_in_use():
    b = HistoryBuilder()
    b.create(seats=2)
    a = b.checkout("a", 0, 1, expires=60)
    bb = b.checkout("b", 0, 1.5, expires=60)
    ci = b.checkin("a", 10, 10.2)
    assert check_history(b.history).held == {}  # only on request
    v = check_history(b.history, held=True)
    times, counts = v.held["L"]
    ops = b.ops
    slack = v.timeline.slack
    # a: from its grant's receive to the send of its checkin; b: to its expiry less the slack.
    assert times[:3] == [ops[a].received_at, ops[bb].received_at, ops[ci].sent_at]
    assert counts == [1, 2, 1, 0]
    assert times[3] == pytest.approx(ops[bb].expires_at + v.timeline.expiry_shift - slack)  # type: ignore[operator]
