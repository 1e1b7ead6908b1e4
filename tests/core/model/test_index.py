"""One pass puts each op where its rules look, with its effect window."""

from __future__ import annotations

import math

from leasecheck.core.model import HistoryBuilder, Model
from leasecheck.core.model.clock import make_timeline
from leasecheck.core.model.index import INDET, OK, REFUSED, SKIP, Index, outcome
from leasecheck.core.model.refusals import Claim


def _index(b: HistoryBuilder, model: Model | None = None) -> Index:
    model = model or Model()
    return Index(b.ops, make_timeline(b.ops, per_worker=False, tolerance=model.tolerance), model)


def test_outcomes():
    assert [outcome(s) for s in (200, 201, 404, 409, 403, 422, 410)] == [OK, OK] + [REFUSED] * 5
    assert [outcome(s) for s in (None, 500, 503)] == [INDET] * 3
    assert [outcome(s) for s in (400, 401, 429, 302)] == [SKIP] * 4


def test_ops_land_per_license_lease_and_key():
    b = HistoryBuilder()
    cr = b.create(seats=3, timeout=30.0)
    g = b.checkout("a", 0, 0.1, key="k")
    rp = b.replay(g, 0.2, 0.3)
    h = b.heartbeat("a", 1, 1.1)
    hr = b.heartbeat("a", 2, 2.1, status=404)
    c = b.checkin("a", 3, 3.1)
    r = b.refuse_checkout(4, 4.1)
    lost = b.add("checkout", 5, None, None, key="k9")
    b.add("checkout", 6, 6.1, 400)  # malformed: not judged
    idx = _index(b)
    lf = idx.licenses["L"]
    assert (lf.create, lf.seats, lf.timeout) == (cr, 3, 30.0)
    le = lf.leases["a"]
    assert le.checkouts == [g, rp] and le.heartbeats == [h] and le.hb_refused == (hr,) and le.checkins == [c]
    assert lf.checkout_keys["k"] == [g, rp] and lf.reused_keys == [("checkout", "k")]
    assert lf.checkout_refusals == [r] and lf.lease_refusals == [hr] and lf.phantoms == [lost]
    assert idx.claims[hr] is Claim.LEASE_ENDED
    assert idx.R[lost] == math.inf  # no answer: may take effect any time after its send


def test_the_horizon_bounds_when_an_unanswered_request_may_still_take_effect():
    b = HistoryBuilder()
    lost = b.add("checkout", 5, None, None, key="k")
    assert _index(b, Model(indeterminate_horizon=10.0)).R[lost] == b.ops[lost].sent_at + 10.0


def test_a_token_named_by_two_licenses_is_shared():
    b = HistoryBuilder()
    b.checkout("a", 0, 0.1)
    b.heartbeat("a", 1, 1.1, license="M")
    idx = _index(b)
    assert idx.shared == {"a": ["L", "M"]}
    assert idx.licenses["M"].leases["a"].heartbeats == [1]
    assert idx.licenses["L"].leases["a"].checkouts == [0]


def test_refused_management_calls_change_nothing():
    b = HistoryBuilder()
    b.status("suspend", 1, 1.1, status=409)
    s = b.status("suspend", 2, 2.1)
    assert _index(b).licenses["L"].status_ops == [s]
