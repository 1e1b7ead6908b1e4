"""The program language renders what a reader replays by hand."""

from __future__ import annotations

from leasecheck.conformance.explore.steps import Step, render, step_count


def test_a_program_renders_one_line_per_round_and_brackets_steps_sent_together() -> None:
    program = (
        (Step(1, "checkout", 0, device=3),),
        (Step(2, "heartbeat", 1, lease=1), Step(3, "checkin", 0, lease=1, key="other-endpoint", key_of=1)),
        (Step(4, "wait", 0, lease=1, at="before"),),
        (Step(5, "checkout", 1, key="other-license", key_of=1),),
        (Step(6, "suspend", 0),),
    )
    assert render(program).splitlines() == [
        "#1 L0 checkout device D3",
        "together: #2 L1 heartbeat lease of #1 | #3 L0 checkin lease of #1, key other-endpoint of #1",
        "#4 wait until just before lease_expires_at of #1",
        "#5 L1 checkout with the body of #1, key other-license of #1",
        "#6 L0 suspend",
    ]
    assert step_count(program) == 6
