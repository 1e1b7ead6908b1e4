"""The budgeted loop: seeded programs until the budget ends, each judged whole by the model.

Program `i` of seed `s` draws from `random.Random(f"{s}:{i}")`, so the same
seed sends the same programs as long as the target answers the same (a
race lost differently changes what follows; the failure then shows with a
seed nearby, or with a longer budget). The first program whose history the
model cannot explain ends the exploration; it is shrunk, per direction of
what was found (unsafe successes, wrongful refusals), to a short program
that still fails on a replay, and that program with its model verdict is
the witness.

A program's history is judged as it grows, after rounds 8, 16, 32, ...
(so the judging costs at most about one more judgement of the whole), and
the wave ends as soon as one is unexplainable: a budget is a bound, not a
duration, and a fault found in ten seconds does not wait out ninety. This is
sound because a round ends only when all its answers are in: a prefix of
complete operations that the model cannot explain stays unexplainable
whatever follows it (a later operation starts after every earlier one has
ended, so it can explain none of them).

Why not hypothesis's stateful testing: its shrinker replays examples
without a bound on time, and here every replay costs real seconds of the
target's lease windows; the delta debugging in `shrink.py` works on the
same programs under a deadline.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from leasecheck.conformance.target import Target
from leasecheck.core.history import History
from leasecheck.core.interrupts import stopping
from leasecheck.core.model import REFUSAL, UNSAFE

from .choose import Chooser
from .execute import Pool, Run, provision
from .judge import Judged, judge
from .shrink import shrink, slice_of
from .steps import Program, render, step_count

#: Seat counts a program's licenses draw from.
SEATS = (1, 2, 3)
#: Programs run at once, each on licenses of its own: their waits overlap.
PARALLEL = 4
#: Rounds per program at most (a program usually ends with the budget; the witness is its slice).
MAX_ROUNDS = 200
#: Lease windows (seconds) of the licenses: a short one, whose boundaries are cheap to wait
#: for, and a longer one, whose leases outlive chains of several steps (a suspend, a
#: reinstate, a heartbeat, a fill).
LEASE_SECONDS = (1.0, 3.0)
#: The time a shrink gets (a failing run only): enough for a few dozen short replays.
SHRINK_SECONDS = 15.0
#: The round after which a program's history is first judged while it runs; then after twice as many.
FIRST_CHECK_ROUNDS = 8


@dataclass
class Finding:
    """What one direction of the model found: the witness program and its verdict."""

    direction: str
    program_index: int
    original_steps: int
    witness: Program
    verdict: Judged

    def describe(self, seed: int) -> str:
        kinds = ", ".join(f"{k} ×{n}" for k, n in sorted(self.verdict.verdict.counts.items()))
        return (
            f"seed {seed}, program {self.program_index}: the model finds {kinds}; shrunk from "
            f"{self.original_steps} to {step_count(self.witness)} steps (replay: leasecheck conformance "
            f"--only explore --seed {seed}).\nWitness program:\n{render(self.witness)}\n\n{self.verdict.verdict.render()}"
        )


@dataclass
class Exploration:
    seed: int
    budget: float
    programs: int = 0
    ops: int = 0
    coverage: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    findings: dict[str, Finding] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    waited: float = 0.0  # seconds waiting for time boundaries, summed over the programs
    rounds: int = 0
    set_aside: int = 0  # stored answers replayed after a status change (judge.py)
    not_run: str | None = None
    seconds: float = 0.0
    cut_short: int = 0  # programs a finding ended before the budget and MAX_ROUNDS did

    def summary(self) -> str:
        return (
            f"seed {self.seed}: {self.programs} programs, {self.ops} operations in {self.seconds:.1f} s "
            f"(budget {self.budget:g} s, and a failure's shrinking; {self.rounds} rounds, {self.waited:.1f} s spent "
            f"waiting for time boundaries over all programs), {len(self.coverage)} combinations of operation, status and state visited"
            + (f"; {self.cut_short} of the programs ended early by the finding" if self.cut_short else "")
        )


def explore(target: Target, *, seed: int, budget: float) -> Exploration:
    out = Exploration(seed=seed, budget=budget)
    if target.management is None:
        out.not_run = (
            "exploration creates, suspends, reinstates and revokes licenses of its own; an inventory's "
            "licenses are shared with every other scenario (give a management token to run it)"
        )
        return out
    started = time.time()
    deadline = started + budget
    timeouts = tuple(max(1, math.ceil(t / target.settings.minute - 1e-9)) for t in LEASE_SECONDS)
    lock = threading.Lock()
    failed: list[tuple[int, Pool, Program, Judged, dict[int, int]]] = []
    #: What stopped a program's thread because the run is ending (interrupted: no new
    #: request leaves): raised by `explore` itself, in the timeline's thread, which keeps
    #: it as the script's error. Left to the program's thread, it was printed as a
    #: traceback per thread after an interrupted run's verdict.
    errors: list[BaseException] = []
    wave = 0
    found = threading.Event()  # a program of the wave failed: the others end at their next round
    while time.time() < deadline and not failed and not errors:
        # A wave of programs at once, sharing one coverage count, so the run as a whole
        # keeps reaching combinations it has not visited.

        def one(index: int) -> None:
            try:
                pool, program, verdict, run, cut = _program(
                    target, seed, index, timeouts, deadline, out.coverage, found
                )
            except BaseException as exc:
                if not (stopping.is_set() or target.transport.closing):
                    raise
                with lock:
                    errors.append(exc)
                return
            with lock:
                out.programs += 1
                out.cut_short += cut
                out.ops += verdict.verdict.ops
                out.set_aside += len(verdict.set_aside)
                out.waited += run.waited
                out.rounds += len(run.executed)
                out.skipped += run.skipped
                if not verdict.ok:
                    failed.append((index, pool, program, verdict, run.step_of))
                    found.set()

        threads = [
            threading.Thread(target=one, args=(wave * PARALLEL + n,), name=f"explore-{n}", daemon=True)
            for n in range(PARALLEL)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wave += 1
    if errors:
        raise errors[0]
    if failed:
        index, pool, program, verdict, step_of = min(failed, key=lambda f: f[0])
        for direction in (UNSAFE, REFUSAL):
            if direction in verdict.directions():
                out.findings[direction] = _witness(target, pool, program, verdict, direction, index, step_of)
    out.seconds = time.time() - started
    return out


def _program(
    target: Target,
    seed: int,
    index: int,
    timeouts: tuple[int, ...],
    deadline: float,
    seen: Counter[tuple[str, str, str]],
    found: threading.Event,
) -> tuple[Pool, Program, Judged, Run, bool]:
    """Program `index` of `seed`: drawn step by step from the state it reaches, judged as it
    grows; it ends at the budget, at MAX_ROUNDS, once its history is unexplainable, or once
    another program of its wave found one (`found`; the last value says so: cut short)."""
    rng = random.Random(f"{seed}:{index}")
    seats = tuple(rng.choice(SEATS) for _ in LEASE_SECONDS)
    history = History()
    pool = provision(target, history, seats, timeouts)
    run = Run(target, pool, history, deadline=deadline)
    chooser = Chooser(rng, management=True, coverage=seen)
    check_at, verdict, cut = FIRST_CHECK_ROUNDS, None, False
    try:
        for n in range(1, MAX_ROUNDS + 1):
            if time.time() >= deadline:
                break
            if found.is_set():
                cut = True
                break
            for rnd in chooser.next_rounds(run):
                run.round(rnd)
                chooser.note_revoke(rnd)
            verdict = None  # the history grew
            if n == check_at:
                check_at *= 2
                verdict = judge(history)
                if not verdict.ok:
                    found.set()
                    cut = n < MAX_ROUNDS
                    break
    finally:
        run.close()
    return pool, tuple(run.executed), verdict or judge(history), run, cut


def _witness(
    target: Target,
    pool: Pool,
    program: Program,
    verdict: Judged,
    direction: str,
    index: int,
    steps: dict[int, int],
) -> Finding:
    """Shrink `program` to a short one whose replay the model still finds `direction` in."""
    kinds = {v.kind for v in verdict.violations if v.direction == direction}
    best = Finding(direction, index, step_count(program), program, verdict)
    timeouts = tuple(f.timeout_minutes for f in pool.licenses)
    seats = pool.seats
    deadline = time.time() + SHRINK_SECONDS

    def fails(candidate: Program) -> bool:
        history = History()
        replay_pool = provision(target, history, seats, timeouts)
        run = Run(target, replay_pool, history, deadline=deadline)
        try:
            run.play(candidate)
        finally:
            run.close()
        v = judge(history)
        if any(x.kind in kinds for x in v.violations):
            executed = tuple(run.executed)
            if step_count(executed) <= step_count(best.witness):
                best.witness, best.verdict = executed, v
            return True
        return False

    first = [v for v in verdict.violations if v.direction == direction]
    sliced = slice_of(program, {run_sid for v in first for i in v.op_indices if (run_sid := steps.get(i)) is not None})
    if sliced and step_count(sliced) < step_count(program) and fails(sliced):
        program = sliced
    shrink(program, fails, deadline)
    return best
