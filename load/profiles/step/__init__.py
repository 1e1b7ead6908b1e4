"""step: raise the arrival rate step by step; find the knee.

Open loop (see `locustfile.py`): lease cycles arrive at start_rate,
start_rate + rate_step, ... per second, one step every `step_seconds`,
spread over `licenses` licenses with room to spare (no denials: this
measures speed). The judge evaluates the SLO and the generator's health
step by step, not over the whole run, and the knee is the verdict
(`knee.py`); the report shows the steps (`section.html.j2`) and the knee
curve (`figures.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leasecheck.load.analysis.gates import threshold
from leasecheck.load.analysis.observation import Findings, Observation
from leasecheck.load.analysis.shards import MergedRun
from leasecheck.load.analysis.slo import Slo, parse
from leasecheck.load.profiles.params import Param, ParamError, max_in_flight, timeout_minutes
from leasecheck.load.profiles.profile import EarlyEnd, LicenseNeed, Profile

from .knee import StepResult, analyse_steps, stop_at

if TYPE_CHECKING:  # matplotlib is slow to import; only the report needs it
    from matplotlib.figure import Figure


class Step(Profile):
    name = "step"
    help = "open-loop rate raised step by step: the knee"
    summary = "open-loop lease cycles (checkout, heartbeat, checkin) at a rate raised step by step"
    measures = "the knee: the highest throughput sustained within the p99 SLO and the error budget"
    default_users = 50
    default_duration = 120.0
    default_slos = ("p99<50ms", "errors<0.1%")
    rate_param = "start_rate"
    report_section = "section.html.j2"
    section_first = True  # the knee is the answer: its figures come before the whole sweep's
    window_label = "the whole sweep (every step run, those past the knee too)"
    params = (
        Param("start_rate", 10.0, "lease cycles per second in the first step", above=0),
        Param("rate_step", 10.0, "lease cycles per second added per step", least=0),
        Param("step_seconds", 10.0, "length of one step; duration / step_seconds steps are run", above=0),
        timeout_minutes(5),
        Param("licenses", 10, "cycles are spread over this many licenses", least=1, most=1000),
        Param("settle_seconds", 1.0, "the start of each step that is not judged", least=0),
        max_in_flight(),
        Param("confirm_steps", 2, "broken steps in a row that end the sweep (1: the first broken step)", least=1),
    )

    def licenses(self, users: int, params: dict[str, Any], minute_seconds: float) -> list[LicenseNeed]:
        return [
            LicenseNeed(f"step-{i}", 1_000_000, int(params["timeout_minutes"])) for i in range(int(params["licenses"]))
        ]

    def shortest_run(self, params: dict[str, Any], lease_seconds: float) -> float:
        return float(params["step_seconds"])

    def check(self, params: dict[str, Any]) -> None:
        if float(params["settle_seconds"]) >= float(params["step_seconds"]):
            raise ParamError("--param settle_seconds must be less than step_seconds (else no step is judged)")

    def findings(self, seen: Observation) -> Findings:
        """Each step judges the generator and the SLOs on its own window; `rps` gates the knee."""
        steps = analyse_steps(seen.run, seen.params, seen.epoch, seen.duration, seen.slos)
        knee_rps = steps.knee["achieved_rps"] if steps.knee else None
        found = Findings(
            details={
                "steps": steps.steps,
                "knee": steps.knee,
                "ended_by": steps.ended_by,
                "reason": steps.reason,
                "stopped_early": seen.ended_early,
            }
        )
        if steps.ended_by == "generator":
            found.invalid.append(steps.reason)
        elif steps.knee is None:
            found.breached.append(f"no step met the SLO: {steps.reason}")
        for s in seen.slos:
            if s.metric == "rps":
                ok = s.holds(knee_rps)
                found.thresholds.append(threshold(s, knee_rps, ok, scope="knee"))
                if not ok:
                    found.breached.append(f"{s.text}: the knee throughput was {s.show(knee_rps)}")
            else:
                found.thresholds.append(_per_step(s, steps))
        return found

    def stop_early(
        self, so_far: MergedRun, params: dict[str, Any], epoch: float, until: float, slos: list[Slo]
    ) -> EarlyEnd | None:
        """Once the knee is confirmed (or the generator saturated) the rest of the
        sweep would only load a server past its knee: end the run there."""
        res = stop_at(so_far, params, epoch, until, slos)
        if res is None:
            return None
        last = res.steps[-1]["step"]
        at = epoch + last * float(params["step_seconds"])
        return EarlyEnd(at, f"the sweep stopped after step {last}: {res.reason}; no further step was run")

    def headline(self, summary: dict[str, Any]) -> list[str]:
        details = summary["profile_details"]
        lines = [
            f"  {summary['headline']}",
            "  step  cycles/s  achieved rps     p50 ms     p99 ms  errors  gen CPU  machine CPU  SLO",
        ]
        for r in details.get("steps", []):
            lines.append(
                f"  {r['step']:>4}  {r['offered_cycles_per_s']:>8g}  {r['achieved_rps']:>12}  {r['p50_ms'] or 0:>9}  "
                f"{r['p99_ms'] or 0:>9}  {_pct(r['error_rate']):>6}  {r['generator_cpu'] or 0:>6.0f}%  "
                f"{r.get('machine_cpu') or 0:>10.0f}%  {'ok' if r['passed'] else 'broken'}"
            )
        k = details.get("knee")
        if k:
            lines.append(
                f"  knee: {k['achieved_rps']} requests/s at p99 {k['p99_ms']} ms "
                f"(step {k['step']}, {k['offered_cycles_per_s']:g} cycles/s offered)"
            )
        lines.append(f"  {details.get('reason', '')}")
        return lines

    def figures(self, summary: dict[str, Any]) -> dict[str, Figure]:
        from .figures import knee

        p99 = next((t["slo"] for t in summary["thresholds"] if t["slo"].replace(" ", "").startswith("p99")), None)
        details = summary["profile_details"]
        at = (details.get("knee") or {}).get("step")
        fig = knee(details.get("steps", []), parse(p99).limit * 1000 if p99 else None, at)
        return {"knee": fig} if fig is not None else {}


def _per_step(slo: Slo, steps: StepResult) -> dict[str, Any]:
    """A gating SLO's row: judged on every step, reported at the knee (the step the
    verdict rests on), or, with no knee, at the first step, which broke it."""
    row = steps.knee or (steps.steps[0] if steps.steps else None)
    check = next((c for c in row["slo"] if c["slo"] == slo.text), None) if row else None
    where = "at the knee" if steps.knee else "no step met it; first step"
    return {
        "slo": slo.text,
        "scope": f"per step; {where}" + (f" (step {row['step']})" if row else ""),
        "observed": check["observed"] if check else "n/a (no step was measured)",
        "observed_value": check.get("value") if check else None,
        "limit": slo.limit,
        "passed": steps.knee is not None,
    }


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 100:.3g}%"


PROFILE = Step()
