"""Benchmark: the generated run (schemathesis against the reference server), its
wall time and CPU, per phase, at loopback and against a server far away.

It starts a reference server (with `--delay-ms`, one that answers after that
many milliseconds, as `leasecheck serve --answer-delay-ms` does), then runs the
generated area once with one sender (what it was: one schemathesis worker)
and once as a run picks it for that target (several senders when it is far),
each with a license of its own, and prints per run: cases sent, wall seconds,
the client's and the server's CPU seconds (user+sys of each process), the
findings, and the wall and CPU of each stretch (schema, phases, judging);
then the ratio of the two runs' wall times. The load average is printed
beside the CPU: on a shared machine the CPU seconds are the figure to trust.

    python benchmarks/bench_generated.py [--delay-ms 150] [--rounds 1] [--examples 12]

Not a test: it prints numbers and never fails on speed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import psutil

from leasecheck.conformance.generated import GeneratedRun, run_generated
from leasecheck.conformance.settings import Settings
from leasecheck.conformance.target.target import Target
from leasecheck.core.server_process import ReferenceServer

SEATS = 200
TIMEOUT_MINUTES = 5


def cpu_of(pid: int) -> float:
    """User+sys seconds of a process and its children so far."""
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def one_run(target: Target, server_pid: int, *, workers: int | None, seed: int, examples: int) -> dict[str, float]:
    fixture = target.license(seats=SEATS, timeout_minutes=TIMEOUT_MINUTES, purpose="generated")
    me, srv, wall = cpu_of(os.getpid()), cpu_of(server_pid), time.monotonic()
    run: GeneratedRun = run_generated(target, fixture, seed=seed, max_examples=examples, workers=workers)
    wall = time.monotonic() - wall
    me, srv = cpu_of(os.getpid()) - me, cpu_of(server_pid) - srv
    label = "one sender" if workers == 1 else f"as picked ({run.workers} senders)"
    failed = sorted({f.requirement for f in run.findings})
    print(
        f"  {label:<22} {len(run.observations):4d} cases  wall {wall:6.2f} s  client CPU {me:5.2f} s  "
        f"server CPU {srv:5.2f} s  load {os.getloadavg()[0]:.1f}  findings {failed or 'none'}"
        f"{'  ERRORS ' + str(run.errors[:2]) if run.errors else ''}{'  stopped early' if run.stopped_early else ''}"
    )
    print("    " + ", ".join(f"{k} {v['wall']:.2f}/{v['cpu']:.2f}" for k, v in run.timings.items()) + "  (wall/CPU s)")
    return {"wall": wall, "client": me, "server": srv}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--delay-ms", type=int, default=0, help="the server answers after this many ms")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--examples", type=int, default=Settings().generated_examples)
    ap.add_argument("--seed", type=int, default=Settings().seed)
    a = ap.parse_args()
    extra = ["--answer-delay-ms", str(a.delay_ms)] if a.delay_ms else []
    print(f"{platform.node()}: {os.cpu_count()} CPUs, load {os.getloadavg()}; answer delay {a.delay_ms} ms")
    ratios = []
    with ReferenceServer(minute_seconds=1.0, extra_args=extra) as srv, tempfile.TemporaryDirectory() as tmp:
        assert srv.base_url is not None and srv.pid is not None
        settings = Settings(
            target=srv.base_url,
            management_token=srv.management_token,
            minute_seconds=1.0,
            state_dir=Path(tmp),
        ).validated()
        target = Target(settings, srv.base_url, management_token=srv.management_token)
        target.refresh_keys()
        try:
            for r in range(a.rounds):
                print(f"round {r + 1}")
                one = one_run(target, srv.pid, workers=1, seed=a.seed, examples=a.examples)
                picked = one_run(target, srv.pid, workers=None, seed=a.seed, examples=a.examples)
                ratios.append(picked["wall"] / one["wall"])
        finally:
            target.end_run()
            target.close()
    print(f"wall, as picked / one sender: {statistics.median(ratios):.2f} (median of {len(ratios)})")


if __name__ == "__main__":
    main()
