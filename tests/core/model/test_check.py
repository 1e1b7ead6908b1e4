"""check_history: the whole history judged, the verdict as text and data."""

from __future__ import annotations

import gc
import json

import pytest

from leasecheck.core import history
from leasecheck.core.model import Accepted, HistoryBuilder, Model, check_history


def _two_kinds() -> HistoryBuilder:
    b = HistoryBuilder()
    b.create(seats=1)
    b.checkout("a", 0, 0.1, expires=10)
    b.checkout("b", 1, 1.1, expires=10)  # over-grant
    b.heartbeat("b", 2, 2.1, status=404)  # wrongful refusal of a live lease
    return b


def test_a_verdict_counts_every_kind_and_splits_the_directions():
    v = check_history(_two_kinds().history)
    assert not v.ok
    assert v.counts == {"over_grant": 1, "heartbeat_refused": 1}
    assert [x.kind for x in v.unsafe] == ["over_grant"]
    assert [x.kind for x in v.wrongful_refusals] == ["heartbeat_refused"]
    assert v.ops == 4 and v.licenses == 1
    j = v.to_json()
    json.dumps(j)
    assert j["counts"] == {"heartbeat_refused": 1, "over_grant": 1} and len(j["violations"]) == 2
    text = v.render()
    assert text.startswith("model check: 4 ops over 1 licenses: heartbeat_refused ×1, over_grant ×1")


def test_a_legal_history_renders_one_line():
    b = HistoryBuilder()
    b.create(seats=1)
    b.checkout("a", 0, 0.1, expires=10)
    v = check_history(b.history)
    assert v.ok and v.render().startswith("model check: 2 ops over 1 licenses, no violation")


def test_reports_are_capped_per_license_and_kind_but_all_counted():
    b = HistoryBuilder()
    b.create(seats=1)
    b.checkout("a", 0, 0.1, expires=100)
    for k in range(10):
        b.heartbeat("a", 1 + k, 1.1 + k, status=404)
    v = check_history(b.history, Model(max_reports=2))
    assert v.counts == {"heartbeat_refused": 10} and len(v.violations) == 2


def test_the_garbage_collector_is_left_as_found():
    assert gc.isenabled()
    check_history(_two_kinds().history)
    assert gc.isenabled()
    gc.disable()
    try:
        check_history(_two_kinds().history)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_history_module_exposes_the_same_checker_and_keeps_the_old_ones():
    h = _two_kinds().history
    assert history.check_history(h).counts == check_history(h).counts
    assert len(history.check_seats(h, {"L": 1})) == 1  # the old seat rule still answers as before


def test_iterables_of_ops_are_judged_too():
    assert check_history(iter(_two_kinds().ops)).counts["over_grant"] == 1


# ------------------------------------------------ the list, both ways
# Each violation kind the contract model must find, as the smallest hand-made
# history that shows it, with the witness roles (op indices) the verdict must
# name; and beside it a legal interleaving of the same ops that no order
# contradicts. Both are judged with the server's clock off the client's by
# each offset: the stamps bound the offset, and the verdict must not change.
OFFSETS = (0.0, 0.4, -2.5)


def _lease(b: HistoryBuilder, seats: int = 1, expires: float = 30) -> None:
    b.create(seats=seats)  # op 0
    b.checkout("a", 0, 0.1, expires=expires)  # op 1


def _over_grant(b: HistoryBuilder, legal: bool) -> None:
    _lease(b)
    if legal:
        b.checkin("a", 2.0, 2.3)  # the checkin may have freed the seat first
    b.checkout("b", 2.1, 2.2, expires=30)
    if not legal:
        b.checkin("a", 2.3, 2.4)


def _heartbeat_after_checkin(b: HistoryBuilder, legal: bool) -> None:
    _lease(b)
    b.checkin("a", 1, 1.1)
    b.heartbeat("a", 1.05 if legal else 2, 1.2 if legal else 2.1)  # racing it is legal


def _checkin_after_expiry(b: HistoryBuilder, legal: bool) -> None:
    _lease(b, expires=5)
    b.checkin("a", 4.9 if legal else 10, 5.0 if legal else 10.1)


def _other_licenses_lease(b: HistoryBuilder, legal: bool) -> None:
    _lease(b)
    b.checkin("a", 1, 1.1, license="M", status=404 if legal else 200)


def _replay_differs(b: HistoryBuilder, legal: bool) -> None:
    _lease(b, seats=2)  # room for the second lease: the replay's answer alone is wrong
    b.replay(1, 1, 1.1, **({} if legal else {"lease": "b"}))  # a new request_id is honest


def _refused_with_a_seat_free(b: HistoryBuilder, legal: bool) -> None:
    _lease(b)
    b.checkin("a", 3, 3.1)
    b.refuse_checkout(3.05 if legal else 4, 3.2 if legal else 4.1)


def _heartbeat_refused(b: HistoryBuilder, legal: bool) -> None:
    _lease(b)
    b.heartbeat("a", 29.0 if legal else 5, 29.1 if legal else 5.1, status=404)  # the last 5 % may be refused


def _checkin_refused(b: HistoryBuilder, legal: bool) -> None:
    _lease(b)
    b.checkin("a", 31 if legal else 5, 31.1 if legal else 5.1, status=404)


KIND_CASES = {
    "more than N held": (_over_grant, "over_grant", {"capacity": [0], "held": [1, 2]}),
    "heartbeat on a checked-in lease": (_heartbeat_after_checkin, "ended_lease_accepted", {"acknowledged": [1], "ended": [2], "accepted": [3]}),
    "checkin on an expired lease": (_checkin_after_expiry, "ended_lease_accepted", {"acknowledged": [1], "accepted": [2]}),
    "a lease of license L accepted under M": (_other_licenses_lease, "cross_license", {"first": [1], "accepted": [2]}),
    "a replay answering another lease": (_replay_differs, "replay_mismatch", {"first": [1], "replay": [2]}),
    "checkout refused with a seat free": (_refused_with_a_seat_free, "capacity_refused", {"capacity": [0], "refused": [3], "ended": [2]}),
    "heartbeat refused before the acknowledged expiry": (_heartbeat_refused, "heartbeat_refused", {"acknowledged": [1], "refused": [2]}),
    "checkin refused for a live lease": (_checkin_refused, "checkin_refused", {"acknowledged": [1], "refused": [2]}),
}  # fmt: skip
#: Where the default accepts the honest no-op, the case narrows it away.
NARROWED = {"checkin on an expired lease": Model(accepted=Accepted(checkin_of_ended_succeeds=False))}


@pytest.mark.parametrize("offset", OFFSETS)
@pytest.mark.parametrize("case", KIND_CASES)
def test_each_violation_kind_is_found_with_its_witness_and_its_legal_twin_is_not(case: str, offset: float):
    build, kind, roles = KIND_CASES[case]
    model = NARROWED.get(case, Model())
    bad, legal = HistoryBuilder(offset=offset), HistoryBuilder(offset=offset)
    build(bad, False)
    build(legal, True)
    v = check_history(bad.history, model)
    assert v.counts == {kind: 1}, v.render()
    (w,) = v.violations
    assert w.roles() == roles, w.render()
    assert w.render().startswith(f"{kind} on license")
    ok = check_history(legal.history, model)
    assert ok.ok, ok.render()
