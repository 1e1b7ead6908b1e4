"""Benchmark: how often the suite's concurrency scenario catches a race fault
of the gallery (leasecheck/gallery/faults/).

A race is probabilistic: the bug shows only when requests interleave inside
its window. This starts one server with the fault and runs the one scenario
that hunts it, RUNS times, and prints how many runs failed the requirement:

- `race-check-then-insert` (default): seat count and lease insert in separate
  transactions; `leasecheck conformance --only capacity -k racing_checkouts`
  must fail CAP-04 (a 1-seat and a 5-seat pool, three racing rounds each).
- `idempotency-insert-race`: Idempotency-Key looked up outside the inserting
  transaction; `--only idempotency -k concurrent_duplicates` must fail IDEM-08.

    python benchmarks/bench_race_catch.py [--fault NAME] [--runs 20] [--workers 1] [--window-ms 5] [--jobs 1]

`--window-ms` sets the fault's gap between check and insert (environment
LEASECHECK_FAULT_RACE_WINDOW_MS, read by the faulty server only); smaller
windows are harder to hit. Not a test: it prints numbers; the exit status is
0 only when every run caught the race.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from leasecheck.gallery import process
from leasecheck.gallery.matrix import Case, conformance_command

#: fault -> (area, pytest -k expression, the requirement it must fail)
HUNTS = {
    "race-check-then-insert": ("capacity", "racing_checkouts", "CAP-04"),
    "idempotency-insert-race": ("idempotency", "concurrent_duplicates", "IDEM-08"),
}


def one_run(fault: str, base_url: str, token: str, report: Path) -> dict:
    area, scenario, rid = HUNTS[fault]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEASECHECK_")}
    env["LEASECHECK_MANAGEMENT_TOKEN"] = token
    case = Case("fault", fault, process.case_args(fault=fault), 1.0, (area,), (rid,))
    started = time.monotonic()
    proc = subprocess.run(
        conformance_command(base_url, case, report, ["-k", scenario, "-v"]),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=600,
    )
    seconds = time.monotonic() - started
    doc = json.loads((report / "results.json").read_text(encoding="utf-8"))
    verdict = next(r for r in doc["requirements"] if r["id"] == rid)
    tests = {t["nodeid"].rsplit("::", 1)[-1]: t["outcome"] for t in doc["tests"]}
    return {"exit": proc.returncode, "caught": verdict["outcome"] == "failed", "tests": tests, "seconds": seconds}


def _load_average() -> str:
    """The 1-, 5- and 15-minute load averages: a rate measured on a busy machine is not
    the rate on a quiet one (a race window depends on scheduling)."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fault", choices=sorted(HUNTS), default="race-check-then-insert")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--workers", type=int, default=1, help="server worker processes")
    ap.add_argument("--window-ms", type=float, default=None, help="the fault's check-to-insert gap (default 5)")
    ap.add_argument("--jobs", type=int, default=1, help="conformance runs at the same time (against one server)")
    args = ap.parse_args()
    load_before = _load_average()

    env = {"LEASECHECK_FAULT_RACE_WINDOW_MS": str(args.window_ms)} if args.window_ms is not None else {}
    with (
        process.server(fault=args.fault, minute_seconds=1.0, workers=args.workers, env=env) as srv,
        tempfile.TemporaryDirectory(prefix="leasecheck-race-") as tmp,
    ):
        assert srv.base_url is not None
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            runs = list(
                pool.map(
                    lambda i: one_run(args.fault, srv.base_url, srv.management_token, Path(tmp) / f"run{i}"),
                    range(args.runs),
                )
            )
        wall = time.monotonic() - started

    caught = sum(r["caught"] for r in runs)
    per_test: dict[str, int] = {}
    for r in runs:
        for name, outcome in r["tests"].items():
            per_test[name] = per_test.get(name, 0) + (outcome == "failed")
    window = args.window_ms if args.window_ms is not None else 5.0
    print(
        f"fault {args.fault} (window {window:g} ms), {args.workers} worker(s), {args.jobs} run(s) at a time; "
        f"python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"load average before {load_before}, after {_load_average()}"
    )
    for i, r in enumerate(runs, 1):
        print(
            f"  run {i:2d}: {'caught' if r['caught'] else 'MISSED'}  exit {r['exit']}  {r['seconds']:5.1f} s  "
            + "  ".join(f"{k}={v}" for k, v in sorted(r["tests"].items()))
        )
    for name, n in sorted(per_test.items()):
        print(f"  {name}: failed in {n}/{len(runs)} runs")
    print(
        f"race-catch rate: {caught}/{len(runs)} = {100 * caught / len(runs):.0f} % "
        f"(wall {wall:.0f} s, {sum(r['seconds'] for r in runs) / len(runs):.1f} s per run)"
    )
    return 0 if caught == len(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
