"""The step profile's answer: per-step numbers and the knee.

Each step is judged on its own window (its first `settle_seconds` left out):
the SLOs, and whether the generator kept up. The sweep ends where the SLO
breaks for good: `confirm_steps` (default 2) broken steps in a row, or a
broken last step. One broken step followed by a passing one is a blip (a
stall of ~100 ms is enough to move a p99), shown in the table and the
reason, not the end. The knee is the last passing step before the end: the
highest throughput the target sustained within the SLO. How the sweep ended
decides the verdict: the SLO broke with the generator healthy: the server's
limit, a knee; the generator saturated first: the knee is unknown (invalid
run); every step passed: the knee is above the last rate tried (a lower
bound). The same decision is asked live while locust runs (`stop_at`,
through `Profile.stop_early` and `runtime/live.py`): once the knee is
confirmed, or the generator saturated, the run ends there instead of loading
a server past its knee for the remaining steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from leasecheck.load.analysis.gates import observe
from leasecheck.load.analysis.generator import ON_TIME_SHARE, on_time_share, process_load
from leasecheck.load.analysis.shards import MergedRun
from leasecheck.load.analysis.slo import Slo
from leasecheck.load.analysis.window import window


@dataclass
class StepResult:
    steps: list[dict[str, Any]] = field(default_factory=list)
    knee: dict[str, Any] | None = None
    ended_by: str = "no steps"  # "slo" | "generator" | "all passed" | "no steps" | "open" (live only)
    reason: str = ""


def analyse_steps(
    run: MergedRun, params: dict[str, Any], epoch: float, duration: float, slos: list[Slo], *, final: bool = True
) -> StepResult:
    step_s = float(params["step_seconds"])
    n = max(1, math.floor(duration / step_s + 1e-9))
    return decide(measure_steps(run, params, epoch, n, slos), confirm_steps(params), final=final)


def stop_at(run: MergedRun, params: dict[str, Any], epoch: float, until: float, slos: list[Slo]) -> StepResult | None:
    """Live, while locust runs: the steps measured up to `until` (every second of
    them complete in `run`), when they already answer the question: the knee is
    confirmed (`confirm_steps` broken steps in a row) or the generator saturated.
    Running further steps would only measure a server past its knee."""
    step_s, bs = float(params["step_seconds"]), run.bucket_seconds
    n = 0  # steps whose last second (see `window`'s rounding) is complete by `until`
    while math.floor((epoch + (n + 1) * step_s) / bs + 0.5) * bs <= until + 1e-9:
        n += 1
    if n < 1:
        return None
    res = decide(measure_steps(run, params, epoch, n, slos), confirm_steps(params), final=False)
    return res if res.ended_by in ("slo", "generator") else None


def confirm_steps(params: dict[str, Any]) -> int:
    return max(1, int(params.get("confirm_steps", 2)))


def measure_steps(
    run: MergedRun, params: dict[str, Any], epoch: float, n: int, slos: list[Slo]
) -> list[dict[str, Any]]:
    """The first `n` steps' numbers, each on its own window."""
    step_s, settle = float(params["step_seconds"]), float(params["settle_seconds"])
    steps: list[dict[str, Any]] = []
    gating = [s for s in slos if s.metric != "rps"]
    for k in range(n):
        start, end = epoch + k * step_s + min(settle, step_s / 2), epoch + (k + 1) * step_s
        w = window(run, start, end)
        load = process_load(run, start, end)
        share = on_time_share(w.offered, w.issued)
        seen = [(s, observe(w, s)) for s in gating]
        checks = [{"slo": s.text, "observed": s.show(v), "value": v, "passed": s.holds(v)} for s, v in seen]
        generator_bound = load.saturated or (share is not None and share < ON_TIME_SHARE)
        p99 = w.latency_value("percentile", 99.0)
        steps.append(
            {
                "step": k + 1,
                "window": [w.start, w.end],
                "offered_cycles_per_s": float(params["start_rate"]) + k * float(params["rate_step"]),
                "offered_arrivals_per_s": round(w.offered_per_s() or 0.0, 1),
                "achieved_cycles_per_s": round(w.achieved_rps("checkin"), 1),
                "achieved_rps": round(w.achieved_rps(), 1),
                "p50_ms": _ms(w.latency_value("percentile", 50.0)),
                "p99_ms": _ms(p99),
                "error_rate": w.error_rate(),
                "on_time_share": share,
                "generator_cpu": load.busiest_mean_cpu,
                "machine_cpu": load.machine_mean_cpu,
                "generator_bound": generator_bound,
                "slo": checks,
                "passed": all(c["passed"] for c in checks) and not generator_bound,
            }
        )
    return steps


def decide(steps: list[dict[str, Any]], confirm: int, *, final: bool = True) -> StepResult:
    """Where the sweep ended, and the knee (see the module docstring).

    `final=False` is the live question asked while the run is still going
    (`stop_at`): a broken step not yet followed by `confirm - 1` more steps is
    not the end but "open" (the next step may pass again)."""
    res = StepResult(steps=steps)
    blips: list[int] = []
    for i, row in enumerate(steps):
        if row["generator_bound"]:
            res.ended_by = "generator"
            res.reason = (
                f"step {row['step']}: the load generator was the bottleneck (busiest process CPU "
                f"{row['generator_cpu']}%, on-time arrivals {_pct(row['on_time_share'])}) before the SLO broke"
            )
            break
        if _slo_ok(row):
            res.knee = row
            continue
        following = steps[i + 1 : i + confirm]
        if not final and len(following) < confirm - 1:
            res.ended_by, res.reason = "open", f"step {row['step']} broke the SLO; the next step(s) decide"
            break
        if len(following) < confirm - 1 or not any(_slo_ok(r) and not r["generator_bound"] for r in following):
            res.ended_by = "slo"
            failed = ", ".join(f"{c['slo']} (was {c['observed']})" for c in row["slo"] if not c["passed"])
            res.reason = f"step {row['step']} at {row['offered_cycles_per_s']:g} cycles/s broke {failed}"
            if following:
                res.reason += f", and so did the next {len(following)} step(s)"
            break
        blips.append(row["step"])  # a step within `confirm` passed again: not the end yet
    else:
        res.ended_by = "all passed" if steps else "no steps"
        res.reason = "the SLO held at every step: the knee is above the highest rate tried"
    if blips:
        res.reason += f" (step(s) {', '.join(map(str, blips))} broke the SLO, but a later step met it again)"
    return res


def _slo_ok(row: dict[str, Any]) -> bool:
    return all(c["passed"] for c in row["slo"])


def _ms(v: float | None) -> float | None:
    return None if v is None else round(v * 1000, 3)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 100:.0f}%"
