"""summary.json's document: the stable, scriptable account of one judged run.

Every profile's summary has the same keys; what a profile adds is under
`profile_details` (its `Findings.details`).
"""

from __future__ import annotations

import os
import platform
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from leasecheck import __version__
from leasecheck.core.history import Violation
from leasecheck.load.analysis.generator import CPU_LIMIT
from leasecheck.load.analysis.observation import Findings, Observation
from leasecheck.load.analysis.shards import MergedRun
from leasecheck.load.analysis.window import latency_table

#: Whole-machine CPU at which the report notes that the server may have had to share.
MACHINE_BUSY = 95.0


@dataclass
class Facts:
    """What the runner knows that the shards do not."""

    processes: int = 0  # locust worker processes asked for (0: one local runner)
    locust_exit: int | None = None
    locust_request_count: int | None = None
    target: dict[str, Any] = field(default_factory=dict)
    command: str = ""
    never_started: str | None = None  # --master: why locust never ran a user (workers missing)


def summarize(
    seen: Observation,
    record: dict[str, Any],
    facts: Facts,
    found: Findings,
    violations: list[Violation],
    *,
    verdict: str,
    exit_code: int,
    reasons: list[str],
    window_label: str = "the measured window",
) -> dict[str, Any]:
    load, w, run = seen.generator, seen.window, seen.run
    notes = []
    if load.machine_mean_cpu is not None and load.machine_mean_cpu >= MACHINE_BUSY:
        notes.append(
            f"the machine's CPUs were {load.machine_mean_cpu:.0f}% busy over the run (server, generator "
            "and anything else): if other work was running, the server's figures are pessimistic"
        )
    notes += run.clocks.notes
    offered = w.offered_per_s()
    expiries = client_side_expiries(w.logical)
    rates = {"errors": w.error_rate(), "denials": w.denial_rate(), "client_side_expiries": expiries["share"]}
    return {
        "tool": {"name": "leasecheck", "version": __version__},
        "profile": record["profile"],
        "verdict": verdict,
        "exit_code": exit_code,
        "reasons": reasons,
        "headline": headline(verdict, found.thresholds, rates, window_label, seen.ended_early, expiries["count"]),
        "notes": notes,
        "command": facts.command,
        "target": facts.target or {"url": record["target"]},
        "machine": _machine(),
        "settings": {
            "users": record["users"],
            "duration_s": record["duration"],
            "processes": facts.processes,
            "minute_seconds": seen.minute_seconds,
            "lease_seconds": seen.lease_seconds,
            "params": seen.params,
            "run_id": record["run_id"],
        },
        "window": {
            "start": seen.epoch,
            "end": seen.end,
            "seconds": round(seen.end - seen.epoch, 3),
            "label": window_label,
            "ended_early": seen.ended_early,
        },
        "licenses": record["licenses"],
        "thresholds": found.thresholds,
        "invariants": {
            "operations_judged": len(run.history),
            "seat_violations": [v.to_json() for v in violations if v.kind == "seat"],
            "idempotency_violations": [v.to_json() for v in violations if v.kind == "idempotency"],
            "model_violations": [v.to_json() for v in violations if v.kind not in ("seat", "idempotency")],
        },
        "latency_ms": latency_table(w.latency),
        "latency_ms_whole_run": latency_table(run.latency),
        "throughput": {
            "achieved_rps": round(w.achieved_rps(), 2),
            "achieved_checkouts_per_s": round(w.achieved_rps("checkout"), 2),
            "offered_arrivals_per_s": None if offered is None else round(offered, 2),
            "on_time_share": seen.on_time_share,
        },
        "rates": rates,
        "operations": {label: dict(c) for label, c in sorted(w.logical.items())},
        "client_side_expiries": expiries,
        "generator": {
            "cpu_limit": CPU_LIMIT,
            "busiest_process": load.busiest_tag,
            "busiest_mean_cpu": load.busiest_mean_cpu,
            "saturated": load.saturated,
            "machine_mean_cpu": load.machine_mean_cpu,
            "processes": load.processes,
        },
        "merge": _merge_facts(run, facts),
        "clocks": run.clocks.to_json(),
        "partial": {"lost_workers": [sh.tag for sh in run.lost]} if run.lost else None,
        "profile_details": found.details,
    }


def client_side_expiries(logical: dict[str, Counter[str]]) -> dict[str, Any]:
    """Heartbeats and checkins sent after their lease's acknowledged expiry
    (`runtime/expiry.py`): the client was late, so they are not errors; counted
    here, apart, because a run with many measured a client slower than its leases."""
    by_label = {label: c["expired"] for label, c in sorted(logical.items()) if c["expired"]}
    total = sum(sum(c.values()) for c in logical.values())
    count = sum(by_label.values())
    return {"count": count, "share": count / total if total else None, "by_operation": by_label}


def headline(
    verdict: str,
    thresholds: list[dict[str, Any]],
    rates: dict[str, float | None],
    window: str,
    ended: str | None,
    expiries: int = 0,
) -> str:
    """The report's first sentence, true of the whole run: what was judged, where, and
    what it found, with the error rate over the measured window beside it. Never
    "every threshold held" above a window with errors: the step profile judges its
    thresholds at the knee, and the steps past it are where errors are expected."""
    opening = {
        "passed": "No violation; the run is valid",
        "slo_breached": "No violation; the run is valid; a threshold was breached",
        "invariant_violated": "An invariant was violated",
        "invalid": "The run is invalid (its numbers describe the generator, not the server)",
    }.get(verdict, verdict)
    if thresholds:
        judged = "; ".join(
            f"{t['slo']} {'held' if t['passed'] else 'breached'} ({t['scope']}: {t.get('observed') or 'n/a'})"
            for t in thresholds
        )
        parts = [f"{opening}. Thresholds judged: {judged}."]
    else:
        parts = [f"{opening}. No threshold was given."]
    err = rates.get("errors")
    parts.append(f"Errors over {window}: {'n/a' if err is None else f'{err * 100:.3g}%'} of logical operations.")
    if expiries:
        parts.append(
            f"{expiries} heartbeat(s)/checkin(s) were sent after their lease had expired (client-side expiry: "
            "the client was late, not the server); counted apart, not as errors."
        )
    if ended:
        parts.append(f"Ended early: {ended}.")
    return " ".join(parts)


def _merge_facts(run: MergedRun, facts: Facts) -> dict[str, Any]:
    """How the shards add up: the merged counts must equal the per-process sums."""
    samples = sum(h.get_total_count() for h in run.latency.values())
    attempts = sum(sum(c.values()) for c in run.attempt_outcomes.values())
    cancelled = sum(c["cancelled"] for c in run.attempt_outcomes.values())
    return {
        "shards": [
            {"process": s.tag, "role": s.role, "ops": s.ops, "latency_samples": s.samples}
            | ({"sent": s.stream.get("sent"), "received": s.stream.get("received")} if s.stream else {})
            for s in run.shards
        ],
        "history_ops": len(run.history),
        "sum_of_shard_ops": sum(s.ops for s in run.shards),
        "latency_samples": samples,
        "sum_of_shard_latency_samples": sum(s.samples for s in run.shards),
        "attempts_sent": attempts,
        "attempts_cancelled_at_stop": cancelled,
        "locust_request_count": facts.locust_request_count,
    }


def _machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }
