"""One generated run: schemathesis's engine against the target, then the judging.

`run_generated` loads the schema (config.py) and runs it through the
schemathesis engine, the one its CLI uses, with every phase (examples,
coverage, fuzzing, stateful sequences through the OpenAPI links), one
worker and a wall-clock guard that stops it. Findings are judged afterwards
from what every scenario recorded (recorded.py), in this order: what each
request exercised, schemathesis's failures (triage.py), requests left
unanswered, the own checks over the whole run (invariants.py).

Every generated exchange is also handed to the suite's universal inspection
(envelopes, signatures, request ids) and lease tracker, as the suite's own
exchanges are; the leases the run still holds are checked in when it ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from leasecheck.conformance.target import LicenseFixture, Target
from leasecheck.core.envelope import Inspector

from .config import fresh_idempotency_keys, load_schema, operation_ids, schemathesis_config
from .exercised import count_exercised
from .invariants import check_run
from .observation import Observation
from .recorded import collect, first_line
from .run import GeneratedRun
from .triage import Context, Reported, triage, unanswered

if TYPE_CHECKING:
    from schemathesis.engine.events import NonFatalError
    from schemathesis.engine.recorder import ScenarioRecorder
    from schemathesis.schemas import BaseSchema

#: Seconds the engine may run before it is stopped (what it sent by then is judged).
BUDGET_SECONDS = 60.0


def run_generated(
    target: Target, fixture: LicenseFixture, *, seed: int, max_examples: int, budget_seconds: float = BUDGET_SECONDS
) -> GeneratedRun:
    """Run schemathesis once against `target` with `fixture`'s key and judge everything it saw."""
    run = GeneratedRun(fixture=fixture, provisioned=target.management is not None, seed=seed, max_examples=max_examples)
    started = time.monotonic()
    timeout = target.settings.request_timeout
    schema = load_schema(
        schemathesis_config(
            base_url=target.base_url,
            license_key=fixture.license_key,
            request_timeout=timeout,
            seed=seed,
            max_examples=max_examples,
        )
    )
    labels = operation_ids(schema)
    recorders = _execute(schema, run, budget_seconds)
    run.wall_seconds = time.monotonic() - started
    run.observations, reported = collect(recorders, labels)
    judge(Context(run, target.base_url, timeout), reported)
    _share(target, run.observations)
    return run


def judge(ctx: Context, reported: Sequence[Reported]) -> None:
    """All findings of a run whose observations are collected, in the order they are reported."""
    count_exercised(ctx.run)
    triage(ctx, reported)
    unanswered(ctx.run)
    check_run(ctx.run)


def _execute(schema: BaseSchema, run: GeneratedRun, budget_seconds: float) -> list[tuple[str, ScenarioRecorder]]:
    """Drive the engine to its end (or the budget), noting errors and whether it stopped early;
    return each finished scenario's (phase, recorder)."""
    from schemathesis.engine import events, from_schema

    recorders: list[tuple[str, ScenarioRecorder]] = []
    with fresh_idempotency_keys(schema):
        stream = from_schema(schema).execute()
        timer = threading.Timer(budget_seconds, stream.stop)  # the engine checks its stop event between cases
        timer.daemon = True
        timer.start()
        try:
            for event in stream:
                if isinstance(event, events.ScenarioFinished):
                    recorders.append((event.phase.value, event.recorder))
                elif isinstance(event, events.NonFatalError):
                    line = f"{event.label}: {event.info.title}: {first_line(event.info.message)}"
                    # A request the server never answered is a finding (INPUT-04), not a broken run.
                    (run.network_errors if _is_network(event) else run.errors).append(line)
                elif isinstance(event, events.FatalError):
                    run.errors.append(f"fatal: {event.exception!r}")
                elif isinstance(event, events.EngineFinished):
                    run.stopped_early = event.stop_reason.value not in ("completed",)
        finally:
            timer.cancel()
    return recorders


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
