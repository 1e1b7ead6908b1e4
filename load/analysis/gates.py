"""The run-wide gates: was the generator healthy, and did the window meet each SLO?

What most profiles are judged by (`Profile.findings` starts from
`window_findings`); a profile that judges in parts, like the step profile's
steps, uses `observe` and `threshold` on each part instead.
"""

from __future__ import annotations

from typing import Any

from .generator import CPU_LIMIT, ON_TIME_SHARE
from .observation import Findings, Observation
from .slo import Slo
from .window import Window


def observe(w: Window, slo: Slo, knee_rps: float | None = None) -> float | None:
    """The value an SLO compares, in a window (`rps` reads the knee when given)."""
    if slo.metric == "latency":
        return w.latency_value(slo.statistic or "percentile", slo.quantile, slo.endpoint)
    if slo.metric == "errors":
        return w.error_rate()
    if slo.metric == "denials":
        return w.denial_rate()
    return knee_rps if knee_rps is not None else w.achieved_rps()


def threshold(slo: Slo, value: float | None, ok: bool, *, scope: str) -> dict[str, Any]:
    """One row of summary.json's `thresholds`."""
    return {
        "slo": slo.text,
        "scope": scope,
        "observed": slo.show(value),
        "observed_value": value,
        "limit": slo.limit,
        "passed": ok,
    }


def generator_reasons(seen: Observation) -> list[str]:
    """Why the window measured the generator rather than the server, if it did."""
    load, share, reasons = seen.generator, seen.on_time_share, []
    if load.saturated:
        reasons.append(
            f"the load generator was the bottleneck: process {load.busiest_tag} ran at a mean "
            f"{load.busiest_mean_cpu:.0f}% CPU (limit {CPU_LIMIT:.0f}%); add --processes or machines"
        )
    if share is not None and share < ON_TIME_SHARE:
        reasons.append(
            f"the generator started only {share * 100:.0f}% of its arrivals on time (needs {ON_TIME_SHARE * 100:.0f}%)"
        )
    return reasons


def window_findings(seen: Observation) -> Findings:
    """The generator's health and every SLO, over the whole measured window."""
    found = Findings(invalid=generator_reasons(seen))
    for s in seen.slos:
        value = observe(seen.window, s)
        ok = s.holds(value)
        found.thresholds.append(threshold(s, value, ok, scope="run"))
        if not ok:
            found.breached.append(f"{s.text} breached: observed {s.show(value)}")
    return found
