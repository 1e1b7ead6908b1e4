"""Each process's clock against the server's (`load/analysis/clocks.py`), on hand-made histories.

Two generator processes hand one seat back and forth, 100 ms apart in real
time; one process's clock is 300 ms fast. Judged as recorded, the seat looks
doubly held; aligned from the answers' `meta.timestamp`, it never is.
"""

from __future__ import annotations

from leasecheck.core.history import Op, check_seats
from leasecheck.core.model import check_history
from leasecheck.load.analysis.clocks import align

RTT = 0.004


def _cycle(t: float, skew: float, lease: str, worker: str, stamp_skew: float = 0.0) -> list[Op]:
    """Checkout at real time t, checkin at t + 0.09, as recorded on a clock `skew` ahead."""
    out = Op("checkout", "L", t + skew, t + RTT + skew, 200, lease=lease, expires_at=t + 10, worker=worker)
    out.server_time = t + RTT / 2 + stamp_skew
    back = Op("checkin", "L", t + 0.09 + skew, t + 0.09 + RTT + skew, 200, lease=lease, worker=worker)
    back.server_time = t + 0.09 + RTT / 2 + stamp_skew
    return [out, back]


def _two_processes(skew: float, stamp_skews: tuple[float, float] = (0.0, 0.0)) -> list[tuple[str, list[Op]]]:
    a: list[Op] = []
    b: list[Op] = []
    for i in range(20):
        a += _cycle(1000.0 + 0.2 * i, 0.0, f"llt_a{i}", "w0:u0", stamp_skews[i % 2])
        b += _cycle(1000.1 + 0.2 * i, skew, f"llt_b{i}", "w1:u0", stamp_skews[(i + 1) % 2])
    return [("worker-w0-1", a), ("worker-w1-2", b)]


def _ops(parts: list[tuple[str, list[Op]]]) -> list[Op]:
    return sorted((op for _t, ops in parts for op in ops), key=lambda o: o.sent_at)


def test_a_fast_clock_makes_a_false_violation_unless_aligned():
    blind = _two_processes(-0.3)
    report = align(blind, enabled=False)
    assert not report.aligned and check_seats(_ops(blind), {"L": 1})

    parts = _two_processes(-0.3)
    report = align(parts)
    assert report.aligned and not report.notes
    w1 = next(c for c in report.clocks if c.tag == "worker-w1-2")
    assert abs(w1.offset - 0.3) <= w1.bound and w1.bound < 0.01
    assert check_seats(_ops(parts), {"L": 1}) == []


def test_a_real_double_grant_survives_alignment():
    parts = _two_processes(-0.3)
    extra = _cycle(1000.05, -0.3, "llt_extra", "w1:u1")  # granted while w0's lease is held
    parts[1][1].extend(extra)
    align(parts)
    assert check_seats(_ops(parts), {"L": 1})


def test_server_instances_with_disagreeing_clocks_are_named_and_the_largest_bound_used():
    parts = _two_processes(-0.3, stamp_skews=(0.0, 0.05))  # answers alternate between two server clocks
    report = align(parts)
    assert report.aligned and report.notes and "several server instances" in report.notes[0]
    assert all(not c.consistent for c in report.clocks)
    widest = max(c.bound for c in report.clocks)
    assert widest >= 0.025 and all(c.applied_bound == widest for c in report.clocks)


def test_one_process_is_not_widened():
    parts = _two_processes(-0.3)[:1]
    before = [op.sent_at for op in parts[0][1]]
    report = align(parts)
    assert not report.aligned and [op.sent_at for op in parts[0][1]] == before


def test_whole_second_stamps_widen_and_say_what_cannot_be_proven():
    parts = _two_processes(-0.3)
    for _tag, ops in parts:
        for op in ops:
            op.server_time = float(int(op.server_time or 0))
    report = align(parts)
    assert report.aligned and any("cannot be proven" in n for n in report.notes)
    assert all(c.applied_bound >= 0.5 for c in report.clocks)


def _handover(gap: float) -> list[tuple[str, list[Op]]]:
    """Two processes reading one clock: w0 checks in a 1-seat license's lease at
    t + 0.1 (sent), w1's checkout of it was answered `gap` earlier: both held at once."""
    a, b = [], []
    for i in range(30):
        t = 1000.0 + i
        a.append(Op("checkout", "L", t, t + RTT, 200, lease=f"a{i}", expires_at=t + 10, server_time=t + RTT / 2))
        a.append(Op("checkin", "L", t + 0.1, t + 0.1 + RTT, 200, lease=f"a{i}", server_time=t + 0.1 + RTT / 2))
        got = t + 0.1 - gap
        b.append(Op("checkout", "L", got - RTT, got, 200, lease=f"b{i}", expires_at=t + 10, server_time=got - RTT / 2))
        b.append(Op("checkin", "L", t + 0.5, t + 0.5 + RTT, 200, lease=f"b{i}", server_time=t + 0.5 + RTT / 2))
    for op in a:
        op.worker = "w0:u0"
    for op in b:
        op.worker = "w1:u0"
    return [("worker-w0-1", a), ("worker-w1-2", b)]


def test_processes_sharing_one_clock_are_not_widened_so_a_1_ms_double_grant_is_proven():
    """`--processes N`: measured per process, each clock's bound is about half a round trip
    (2 ms here), and widening by it would hide an overlap of 1 ms that one clock proves."""
    widened = _handover(0.001)
    report = align(widened)
    assert report.aligned and all(c.applied_bound >= RTT / 2 for c in report.clocks)
    assert check_history(_ops(widened), capacity={"L": 1}).ok  # the double grant is lost in the widening

    shared = _handover(0.001)
    report = align(shared, shared=True)
    assert report.shared and not report.aligned and "one clock" in report.notes[0]
    assert all(c.applied_bound == 0.0 for c in report.clocks)
    verdict = check_history(_ops(shared), capacity={"L": 1})
    assert not verdict.ok and verdict.of_kind("over_grant"), verdict.render()

    legal = _handover(-0.001)  # w1's grant answered 1 ms after w0's checkin was sent: a legal handover
    align(legal, shared=True)
    assert check_history(_ops(legal), capacity={"L": 1}).ok


def test_a_license_created_by_a_master_with_a_fast_clock_is_placed_by_the_answers_stamp():
    from leasecheck.load.analysis.clocks import created_window

    parts = _two_processes(-0.3)
    report = align(parts)
    # Created at 999.0 on the server's clock (stamped 999.005); the master's clock, 5 s fast, read 1004.0 .. 1004.01.
    placed = created_window([1004.0, 1004.01, 999.005], report)
    assert placed is not None and placed[0] <= 999.0 <= placed[1] and placed[1] - placed[0] <= 0.021
    assert created_window([1004.0, 1004.01], report) is None  # no stamp: no honest place on the server's clock
    assert created_window([1004.0, 1004.01, 999.005], align(parts, enabled=False)) == (1004.0, 1004.01)


def test_the_judge_judges_a_run_with_its_licenses_created_by_a_skewed_master():
    from leasecheck.core.history import History
    from leasecheck.load.analysis.shards import MergedRun
    from leasecheck.load.verdict.judge import model_verdict

    parts = _two_processes(-0.3)
    run = MergedRun(history=History(_ops(parts)), shards=[], clocks=align(parts))
    for created in ([1004.0, 1004.01, 999.005], [1004.0, 1004.01]):
        lic = {"name": "L", "license_id": "L", "seats": 1, "timeout_minutes": 1, "group": "", "created": created}
        verdict = model_verdict(run, {"minute_seconds": 60.0, "licenses": [lic]})
        assert verdict.ok, verdict.render()
        assert verdict.held["L"][1] and max(verdict.held["L"][1]) == 1  # one seat, handed back and forth
