"""Benchmark: the model checker on a legal history of ~1,000,000 operations over
1,000 licenses, against the old seat and idempotency checks on the same history.

The history comes from the executable model (`leasecheck.core.model.simulate`):
devices check out, heartbeat, check in, abandon leases and let them expire
(and sometimes revive them), get refused over capacity and retry, replay
requests with their Idempotency-Key (also while the first is in flight), lose
answers in transport, present other licenses' tokens; managers create every
license and suspend/reinstate a few; each license's server makes its own
honest-variant picks. It is legal by construction, so the checker must find
nothing (exit 1 if it does: that would be a false report, not slowness).

    python benchmarks/bench_checker.py [--licenses 1000] [--ops-per-license 1000] [--seed 7]
                                       [--save FILE | --load FILE]

Prints the history's make-up, the checker's time (wall and CPU) and ops/s, the
old `check_seats` + `check_idempotency` on the same history, and their ratio
(the figure to read: absolute numbers move with the machine and its load,
which is printed too, with a pure-Python calibration loop). Not a test: it
never fails on speed. `--save`/`--load` keep the generated history (a pickle)
so that a second run skips the minute the generation takes.
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import platform
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from leasecheck.core.history import Op, check_idempotency, check_seats
from leasecheck.core.model import check_history
from leasecheck.core.model.parallel import default_workers
from leasecheck.core.model.simulate import Workload, simulate

T = TypeVar("T")


def workload(licenses: int, ops_per_license: int) -> Workload:
    """Realistic habits: a few more devices than seats, 10 s leases heartbeated
    30-90 % of the way, a refusal retried after 5-15 s; about 1.06 ops per
    second of traffic per license."""
    return Workload(
        licenses=licenses,
        seats=(3, 6),
        devices=6,
        duration=ops_per_license / 1.065,
        timeout=10.0,
        think=(0.5, 4.0),
        backoff=(5.0, 15.0),
        heartbeats=(2, 8),
        p_abandon=0.08,
        p_lost=0.0005,
        p_status=0.03,
        p_foreign_token=0.005,
        p_shared_key=0.002,
    )


def calibrate() -> float:
    """CPU seconds for 3 million additions in a Python loop (the machine's pace)."""
    c = time.process_time()
    s = 0
    for i in range(3_000_000):
        s += i
    return time.process_time() - c


def cpu() -> float:
    """CPU seconds of this process and of every child it has reaped (the
    checker judges a big history in forked processes: their CPU counts too)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    gc.collect()
    w, c = time.perf_counter(), cpu()
    out = fn()
    return out, time.perf_counter() - w, cpu() - c


def history_options(ap: argparse.ArgumentParser) -> None:
    """The options that say which history to judge (bench_merge takes the same)."""
    ap.add_argument("--licenses", type=int, default=1000)
    ap.add_argument("--ops-per-license", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--save", type=Path, help="write the generated history here (pickle)")
    ap.add_argument("--load", type=Path, help="judge this saved history instead of generating one")


def history(args: argparse.Namespace) -> list[Op]:
    """The machine's line, then the history the options name: loaded, or generated (and saved)."""
    print(f"machine: {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}; calibration loop: {calibrate():.2f} s CPU")
    if args.load:
        with args.load.open("rb") as fh:
            ops: list[Op] = pickle.load(fh)
        print(f"history: {len(ops):,} ops loaded from {args.load}")
        return ops
    w, c = time.perf_counter(), time.process_time()
    ops = simulate(workload(args.licenses, args.ops_per_license), args.seed).ops
    print(
        f"history: {len(ops):,} ops generated in {time.perf_counter() - w:.1f} s ({time.process_time() - c:.1f} s CPU)"
    )
    if args.save:
        with args.save.open("wb") as fh:
            pickle.dump(ops, fh, protocol=5)
    return ops


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    history_options(ap)
    ap.add_argument("--workers", type=int, help="checker processes (default: the checker's own choice)")
    args = ap.parse_args(argv)
    ops = history(args)
    mix = Counter((o.kind, "ok" if o.ok else ("lost" if o.status is None else str(o.status))) for o in ops)
    print("  " + ", ".join(f"{k} {s}: {n:,}" for (k, s), n in mix.most_common()))
    licenses = {o.license for o in ops}
    capacity = {o.license: o.seats for o in ops if o.kind == "create_license" and o.seats is not None}
    print(f"  {len(licenses):,} licenses")

    verdict, wall, used = timed(lambda: check_history(ops, workers=args.workers))
    procs = args.workers if args.workers is not None else default_workers(len(ops))
    print(
        f"model checker:  {wall:6.2f} s wall, {used:6.2f} s CPU ({procs} process{'es' if procs != 1 else ''}), "
        f"{len(ops) / wall:,.0f} ops/s  ({verdict.render()})"
    )
    old, old_wall, old_cpu = timed(lambda: check_seats(ops, capacity) + check_idempotency(ops))
    print(
        f"old checks:     {old_wall:6.2f} s wall, {old_cpu:6.2f} s CPU, {len(ops) / old_wall:,.0f} ops/s  ({len(old)} violations)"
    )
    print(f"ratio model/old: {wall / old_wall:.2f}x wall, {used / old_cpu:.2f}x CPU")
    print(f"figure: {len(ops):,} ops over {len(licenses):,} licenses judged in {wall:.2f} s wall ({used:.2f} s CPU)")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
