"""Benchmark: the master merges and judges ~1,000,000 operations from 8 workers,
through the code a real run ends with, against the model checker alone.

The history is bench_checker's (`--load` its pickle, or generated the same
way): legal by construction, 1,000 licenses. It is split into 8 workers'
streams by client (each worker records in completion order), each on a clock
with its own error (+250 ms, -400 ms, ...: `SKEWS`); every answer's
`meta.timestamp` stays on the server's clock, so each op is one of the
(send, server stamp, receive) probes the judge measures clocks from. Each
worker's stream is encoded exactly as a worker sends it (`stream.batch`,
then locust's own `Message.serialize`, msgpack). Then, timed stage by stage,
the master's own code:

  receive    locust's `Message.unserialize` and the master's `Collector`
             (`_on_ops`, `_on_done`): what runs while the run goes on
  read       `shards.read_histories`: every worker's packed shard to Ops
  estimate   `clocks.measure` per worker: offset and bound from its stamps
  align      `clocks.align`: every op onto the server's clock, widened
  merge      `shards.merged` + `shards.add_metrics` + `check_complete`: one history, sorted once
  judge      `judge.judge_merged`: window, occupancy, the model checker,
             the verdict and its summary

It prints each stage's wall and CPU (children's included: the checker forks),
the end-of-run total (read .. judge: what the master does after the last
worker answered) and the whole, and the ratio to `check_history` alone on
the same history unskewed, measured in this invocation. Exit 1 if the
merged verdict is not clean or an op is lost or an offset is not recovered
within its bound (that would be a wrong answer, not slowness); never on speed.

    python benchmarks/bench_merge.py [--load /tmp/perf/h1m.pkl | --save FILE]
                                     [--licenses 1000] [--ops-per-license 1000] [--seed 7]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bench_checker import cpu, history, history_options
from locust.rpc.protocol import Message

from leasecheck.core.history import Op
from leasecheck.core.model import check_history
from leasecheck.load.analysis.clocks import align, measure
from leasecheck.load.analysis.shards import MergedRun, add_metrics, check_complete, merged, read_histories
from leasecheck.load.config import write_run_record
from leasecheck.load.runtime.collect import Collector
from leasecheck.load.runtime.recorder import Recorder
from leasecheck.load.runtime.stream import BATCH_OPS, DONE, OPS, batch
from leasecheck.load.verdict.judge import Facts, judge_merged

T = TypeVar("T")
#: Each worker's clock error in seconds (its clock reads this much ahead of the server's).
SKEWS = (0.25, -0.4, 0.1, -0.15, 0.6, -0.8, 0.04, -0.02)


class Node:
    """What the master's collector asks of a worker's connection."""

    state = "running"


class Runner:
    """The two things of locust's MasterRunner the collector reads."""

    def __init__(self, n: int) -> None:
        self.clients = {f"node-{i}": Node() for i in range(n)}

    def get_worker_index(self, client: str) -> int:
        return int(client.split("-")[1])

    def send_message(self, *args: Any, **kwargs: Any) -> None:
        pass


def stage(rows: list[tuple[str, float, float]], name: str, fn: Callable[[], T]) -> T:
    gc.collect()
    w, c = time.perf_counter(), cpu()
    out = fn()
    rows.append((name, time.perf_counter() - w, cpu() - c))
    print(f"  {name:<9} {rows[-1][1]:6.2f} s wall  {rows[-1][2]:6.2f} s CPU", flush=True)
    return out


def worker_streams(ops: list[Op], n: int) -> list[list[Op]]:
    """Split by client (a client's ops stay on one worker), each in completion order."""
    parts: list[list[Op]] = [[] for _ in range(n)]
    for op in ops:
        parts[zlib.crc32((op.worker or op.license).encode()) % n].append(op)
    for p in parts:
        p.sort(key=lambda o: o.received_at)
    return parts


def encode(parts: list[list[Op]]) -> tuple[list[bytes], list[dict[str, Any]]]:
    """Every worker's OPS messages as locust puts them on the wire (interleaved as
    they would arrive), and each worker's DONE; its ops are on its skewed clock."""
    streams, dones = [], []
    for i, (part, skew) in enumerate(zip(parts, SKEWS, strict=True)):
        tag = f"worker-w{i}-{1000 + i}"
        times = [(o.sent_at, o.received_at) for o in part]
        for o in part:  # this worker's clock
            o.sent_at += skew
            o.received_at += skew
        msgs = [
            Message(OPS, batch(tag, first, part[first : first + BATCH_OPS]), f"node-{i}").serialize()
            for first in range(0, len(part), BATCH_OPS)
        ]
        for o, (s, r) in zip(part, times, strict=True):  # back to the server's, exactly
            o.sent_at, o.received_at = s, r
        streams.append(msgs)
        rec = Recorder(tag, "worker")
        rec.meta = {"epoch": part[0].sent_at + skew, "end": part[-1].received_at + skew, "users": 1, "workers": 8}
        doc = rec.metrics()
        doc["ops"] = len(part)
        dones.append(
            Message(
                DONE, {"tag": tag, "sent": len(part), "ops": len(part), "local": False, "metrics": doc}, f"node-{i}"
            ).serialize()
        )
    wire = [m for k in range(max(map(len, streams))) for s in streams if k < len(s) for m in s[k : k + 1]]
    return wire, dones


def run_record(ops: list[Op]) -> dict[str, Any]:
    """seat-race's record over the history's licenses (their creates are in the history)."""
    lics = [
        {
            "name": o.license,
            "license_id": o.license,
            "seats": o.seats,
            "timeout_minutes": 1,
            "group": "",
            "created": None,
        }
        for o in ops
        if o.kind == "create_license"
    ]
    return {
        "profile": "seat-race", "target": "http://bench", "minute_seconds": 10.0, "users": 8,
        "duration": ops[-1].received_at - ops[0].sent_at, "run_id": "bench", "params": {},
        "licenses": lics, "shared_clock": False,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    history_options(ap)
    ops = history(ap.parse_args(argv))
    n = len(ops)
    print(
        f"history: {n:,} ops over {len({o.license for o in ops}):,} licenses; 8 workers, clocks {', '.join(f'{s * 1000:+.0f}' for s in SKEWS)} ms"
    )

    base: list[tuple[str, float, float]] = []
    print("baseline, the same history unskewed:")
    alone = stage(base, "checker", lambda: check_history(ops))
    record = run_record(ops)
    parts = worker_streams(ops, len(SKEWS))
    c = time.process_time()
    wire, dones = encode(parts)
    print(f"workers' encoding (stream.batch + locust serialize): {time.process_time() - c:.2f} s CPU for all 8 "
          f"({(time.process_time() - c) / n * 1e6:.2f} us per op), {sum(map(len, wire)) / n:.0f} bytes per op")  # fmt: skip
    ops.clear()  # the master holds only what it received
    parts.clear()
    gc.collect()

    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-merge-") as tmp:
        shard_dir = Path(tmp)
        write_run_record(shard_dir, record)
        col, runner = Collector(), Runner(len(SKEWS))
        col.begin(shard_dir, runner)
        print("master:")

        def receive() -> None:
            for raw in wire:
                msg = Message.unserialize(raw)
                col._on_ops(None, msg)
            for raw in dones:
                col._on_done(None, Message.unserialize(raw))
            col.close()

        stage(rows, "receive", receive)
        wire.clear()
        per_process = stage(rows, "read", lambda: read_histories(shard_dir))
        clocks = stage(rows, "estimate", lambda: [measure(tag, part) for tag, part in per_process])
        report = stage(rows, "align", lambda: align(per_process, clocks=clocks))

        def merge_all() -> MergedRun:
            from leasecheck.core.history import History

            run = MergedRun(history=History(merged(per_process)), shards=[], clocks=report)
            add_metrics(run, shard_dir)
            check_complete(run, per_process)
            return run

        run = stage(rows, "merge", merge_all)
        j = stage(rows, "judge", lambda: judge_merged(run, record, [], Facts(processes=len(SKEWS))))

    end = rows[1:]
    total_w, total_c = sum(r[1] for r in rows), sum(r[2] for r in rows)
    end_w, end_c = sum(r[1] for r in end), sum(r[2] for r in end)
    _, alone_w, alone_c = base[0]
    print(f"end of run (read .. judge): {end_w:6.2f} s wall, {end_c:6.2f} s CPU; "
          f"ratio to the checker alone {end_w / alone_w:.2f}x wall, {end_c / alone_c:.2f}x CPU")  # fmt: skip
    print(f"whole (receive .. judge):   {total_w:6.2f} s wall, {total_c:6.2f} s CPU; "
          f"ratio to the checker alone {total_w / alone_w:.2f}x wall, {total_c / alone_c:.2f}x CPU")  # fmt: skip
    print(f"verdict: {j.verdict} (exit {j.exit_code}); {len(run.history):,} of {n:,} ops merged")
    bad = [
        f"{c.tag}: offset {c.offset * 1000:+.1f} ms for a {-s * 1000:+.0f} ms error, bound {c.bound * 1000:.1f} ms"
        for c, s in zip(report.clocks, SKEWS, strict=True)
        if abs(c.offset + s) > c.bound
    ]
    for c, s in zip(report.clocks, SKEWS, strict=True):
        print(
            f"  {c.tag}: clock {s * 1000:+5.0f} ms, measured offset {c.offset * 1000:+8.2f} ms ± {c.bound * 1000:.2f} ms"
        )
    print(f"figure: {n:,} ops from 8 workers merged and judged in {end_w:.2f} s wall ({end_c:.2f} s CPU) after the "
          f"run, {total_w:.2f} s with receiving; the checker alone {alone_w:.2f} s; budget 10 s")  # fmt: skip
    ok = alone.ok and j.exit_code == 0 and len(run.history) == n and not bad
    if not ok:
        print("WRONG:", j.summary["reasons"][:3], bad)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
