"""The step profile's knee: where the sweep ends and what it reports."""

from __future__ import annotations

import pytest

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


def test_live_a_broken_step_waits_for_its_confirmation():
    steps = [step(1, True), step(2, False)]
    assert decide(steps, confirm=2, final=False).ended_by == "open"
    assert decide([*steps, step(3, False)], confirm=2, final=False).ended_by == "slo"
    assert decide(steps, confirm=1, final=False).ended_by == "slo"


def test_the_sweep_stops_once_the_knee_is_confirmed(step_past_knee):
    """Five steps planned; step 2 breaks, step 3 confirms: no step after that is run."""
    run = step_past_knee
    s = run.summary
    d = s["profile_details"]
    ran = [row["step"] for row in d["steps"]]
    assert d["ended_by"] in ("slo", "generator"), run.explain()
    assert run.proc.returncode == (0 if d["ended_by"] == "slo" else 5), run.explain()
    assert ran == list(range(1, len(ran) + 1)) and len(ran) < 5, run.explain()
    assert d["stopped_early"].startswith(f"the sweep stopped after step {ran[-1]}: "), d["stopped_early"]
    if d["ended_by"] == "slo":
        assert ran == [1, 2, 3] and d["knee"]["step"] == 1 and "step 2 at 2004 cycles/s broke errors<20%" in d["reason"]
    assert s["window"]["seconds"] == pytest.approx(3.0 * len(ran), abs=0.01), "the window ends with the last step"
    assert s["window"]["ended_early"] == d["stopped_early"]
    html = (run.out / "report.html").read_text()
    assert "Why the run stopped: the sweep stopped after step" in html


def test_the_sweep_stops_with_several_processes(server, load_run, step_past_knee_options):
    """Under --processes the master decides from every worker's seconds (runtime/live.py)."""
    run = load_run("step", *step_past_knee_options, "--processes", "2", server=server)
    s = run.summary
    d = s["profile_details"]
    ran = [row["step"] for row in d["steps"]]
    assert d["ended_by"] in ("slo", "generator") and len(ran) < 5, run.explain()
    assert d["stopped_early"].startswith(f"the sweep stopped after step {ran[-1]}: "), run.explain()
    assert s["merge"]["history_ops"] == s["merge"]["sum_of_shard_ops"] > 0
