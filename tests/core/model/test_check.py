"""check_history: the whole history judged, the verdict as text and data."""

from __future__ import annotations

import gc
import json

from leasecheck.core import history
from leasecheck.core.model import HistoryBuilder, Model, check_history


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
