"""Shrinking keeps only what a failure needs, and the slice starts from the witness."""

from __future__ import annotations

import time

from leasecheck.conformance.explore.shrink import shrink, slice_of
from leasecheck.conformance.explore.steps import Program, Step


def _program(n: int) -> Program:
    return tuple((Step(i, "checkout", 0, device=i),) for i in range(1, n + 1))


def test_shrink_finds_the_two_steps_a_failure_needs() -> None:
    replays: list[Program] = []

    def fails(p: Program) -> bool:
        replays.append(p)
        sids = {s.sid for r in p for s in r}
        return {3, 11} <= sids

    out = shrink(_program(16), fails, time.time() + 5)
    assert [s.sid for r in out for s in r] == [3, 11]


def test_shrink_thins_rounds_sent_together() -> None:
    together = (tuple(Step(i, "checkout", 0, device=i) for i in (1, 2, 3)),)

    def fails(p: Program) -> bool:
        return any(s.sid == 2 for r in p for s in r)

    assert shrink(together, fails, time.time() + 5) == ((Step(2, "checkout", 0, device=2),),)


def test_shrink_stops_at_its_deadline_with_a_program_seen_failing() -> None:
    program = _program(8)
    assert shrink(program, lambda p: False, time.time() - 1) == program


def test_the_slice_keeps_dependencies_waits_and_status_changes_of_the_licenses_involved() -> None:
    program: Program = (
        (Step(1, "checkout", 0, device=1),),
        (Step(2, "checkout", 1, device=2),),
        (Step(3, "suspend", 0),),
        (Step(4, "wait", 0, lease=1, at="after"),),
        (Step(5, "suspend", 1),),
        (Step(6, "heartbeat", 0, lease=1), Step(7, "checkin", 1, lease=2)),
        (Step(8, "checkout", 0, device=9, key="other-body", key_of=1),),
    )
    sliced = slice_of(program, {6})
    assert [s.sid for r in sliced for s in r] == [1, 3, 4, 6]
    assert [s.sid for r in slice_of(program, {8}) for s in r] == [1, 3, 4, 8]
