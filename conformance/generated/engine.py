"""One generated run: schemathesis's engine against the target, then the judging.

`run_generated` loads the schema (config.py) and runs it through the
schemathesis engine, the one its CLI uses, with every phase (examples,
coverage, fuzzing, stateful sequences through the OpenAPI links), under the
run's rate cap (`--max-rps`) and a wall-clock guard that stops it; one worker
against a near target, several against a far one (`senders`). Each
operation's cases come from the fixed seed whichever worker runs it, so the
same requests go out either way, only interleaved differently. Findings are judged afterwards
from what every scenario recorded (recorded.py), in this order: what each
request exercised, schemathesis's failures (triage.py), requests left
unanswered, the own checks over the whole run (invariants.py).

Every generated exchange is also handed to the suite's universal inspection
(envelopes, signatures, request ids) and lease tracker, as the suite's own
exchanges are; the leases the run still holds are checked in when it ends.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from leasecheck.conformance import early
from leasecheck.conformance.target import LicenseFixture, Target
from leasecheck.core.envelope import Inspector
from leasecheck.core.errors import first_line
from leasecheck.core.interrupts import stopping
from leasecheck.core.pacing import Pacer

from .config import PHASES, UNIT_PHASES, fresh_idempotency_keys, load_schema, operation_ids, schemathesis_config
from .exercised import count_exercised
from .invariants import check_run
from .laps import Laps
from .observation import Observation
from .recorded import collect
from .run import GeneratedRun
from .serial_ast import serial_ast_parse
from .triage import Context, Reported, triage, unanswered

if TYPE_CHECKING:
    from schemathesis.engine.core import EventStream
    from schemathesis.engine.events import NonFatalError
    from schemathesis.engine.recorder import ScenarioRecorder
    from schemathesis.schemas import BaseSchema

#: Seconds the engine may run before it is stopped (what it sent by then is judged).
BUDGET_SECONDS = 60.0


def run_generated(
    target: Target,
    fixture: LicenseFixture,
    *,
    seed: int,
    max_examples: int,
    budget_seconds: float = BUDGET_SECONDS,
    workers: int | None = None,
) -> GeneratedRun:
    """Run schemathesis once against `target` with `fixture`'s key and judge everything it saw.
    `workers`: requests in flight at once (None: as many as suit the target)."""
    run = GeneratedRun(fixture=fixture, provisioned=target.management is not None, seed=seed, max_examples=max_examples)
    run.workers = workers or senders(target)
    started = time.monotonic()
    clock = Laps()
    timeout = target.settings.request_timeout
    config = functools.partial(
        schemathesis_config,
        base_url=target.base_url,
        license_key=fixture.license_key,
        request_timeout=timeout,
        seed=seed,
        max_examples=max_examples,
        workers=run.workers,
    )
    # Near: one engine, its phases one after another. Far: the stateful sequences (one at a
    # time, however many workers) beside the other phases, on an engine of their own.
    plan = [PHASES] if run.workers == 1 else [UNIT_PHASES, ("stateful",)]
    schemas = [load_schema(config(phases=phases)) for phases in plan]
    labels = operation_ids(schemas[0])
    clock.lap("schema")
    recorders = _execute(schemas, run, budget_seconds, clock, target.pacer)
    run.wall_seconds = time.monotonic() - started
    run.observations, reported = collect(recorders, labels)
    if run.interrupted or stopping.is_set():
        # schemathesis's engine ends its run on a KeyboardInterrupt as if it were done: what
        # it sent is handed on (its leases are checked in as the run ends), then the
        # interrupt goes on to pytest, so the session ends interrupted and never passes.
        _share(target, run.observations)
        raise KeyboardInterrupt("stopped by a signal while the generated requests ran")
    judge(Context(run, target.new_http), reported)
    _share(target, run.observations)
    clock.lap("judge")
    run.timings = clock.laps
    return run


def judge(ctx: Context, reported: Sequence[Reported]) -> None:
    """All findings of a run whose observations are collected, in the order they are reported."""
    count_exercised(ctx.run)
    triage(ctx, reported)
    unanswered(ctx.run)
    check_run(ctx.run)


def senders(target: Target) -> int:
    """Requests in flight at once: one against a near target (only the CPU to share, and
    the suite's other scenarios share it), as many as the early pool's against a far one
    (each worker's requests wait out the round trips beside the others'): early.width."""
    return early.width(target.settings.concurrency, target.clock.best_round_trip)


def _execute(
    schemas: Sequence[BaseSchema], run: GeneratedRun, budget_seconds: float, clock: Laps, pacer: Pacer | None
) -> list[tuple[str, ScenarioRecorder]]:
    """Drive each schema's engine to its end (or the budget), side by side, noting errors,
    whether one stopped early and what each phase cost (`clock`; a phase beside the first
    engine's is noted with "(beside)"); return each finished scenario's (phase, recorder)."""
    from schemathesis.engine import from_schema

    recorders: list[tuple[str, ScenarioRecorder]] = []
    pace = pacer.acquire if pacer is not None else None
    with fresh_idempotency_keys(*schemas, pace=pace), serial_ast_parse(run.workers > 1):
        streams = [from_schema(schema).execute() for schema in schemas]
        timers = [threading.Timer(budget_seconds, s.stop) for s in streams]  # checked between cases
        laps = [clock, *(Laps(suffix=" (beside)") for _ in streams[1:])]
        beside = [
            threading.Thread(target=_drive, args=(s, run, recorders, lap), name="generated-beside", daemon=True)
            for s, lap in zip(streams[1:], laps[1:], strict=True)
        ]
        for t in (*timers, *beside):
            t.daemon = True
            t.start()
        try:
            _drive(streams[0], run, recorders, clock)
            for b in beside:
                b.join()
        finally:
            for t in timers:
                t.cancel()
    for lap in laps[1:]:
        clock.laps.update(lap.laps)
    return recorders


def _drive(stream: EventStream, run: GeneratedRun, recorders: list[tuple[str, ScenarioRecorder]], clock: Laps) -> None:
    """Consume one engine's events into the run (list appends are atomic: two drivers share them)."""
    from schemathesis.engine import events

    for event in stream:
        if isinstance(event, events.PhaseStarted):
            clock.lap("engine")  # its set-up, and what lies between phases
        elif isinstance(event, events.PhaseFinished):
            clock.lap(event.phase.name.value)
        elif isinstance(event, events.ScenarioFinished):
            recorders.append((event.phase.value, event.recorder))
        elif isinstance(event, events.NonFatalError):
            line = f"{event.label}: {event.info.title}: {first_line(event.info.message)}"
            # A request the server never answered is a finding (INPUT-04), not a broken run.
            (run.network_errors if _is_network(event) else run.errors).append(line)
        elif isinstance(event, events.FatalError):
            run.errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.Interrupted):
            run.interrupted = True
        elif isinstance(event, events.EngineFinished):
            run.stopped_early = run.stopped_early or event.stop_reason.value not in ("completed",)
    clock.lap("engine")


def _is_network(event: NonFatalError) -> bool:
    import requests

    title = event.info.title or ""
    return isinstance(event.value, requests.RequestException) or any(
        w in title for w in ("Network", "Unresponsive", "Unavailable", "Connection", "Timeout", "Timed out")
    )


def _share(target: Target, observations: list[Observation]) -> None:
    """Every generated exchange goes where the suite's own exchanges go: the universal
    envelope/signature inspection (ENV-02/03/05, SIG-01/02/06, TIME-05) and the lease
    tracker, which checks in what the run still holds when it ends. Not the server clock:
    schemathesis's send and receive instants are approximate, and a wrong round trip there
    would skew every timed scenario."""
    inspector = Inspector(target.keyring, refresh_keys=target.refresh_keys, interop=target.interop)
    for o in observations:
        target.tracker(o.exchange)
        if target.on_finding is not None:
            target.on_finding(o.exchange, inspector.inspect(o.exchange))
