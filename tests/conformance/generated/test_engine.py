"""engine: against a far target (a reference server that answers after 60 ms) the run
sends from several workers, with the stateful sequences beside the other phases, under
the run's rate cap, and a correct server still passes everything it judges.

Judged from the run's own exchanges (their send and receive instants), never from
wall-clock time; benchmarks/bench_generated.py prints the wall-time ratio.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from leasecheck.conformance.generated import GeneratedRun, run_generated
from leasecheck.conformance.generated.observation import Observation
from leasecheck.conformance.settings import Settings
from leasecheck.conformance.target.target import Target
from leasecheck.core.server_process import ReferenceServer

DELAY_MS = 60  # past early.NEAR_ROUND_TRIP_SECONDS: a far target
MAX_RPS = 500.0  # a cap that every request pays, high enough not to slow the test down


@pytest.fixture(scope="module")
def far_run() -> Iterator[tuple[Target, GeneratedRun]]:
    with (
        ReferenceServer(minute_seconds=1.0, extra_args=["--answer-delay-ms", str(DELAY_MS)]) as srv,
        tempfile.TemporaryDirectory() as tmp,
    ):
        assert srv.base_url is not None
        server = {"target": srv.base_url, "management_token": srv.management_token, "minute_seconds": 1.0}
        settings = Settings(**server, max_rps=MAX_RPS, state_dir=Path(tmp)).validated()
        target = Target(settings, srv.base_url, management_token=srv.management_token)
        try:
            target.refresh_keys()  # the first round trip: the target is far
            fixture = target.license(seats=200, timeout_minutes=5, purpose="generated")
            paid = target.pacer.requests if target.pacer else 0
            run = run_generated(target, fixture, seed=settings.seed, max_examples=settings.generated_examples)
            run.notes["paced"].append(str((target.pacer.requests if target.pacer else 0) - paid))
            yield target, run
        finally:
            target.end_run()
            target.close()


def most_in_flight(observations: list[Observation], phases: set[str]) -> int:
    """The most requests of these phases in flight at one instant."""
    edges = sorted(
        [(o.exchange.sent_at, 1) for o in observations if o.phase in phases]
        + [(o.exchange.received_at, -1) for o in observations if o.phase in phases]
    )
    best = now = 0
    for _at, step in edges:
        now += step
        best = max(best, now)
    return best


def test_a_far_target_gets_several_workers_and_stateful_beside_the_rest(far_run):
    _target, run = far_run
    assert not run.errors and not run.stopped_early, run.errors
    assert run.workers > 1
    assert most_in_flight(run.observations, {"coverage", "fuzzing"}) > 1  # operations side by side
    assert most_in_flight(run.observations, {"stateful"}) == 1  # one sequence at a time
    units = [o.exchange for o in run.observations if o.phase in ("coverage", "fuzzing")]
    beside = [
        o
        for o in run.observations
        if o.phase == "stateful"
        and any(u.sent_at < o.exchange.received_at and o.exchange.sent_at < u.received_at for u in units)
    ]
    assert beside, "no stateful request was in flight beside another phase's"
    print(f"\n{len(run.observations)} cases from {run.workers} workers; timings {run.timings}")


def test_a_far_run_judges_what_a_near_one_does_on_a_correct_server(far_run):
    _target, run = far_run
    phases = run.summary()["cases_by_phase"]
    assert {"examples", "coverage", "fuzzing", "stateful"} <= set(phases), phases
    assert not run.findings, [f.message for f in run.findings[:3]]
    # the stateful sequences still reach what only they exercise
    assert all(run.exercised[rid] for rid in ("LIFE-03", "CHK-02", "TIME-02", "INPUT-05")), run.exercised


def test_every_generated_request_pays_the_runs_rate_cap(far_run):
    _target, run = far_run
    sent = sum(1 for o in run.observations if not o.probe)  # a check's probe is sent by schemathesis itself
    assert int(run.notes["paced"][0]) >= sent
