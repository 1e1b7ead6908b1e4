"""check_history: judge a whole history against the model, license by license.

The question — is there an order of the ops, each taking effect inside its
own window (within the clock bound), that explains every answer? — is
decided per license (licenses share only lease tokens, judged once across
all) and, within a license, by the interval rules of the other modules. Each
rule is sound on its own: it reports only what holds in every explaining
order, so a legal history is never reported, whatever honest variant the
server chose (see `options.py`). The rules are not complete: a history whose
only contradiction needs a chain of several uncertain orders to show may pass.

Cost: one pass to index, then O(k log k) per license in its k ops; no search.
A big history is cut into parts no rule looks across (`partition.py`) and
judged on every core (`parallel.py`); the verdict is the same either way.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from leasecheck.core.history import History, Op

from . import parallel, partition
from .clock import Clock, Timeline, make_timeline
from .columns import read_columns
from .context import LicenseContext, Reporter
from .devices import cross_license, device_rules, lend_foreign, owners
from .idempotency import keys
from .impossible import ended_leases_accepted, inactive_grants
from .index import Index
from .options import Model
from .refused import lease_refusals, status_refusals
from .seats import capacity_refusals, over_grants
from .witness import KINDS, REFUSAL, UNSAFE, Violation

#: A step function: instants, and the count from each instant on (ties: ends first).
Steps = tuple[list[float], list[int]]


@dataclass
class Verdict:
    """What the checker found: every violation counted, the first few per
    license and kind with their witness."""

    violations: list[Violation]
    counts: Counter[str]
    ops: int
    licenses: int
    timeline: Timeline
    model: Model
    seconds: float = 0.0
    unjudged_licenses: list[str] = field(default_factory=list)  # no seat count known
    #: Per license, leases certainly held over time as (instants, counts) steps
    #: on the judge's timeline (only with `check_history(..., held=True)`).
    held: dict[str, Steps] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.counts

    def of_kind(self, kind: str) -> list[Violation]:
        return [v for v in self.violations if v.kind == kind]

    @property
    def unsafe(self) -> list[Violation]:
        return [v for v in self.violations if v.direction == UNSAFE]

    @property
    def wrongful_refusals(self) -> list[Violation]:
        return [v for v in self.violations if v.direction == REFUSAL]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "ops": self.ops,
            "licenses": self.licenses,
            "counts": dict(sorted(self.counts.items())),
            "timeline": self.timeline.to_json(),
            "unjudged_licenses": self.unjudged_licenses,
            "violations": [v.to_json() for v in self.violations],
        }

    def render(self) -> str:
        if self.ok:
            return (
                f"model check: {self.ops} ops over {self.licenses} licenses, no violation ({self.timeline.describe()})"
            )
        counts = ", ".join(f"{k} ×{n}" for k, n in sorted(self.counts.items()))
        parts = [f"model check: {self.ops} ops over {self.licenses} licenses: {counts}"]
        parts += [v.render() for v in self.violations]
        return "\n\n".join(parts)


def check_history(
    history: History | Iterable[Op],
    model: Model | None = None,
    *,
    capacity: Mapping[str, int] | None = None,
    clock: Clock | Mapping[str | None, Clock] | None = None,
    workers: int | None = None,
    held: bool = False,
) -> Verdict:
    """Judge every op of `history` against the contract model.

    `capacity` gives seats per license name where the history holds no
    `create_license` op with `seats` (it wins where both exist); a license
    with neither is judged by every rule but the seat rules. `clock` overrides
    the offset estimated from the answers' `meta.timestamp` (see `clock.py`).
    `workers`: processes to judge with (default: the cores, for a history
    big enough to pay for them; see `parallel.py`); the verdict is the same.
    `held`: also return each license's count of leases certainly held over
    time (`Verdict.held`), the over-grant rule's own sweep: what a report
    plots as seats in use is then exactly what the checker counted.
    """
    # The checker allocates a few small objects per op and frees none until it
    # returns; the cyclic collector would rescan them all many times over.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _check(history, model or Model(), capacity, clock, workers, held)
    finally:
        if paused:
            gc.enable()


@dataclass
class Found:
    """What judging one part of the history found."""

    violations: list[Violation]
    counts: Counter[str]
    licenses: int
    unjudged: list[str]
    held: dict[str, Steps] = field(default_factory=dict)


def _check(
    history: History | Iterable[Op],
    model: Model,
    capacity: Mapping[str, int] | None,
    clock: Clock | Mapping[str | None, Clock] | None,
    workers: int | None,
    held: bool = False,
) -> Verdict:
    started = time.perf_counter()
    ops = history.ops if isinstance(history, History) else list(history)
    cols = read_columns(ops)
    timeline = make_timeline(
        ops, per_worker=model.clock_domains == "worker", tolerance=model.tolerance, clock=clock, cols=cols
    )
    n = parallel.default_workers(len(ops)) if workers is None else workers
    parts: list[set[str] | None] = [None] if n <= 1 else list(partition.split(cols, n))

    def judge(part: set[str] | None) -> Found:
        only = None if part is None else partition.indices(cols, part)
        return judge_part(Index(ops, timeline, model, cols, only), capacity, held)

    found = parallel.run(judge, parts)
    violations = [v for f in found for v in f.violations]
    order = {k: n for n, k in enumerate(KINDS)}
    violations.sort(key=lambda v: (order[v.kind], v.license, v.window or (0.0, 0.0)))
    return Verdict(
        violations=violations,
        counts=sum((f.counts for f in found), Counter()),
        ops=len(ops),
        licenses=sum(f.licenses for f in found),
        timeline=timeline,
        model=model,
        seconds=time.perf_counter() - started,
        unjudged_licenses=sorted(u for f in found for u in f.unjudged),
        held={name: steps for f in found for name, steps in f.held.items()},
    )


def judge_part(idx: Index, capacity: Mapping[str, int] | None, held: bool = False) -> Found:
    """Every rule over the indexed ops: per license, then across licenses
    (`held`: keep each license's certainly-held steps)."""
    reporter = Reporter(idx.model.max_reports)
    owner = owners(idx)
    lend_foreign(idx, owner)
    foreign: dict[str, set[str]] = {}
    for ref, home in owner.items():
        for name in idx.shared[ref]:
            if name != home:
                foreign.setdefault(name, set()).add(ref)
    unjudged = []
    steps: dict[str, Steps] = {}
    for name, lf in idx.licenses.items():
        seats = capacity.get(name) if capacity is not None and name in capacity else lf.seats
        if seats is None and (lf.leases or lf.checkout_refusals):
            unjudged.append(name)
        ctx = LicenseContext(idx, lf, reporter, seats, foreign.get(name), keep_held=held)
        judge_license(ctx)
        if held:
            steps[name] = ctx.certain_steps
    cross_license(idx, owner, reporter)
    return Found(reporter.violations, reporter.counts, len(idx.licenses), unjudged, steps)


def judge_license(ctx: LicenseContext) -> None:
    """Every per-license rule, in the order of the violation kinds."""
    over_grants(ctx)
    ended_leases_accepted(ctx)
    inactive_grants(ctx)
    keys(ctx)
    device_rules(ctx)
    capacity_refusals(ctx)
    lease_refusals(ctx)
    status_refusals(ctx)
