"""A live lease refused, an active license called inactive: wrongful only when certain."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from leasecheck.core.model import Accepted, HistoryBuilder, Model, check_history
from leasecheck.core.model.builder import Expected


def _lease(expires: float = 10.0) -> tuple[HistoryBuilder, int]:
    """License L with one seat (op 0), lease "a" acknowledged at 0.1 (op 1)."""
    b = HistoryBuilder()
    b.create(seats=1)
    g = b.checkout("a", 0, 0.1, expires=expires)
    return b, g


def _hb_refused(b: HistoryBuilder, at: float) -> None:
    b.heartbeat("a", at, at + 0.1, status=404)


#: What follows `_lease()` (its ops are numbered from 2), and the verdict it earns.
CASES: dict[str, tuple[Callable[[HistoryBuilder], object], Expected]] = {
    "a_heartbeat_refused_long_before_expiry_is_wrongful_with_its_acknowledgement": (
        lambda b: _hb_refused(b, 5),
        ("heartbeat_refused", {"acknowledged": [1], "refused": [2]}),
    ),
    # 5 % of the lease's 10 s, plus the slack: refusals answered after ~9.44 are honest.
    "a_heartbeat_close_to_expiry_may_be_refused": (lambda b: _hb_refused(b, 9.6), None),
    "a_heartbeat_not_close_enough_to_expiry_is_wrongful": (
        lambda b: _hb_refused(b, 9.0),
        ("heartbeat_refused", {"acknowledged": [1], "refused": [2]}),
    ),
    "a_late_but_successful_heartbeat_is_legal": (
        lambda b: (b.heartbeat("a", 9.8, 9.9, expires=19.9), b.heartbeat("a", 19.5, 19.6, expires=29.6)),
        None,
    ),
    "a_heartbeat_refused_while_a_checkin_was_in_flight_is_honest": (
        lambda b: (b.checkin("a", 5, 5.2), b.heartbeat("a", 5.1, 5.3, status=404)),
        None,
    ),
    "a_heartbeat_refused_after_its_chain_of_heartbeats_is_judged_by_the_latest": (
        lambda b: (
            b.heartbeat("a", 8, 8.1, expires=18.1),
            b.heartbeat("a", 15, 15.1, status=409, code="LEASE_EXPIRED"),
        ),
        ("heartbeat_refused", {"acknowledged": [2], "refused": [3]}),
    ),
    "a_checkin_refused_for_a_live_lease_is_wrongful": (
        lambda b: b.checkin("a", 5, 5.1, status=404),
        ("checkin_refused", {"acknowledged": [1], "refused": [2]}),
    ),
    "a_checkin_refused_after_expiry_is_honest": (lambda b: b.checkin("a", 10.5, 10.6, status=404), None),
    "a_checkin_refused_after_a_checkin_is_honest": (  # checked in twice: error or no-op
        lambda b: (b.checkin("a", 5, 5.1), b.checkin("a", 6, 6.1, status=409, code=None)),
        None,
    ),
    "a_refusal_while_the_license_may_be_suspended_is_honest": (
        lambda b: (b.status("suspend", 4.9, 5.2), _hb_refused(b, 5)),
        None,
    ),
    "a_refusal_of_another_licenses_lease_is_right": (
        lambda b: b.heartbeat("a", 5, 5.1, status=404, license="other"),
        None,
    ),
    "a_license_state_refusal_while_certainly_active_is_wrongful": (
        lambda b: b.refuse_checkout(5, 5.1, status=403, code="LICENSE_SUSPENDED"),
        ("status_refused", {"status": [0], "refused": [2]}),
    ),
    # The refusal after the suspend (op 3) is honest: the sole violation is the one after reinstate.
    "a_license_state_refusal_after_a_suspend_is_honest_and_after_reinstate_wrongful": (
        lambda b: (
            b.status("suspend", 3, 3.1),
            b.refuse_checkout(5, 5.1, status=403, code="LICENSE_SUSPENDED"),
            b.status("reinstate", 6, 6.1),
            b.refuse_checkout(7, 7.1, status=403, code="LICENSE_INACTIVE"),
        ),
        ("status_refused", {"status": [4], "refused": [5]}),
    ),
    "a_license_state_refusal_racing_a_reinstate_is_honest": (
        lambda b: (
            b.status("suspend", 3, 3.1),
            b.status("reinstate", 6, 6.3),
            b.refuse_checkout(6.1, 6.2, status=403, code="LICENSE_SUSPENDED"),
        ),
        None,
    ),
    "license_expired_refusals_are_not_judged": (
        lambda b: b.refuse_checkout(5, 5.1, status=403, code="LICENSE_EXPIRED"),
        None,
    ),
}


@pytest.mark.parametrize("steps, expected", CASES.values(), ids=CASES.keys())
def test_after_a_live_lease(steps: Callable[[HistoryBuilder], object], expected: Expected) -> None:
    _lease()[0].then(steps).assert_verdict(expected)


def test_a_heartbeat_close_to_expiry_is_wrongful_when_no_margin_is_accepted():
    strict = Model(accepted=Accepted(late_heartbeat_margin=0.0))
    b, _ = _lease()
    _hb_refused(b, 9.6)
    assert check_history(b.history, strict).counts == {"heartbeat_refused": 1}


def test_a_checkin_refused_as_a_key_conflict_after_the_key_was_used_is_honest():
    b, _ = _lease()
    b.checkin("a", 5, None, status=None, key="k-ci")  # no answer: retried with its key
    b.checkin("a", 7.2, 7.3, status=422, code="IDEMPOTENCY_CONFLICT", key="k-ci")
    assert "checkin_refused" not in check_history(b.history).counts


def test_an_uncoded_403_heartbeat_refusal_is_judged_only_when_asked():
    b, _ = _lease()
    b.heartbeat("a", 5, 5.1, status=403, code=None)
    assert check_history(b.history).ok
    assert check_history(b.history, Model(judge_uncoded_refusals=True)).counts == {"heartbeat_refused": 1}


def test_an_uncoded_422_to_an_oversized_checkin_is_not_judged():
    b, _ = _lease()
    b.checkin("a", 5, 5.1, status=422, code="E4220", key="k" * 65, oversized=True)
    assert check_history(b.history, Model(judge_uncoded_refusals=True)).ok
    b.checkin("a", 6, 6.1, status=422, code="E4220", key="j" * 65)  # the same refusal, not marked
    assert check_history(b.history, Model(judge_uncoded_refusals=True)).counts == {"checkin_refused": 1}


def test_without_create_op_a_success_shows_the_license_was_active():
    b = HistoryBuilder()
    g = b.checkout("a", 0, 0.1, expires=10)
    r = b.refuse_checkout(5, 5.1, status=403, code="LICENSE_REVOKED")
    assert b.sole_violation("status_refused").roles() == {"status": [g], "refused": [r]}
