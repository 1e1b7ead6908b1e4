"""Judge a finished load run: invariants, validity, thresholds, verdict, exit code.

Exit codes (documented in `leasecheck load --help` and the README):

    0  passed              no violation, the run is valid, every --slo held
    2  bad settings        bad option, unreachable target, provisioning refused
    3  SLO breached        a threshold failed (step profile: no step met the SLO)
    4  invariant violated  the model checker found what no order of the recorded
                           requests explains (more leases certainly held than seats,
                           one Idempotency-Key with two effects, a live lease refused,
                           ...): proven from the history, with its witness
    5  run invalid         the numbers do not describe the server: the generator
                           was the bottleneck, a locust process recorded nothing,
                           a worker was lost mid-run (partial), or locust failed

Precedence is 4 > 5 > 3 > 0. A violation is proof whatever the generator
did (the checker counts only what is certain, so a slow client cannot
manufacture one); an invalid run's latencies are the generator's, so it
cannot be said to breach, or meet, an SLO. 1 is left to Python and click
(a crash is never mistaken for a verdict).

The judge is the same for every profile: the invariants and the run's
validity here, then whatever the run record's profile declares
(`Profile.findings`: its thresholds, its reasons, its summary details).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leasecheck.core.history import Violation, management_op
from leasecheck.core.model import Clock, Verdict, as_history_violation, check_history
from leasecheck.load import profiles
from leasecheck.load.analysis.bulk import paused_gc
from leasecheck.load.analysis.clocks import created_window
from leasecheck.load.analysis.observation import Observation, observe_run
from leasecheck.load.analysis.occupancy import Occupancy
from leasecheck.load.analysis.shards import MergedRun, ShardInfo, merge
from leasecheck.load.analysis.slo import Slo
from leasecheck.load.config import read_run_record
from leasecheck.load.profiles.profile import Profile

from .summary import Facts, summarize

#: The kinds summaries list first, in this order (`model_violations` hold the rest).
LISTED = ("seat", "idempotency")
EXIT_PASSED, EXIT_SETTINGS, EXIT_SLO, EXIT_VIOLATION, EXIT_INVALID = 0, 2, 3, 4, 5
VERDICT = {
    EXIT_PASSED: "passed",
    EXIT_SLO: "slo_breached",
    EXIT_VIOLATION: "invariant_violated",
    EXIT_INVALID: "invalid",
}


@dataclass
class Judgement:
    exit_code: int
    summary: dict[str, Any]
    run: MergedRun
    occupancy: dict[str, Occupancy]
    profile: Profile

    @property
    def verdict(self) -> str:
        return VERDICT[self.exit_code]


def judge(shard_dir: Path, slos: list[Slo], facts: Facts, *, align_clocks: bool = True) -> Judgement:
    """`align_clocks=False` judges every process's instants as recorded (the
    tests show that a skewed worker then produces a false violation)."""
    record = read_run_record(shard_dir)
    # `--processes N`: the command started every locust process on its own machine, so they read one clock.
    run = merge(shard_dir, align_clocks, shared_clock=bool(record.get("shared_clock")))
    return judge_merged(run, record, slos, facts, align_clocks=align_clocks)


def judge_merged(
    run: MergedRun, record: dict[str, Any], slos: list[Slo], facts: Facts, *, align_clocks: bool = True
) -> Judgement:
    """The verdict on a merged run (the merge benchmark times `merge` and this apart)."""
    with paused_gc():  # a million ops: see analysis/bulk.py
        return _judge_merged(run, record, slos, facts, align_clocks)


def _judge_merged(
    run: MergedRun, record: dict[str, Any], slos: list[Slo], facts: Facts, align_clocks: bool
) -> Judgement:
    profile = profiles.get(record["profile"])
    # Blind (align_clocks=False): every clock taken to agree with the server's, as before measuring.
    blind = None if align_clocks else Clock(offset=0.0, bound=0.0)
    verdict = model_verdict(run, record, blind)
    seen = observe_run(run, record, slos, verdict.held)  # seats in use: what the checker counted held
    violations = [as_history_violation(v) for v in verdict.violations]
    violations.sort(key=lambda v: LISTED.index(v.kind) if v.kind in LISTED else len(LISTED))  # as summaries list them
    found = profile.findings(seen)
    invalid = run_validity(seen, facts) + found.invalid
    code = exit_code(violations, invalid, found.breached)
    reasons = [v.message + f" ({v.license})" for v in violations] + invalid + found.breached
    summary = summarize(
        seen,
        record,
        facts,
        found,
        violations,
        verdict=VERDICT[code],
        exit_code=code,
        reasons=reasons,
        window_label=profile.window_label,
    )
    return Judgement(code, summary, seen.run, seen.occupancy, profile)


def model_verdict(run: MergedRun, record: dict[str, Any], clock: Clock | None = None) -> Verdict:
    """The run's history judged by the model checker, with each license's
    creation (seats, lease timeout) as the management op it was, and each
    license's certainly-held sweep kept for the seat occupancy. `clock`
    overrides the checker's own estimate of the client-server offset."""
    minute = float(record["minute_seconds"])
    creates = []
    for lic in record["licenses"]:
        placed = created_window(lic["created"], run.clocks) if lic.get("created") else None
        if placed is not None:
            sent, received = placed
            timeout = int(lic["timeout_minutes"]) * minute
            creates.append(
                management_op(
                    "create_license", lic["name"], sent, received, 201, seats=int(lic["seats"]), timeout=timeout
                )
            )
    capacity = {lic["name"]: int(lic["seats"]) for lic in record["licenses"]}
    return check_history([*creates, *run.history.ops], capacity=capacity, clock=clock, held=True)


def run_validity(seen: Observation, facts: Facts) -> list[str]:
    """Reasons the run as a whole describes nothing: locust failed, or recorded nothing."""
    invalid = []
    if facts.locust_exit is not None and facts.locust_exit not in (0, 1):
        invalid.append(f"locust exited with code {facts.locust_exit} (see locust.log)")
    if facts.never_started:
        return [facts.never_started]
    expected = max(facts.processes, 1)
    if len(seen.run.user_shards) < expected:
        invalid.append(
            f"{len(seen.run.user_shards)} of {expected} locust processes wrote their history (see locust.log)"
        )
    if not seen.history.ops or not seen.epoch:
        invalid.append("no lease operation was recorded")
    invalid += [partial_reason(s) for s in seen.run.lost]
    return invalid


def partial_reason(shard: ShardInfo) -> str:
    """A worker lost mid-run, named: the run is judged on what arrived (a violation in it still counts)."""
    st = shard.stream or {}
    return (
        f"partial run: worker {shard.tag} (index {st.get('worker_index')}) {st.get('lost') or 'delivered a gap'};"
        f" {st.get('received')} of the {st.get('sent')} ops it announced arrived, and the run is judged on those"
    )


def exit_code(violations: list[Violation], invalid: list[str], breached: list[str]) -> int:
    if violations:
        return EXIT_VIOLATION
    if invalid:
        return EXIT_INVALID
    if breached:
        return EXIT_SLO
    return EXIT_PASSED
