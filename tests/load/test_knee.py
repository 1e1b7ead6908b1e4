"""The step profile's knee: where the sweep ends and what it reports."""

from __future__ import annotations

from leasecheck.load.profiles.step.knee import decide


def step(n: int, ok: bool, gen: bool = False) -> dict:
    return {
        "step": n,
        "offered_cycles_per_s": 10.0 * n,
        "achieved_rps": 30.0 * n,
        "generator_bound": gen,
        "generator_cpu": 95.0 if gen else 10.0,
        "on_time_share": 1.0,
        "slo": [{"slo": "p99<50ms", "observed": "10 ms" if ok else "80 ms", "passed": ok}],
    }


def test_knee_is_the_last_pass_before_two_broken_steps():
    r = decide([step(1, True), step(2, True), step(3, False), step(4, False)], confirm=2)
    assert r.ended_by == "slo" and r.knee["step"] == 2 and "step 3" in r.reason


def test_a_blip_is_reported_not_taken_for_the_knee():
    r = decide([step(1, True), step(2, False), step(3, True), step(4, False), step(5, False)], confirm=2)
    assert r.knee["step"] == 3 and "step(s) 2 broke" in r.reason and "step 4" in r.reason


def test_confirm_one_ends_at_the_first_break():
    r = decide([step(1, True), step(2, False), step(3, True)], confirm=1)
    assert r.knee["step"] == 1 and r.ended_by == "slo"


def test_a_broken_last_step_ends_the_sweep():
    r = decide([step(1, True), step(2, False)], confirm=2)
    assert r.knee["step"] == 1 and r.ended_by == "slo"


def test_no_knee_when_the_first_steps_break():
    r = decide([step(1, False), step(2, False), step(3, True)], confirm=2)
    assert r.knee is None and r.ended_by == "slo"


def test_a_saturated_generator_means_no_server_knee():
    r = decide([step(1, True), step(2, True, gen=True), step(3, False)], confirm=2)
    assert r.ended_by == "generator" and r.knee["step"] == 1


def test_all_passing_is_a_lower_bound():
    r = decide([step(1, True), step(2, True)], confirm=2)
    assert r.ended_by == "all passed" and r.knee["step"] == 2 and "above" in r.reason
