"""Judge a finished load run: invariants, validity, thresholds, verdict, exit code.

Exit codes (documented in `leasecheck load --help` and the README):

    0  passed              no violation, the run is valid, every --slo held
    2  bad settings        bad option, unreachable target, provisioning refused
    3  SLO breached        a threshold failed (step profile: no step met the SLO)
    4  invariant violated  more leases certainly held than seats, or one
                           Idempotency-Key with two effects: proven from the history
    5  run invalid         the numbers do not describe the server: the generator
                           was the bottleneck, a locust process recorded nothing,
                           or locust itself failed

Precedence is 4 > 5 > 3 > 0. A violation is proof whatever the generator
did (the checker counts only what is certain, so a slow client cannot
manufacture one); an invalid run's latencies are the generator's, so it
cannot be said to breach, or meet, an SLO. 1 is left to Python and click
(a crash is never mistaken for a verdict).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leasecheck import __version__
from leasecheck.core.history import check_idempotency, check_seats
from leasecheck.load import details as analysis
from leasecheck.load.analysis.generator import CPU_LIMIT, ON_TIME_SHARE, on_time_share, process_load
from leasecheck.load.analysis.occupancy import Occupancy, occupancy
from leasecheck.load.analysis.shards import MergedRun, merge
from leasecheck.load.analysis.slo import Slo
from leasecheck.load.analysis.window import latency_table, window
from leasecheck.load.catalog import PROFILES
from leasecheck.load.config import read_run_record
from leasecheck.load.knee import analyse_steps, observe
from leasecheck.load.littles_law import analyse_churn

EXIT_PASSED, EXIT_SETTINGS, EXIT_SLO, EXIT_VIOLATION, EXIT_INVALID = 0, 2, 3, 4, 5
#: Whole-machine CPU at which the report notes that the server may have had to share.
MACHINE_BUSY = 95.0
VERDICT = {
    EXIT_PASSED: "passed",
    EXIT_SLO: "slo_breached",
    EXIT_VIOLATION: "invariant_violated",
    EXIT_INVALID: "invalid",
}


@dataclass
class Facts:
    """What the runner knows that the shards do not."""

    processes: int = 0  # locust worker processes asked for (0: one local runner)
    locust_exit: int | None = None
    locust_request_count: int | None = None
    target: dict[str, Any] = field(default_factory=dict)
    command: str = ""


@dataclass
class Judgement:
    exit_code: int
    summary: dict[str, Any]
    run: MergedRun
    occupancy: dict[str, Occupancy]

    @property
    def verdict(self) -> str:
        return VERDICT[self.exit_code]


def judge(shard_dir: Path, slos: list[Slo], facts: Facts) -> Judgement:
    record = read_run_record(shard_dir)
    profile = PROFILES[record["profile"]]
    run = merge(shard_dir)
    meta = run.meta
    invalid: list[str] = []
    breached: list[str] = []
    if facts.locust_exit is not None and facts.locust_exit not in (0, 1):
        invalid.append(f"locust exited with code {facts.locust_exit} (see locust.log)")
    expected = max(facts.processes, 1)
    if len(run.user_shards) < expected:
        invalid.append(f"{len(run.user_shards)} of {expected} locust processes wrote their history (see locust.log)")
    epoch = float(meta.get("epoch") or 0.0)
    end = float(meta.get("end") or epoch)
    if not run.history.ops or not epoch:
        invalid.append("no lease operation was recorded")

    capacity = {lic["name"]: int(lic["seats"]) for lic in record["licenses"]}
    violations = check_seats(run.history, capacity) + check_idempotency(run.history)
    last_seen = max((op.received_at for op in run.history), default=end)
    occ = {name: occupancy(run.history, name, seats, until=max(last_seen, end)) for name, seats in capacity.items()}

    w = window(run, epoch, end)
    load = process_load(run, epoch, end)
    share = on_time_share(w.offered, w.issued)
    if profile.name != "step":  # the step profile judges the generator step by step
        if load.saturated:
            invalid.append(
                f"the load generator was the bottleneck: process {load.busiest_tag} ran at a mean "
                f"{load.busiest_mean_cpu:.0f}% CPU (limit {CPU_LIMIT:.0f}%); add --processes or machines"
            )
        if share is not None and share < ON_TIME_SHARE:
            invalid.append(
                f"the generator started only {share * 100:.0f}% of its arrivals on time "
                f"(needs {ON_TIME_SHARE * 100:.0f}%)"
            )

    params, minute = record["params"], float(record["minute_seconds"])
    lease_s = int(params.get("timeout_minutes", 1)) * minute
    details: dict[str, Any] = {}
    thresholds: list[dict[str, Any]] = []
    if profile.name == "step":
        steps = analyse_steps(run, params, epoch, float(record["duration"]), slos)
        knee_rps = steps.knee["achieved_rps"] if steps.knee else None
        details = {"steps": steps.steps, "knee": steps.knee, "ended_by": steps.ended_by, "reason": steps.reason}
        if steps.ended_by == "generator":
            invalid.append(steps.reason)
        elif steps.knee is None:
            breached.append(f"no step met the SLO: {steps.reason}")
        for s in slos:
            if s.metric == "rps":
                ok = s.holds(knee_rps)
                thresholds.append(_threshold(s, knee_rps, ok, scope="knee"))
                if not ok:
                    breached.append(f"{s.text}: the knee throughput was {s.show(knee_rps)}")
            else:
                thresholds.append(
                    {"slo": s.text, "scope": "per step (defines the knee)", "passed": steps.knee is not None}
                )
    else:
        for s in slos:
            value = observe(w, s)
            ok = s.holds(value)
            thresholds.append(_threshold(s, value, ok, scope="run"))
            if not ok:
                breached.append(f"{s.text} breached: observed {s.show(value)}")
        if profile.name == "seat-race":
            details = analysis.seat_race(run.history, record["licenses"], occ)
        elif profile.name == "churn":
            details = analyse_churn(run.history, next(iter(occ.values())), params, minute, epoch, end)
        elif profile.name == "heartbeat-storm":
            details = analysis.heartbeat_storm(w)
        elif profile.name == "thundering-herd":
            details = analysis.thundering_herd(run, params, lease_s, epoch, int(meta.get("users") or record["users"]))
        elif profile.name == "retry-storm":
            details = analysis.retry_storm(run, run.history, params)

    if violations:
        code = EXIT_VIOLATION
    elif invalid:
        code = EXIT_INVALID
    elif breached:
        code = EXIT_SLO
    else:
        code = EXIT_PASSED
    reasons = [v.message + f" ({v.license})" for v in violations] + invalid + breached
    notes = []
    if load.machine_mean_cpu is not None and load.machine_mean_cpu >= MACHINE_BUSY:
        notes.append(
            f"the machine's CPUs were {load.machine_mean_cpu:.0f}% busy over the run (server, generator "
            "and anything else): if other work was running, the server's figures are pessimistic"
        )
    summary = {
        "tool": {"name": "leasecheck", "version": __version__},
        "profile": profile.name,
        "verdict": VERDICT[code],
        "exit_code": code,
        "reasons": reasons,
        "notes": notes,
        "command": facts.command,
        "target": facts.target or {"url": record["target"]},
        "machine": _machine(),
        "settings": {
            "users": record["users"],
            "duration_s": record["duration"],
            "processes": facts.processes,
            "minute_seconds": minute,
            "lease_seconds": lease_s,
            "params": params,
            "run_id": record["run_id"],
        },
        "window": {"start": epoch, "end": end, "seconds": round(end - epoch, 3)},
        "licenses": record["licenses"],
        "thresholds": thresholds,
        "invariants": {
            "operations_judged": len(run.history),
            "seat_violations": [v.to_json() for v in violations if v.kind == "seat"],
            "idempotency_violations": [v.to_json() for v in violations if v.kind == "idempotency"],
        },
        "latency_ms": latency_table(w.latency),
        "latency_ms_whole_run": latency_table(run.latency),
        "throughput": {
            "achieved_rps": round(w.achieved_rps(), 2),
            "achieved_checkouts_per_s": round(w.achieved_rps("checkout"), 2),
            "offered_arrivals_per_s": None if w.offered_per_s() is None else round(w.offered_per_s() or 0.0, 2),
            "on_time_share": share,
        },
        "rates": {"errors": w.error_rate(), "denials": w.denial_rate()},
        "operations": {label: dict(c) for label, c in sorted(w.logical.items())},
        "generator": {
            "cpu_limit": CPU_LIMIT,
            "busiest_process": load.busiest_tag,
            "busiest_mean_cpu": load.busiest_mean_cpu,
            "saturated": load.saturated,
            "machine_mean_cpu": load.machine_mean_cpu,
            "processes": load.processes,
        },
        "merge": _merge_facts(run, facts),
        "profile_details": details,
    }
    return Judgement(code, summary, run, occ)


def _threshold(s: Slo, value: float | None, ok: bool, *, scope: str) -> dict[str, Any]:
    return {
        "slo": s.text,
        "scope": scope,
        "observed": s.show(value),
        "observed_value": value,
        "limit": s.limit,
        "passed": ok,
    }


def _merge_facts(run: MergedRun, facts: Facts) -> dict[str, Any]:
    """How the shards add up: the merged counts must equal the per-process sums."""
    samples = sum(h.get_total_count() for h in run.latency.values())
    attempts = sum(sum(c.values()) for c in run.attempt_outcomes.values())
    cancelled = sum(c["cancelled"] for c in run.attempt_outcomes.values())
    return {
        "shards": [{"process": s.tag, "role": s.role, "ops": s.ops, "latency_samples": s.samples} for s in run.shards],
        "history_ops": len(run.history),
        "sum_of_shard_ops": sum(s.ops for s in run.shards),
        "latency_samples": samples,
        "sum_of_shard_latency_samples": sum(s.samples for s in run.shards),
        "attempts_sent": attempts,
        "attempts_cancelled_at_stop": cancelled,
        "locust_request_count": facts.locust_request_count,
    }


def _machine() -> dict[str, Any]:
    import os

    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }
