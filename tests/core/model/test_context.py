"""One license's shared reading, and the violation sink."""

from __future__ import annotations

from leasecheck.core.model import HistoryBuilder, Model
from leasecheck.core.model.clock import make_timeline
from leasecheck.core.model.context import LicenseContext, Reporter
from leasecheck.core.model.index import Index
from leasecheck.core.model.witness import Violation


def _ctx(b: HistoryBuilder, seats: int | None = 1) -> LicenseContext:
    idx = Index(b.ops, make_timeline(b.ops, per_worker=False, tolerance=0.05), Model())
    return LicenseContext(idx, idx.licenses["L"], Reporter(2), seats)


def test_the_reporter_counts_everything_and_keeps_the_first_few():
    rep = Reporter(2)
    built: list[int] = []

    def build() -> Violation:
        built.append(1)
        return Violation("over_grant", "L", "x", [])

    for _ in range(5):
        rep.report("over_grant", "L", build)
    rep.report("over_grant", "M", build)
    assert rep.counts == {"over_grant": 6}
    assert len(rep.violations) == 3 and len(built) == 3


def test_a_key_used_before_on_either_endpoint():
    b = HistoryBuilder()
    b.checkout("a", 0, 0.1, key="k")
    r = b.refuse_checkout(1, 1.1, key="k")
    c = b.checkin("a", 2, 2.1, key="k2")
    r2 = b.refuse_checkout(3, 3.1, key="k2")
    fresh = b.refuse_checkout(4, 4.1, key="k3")
    ctx = _ctx(b)
    assert ctx.key_used_before(r) and ctx.key_used_before(r2) and not ctx.key_used_before(fresh)
    assert not ctx.key_used_before(c)


def test_the_timeout_bound_comes_from_the_create_op_or_the_longest_grant():
    b = HistoryBuilder()
    b.checkout("a", 0, 0.1, expires=12)
    assert abs(_ctx(b).timeout_up() - (12 + _ctx(b).idx.slack)) < 1e-6
    b.create(seats=1, timeout=60.0)
    assert abs(_ctx(b).timeout_up() - (60 + _ctx(b).idx.slack)) < 1e-6
    none = HistoryBuilder()
    none.refuse_checkout(0, 0.1)
    assert _ctx(none).timeout_up() == float("inf")


def test_status_evidence_only_when_the_status_ever_changed():
    b = HistoryBuilder()
    b.create(seats=1)
    b.checkout("a", 0, 0.1)
    ctx = _ctx(b)
    assert ctx.status_evidence(ctx.idx.S[1], ctx.idx.R[1], set()) == []
    rs = b.status("reinstate", 0.2, 0.3)
    b.checkout("b", 1, 1.1)
    ctx = _ctx(b)
    assert [w.index for w in ctx.status_evidence(ctx.idx.S[3], ctx.idx.R[3], set())] == [rs]
