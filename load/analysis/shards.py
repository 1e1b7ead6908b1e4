"""Merge the shards every locust process wrote into one run.

Histories merge into one list ordered by send time (`wire.py` reads each
shard, packed or JSON lines); histograms merge with `HdrHistogram.add`, so
merged percentiles are exact percentiles of all samples, not averages of
per-process percentiles. Before they merge, each process's ops are moved
onto the server's clock (`clocks.py`): processes on several machines need
not agree on the time; its per-second buckets, CPU samples and marks move
with them, so the window the run is judged over and the ops in it are on
one timeline. A worker's shard written by the master from its stream says
how many ops the worker sent and how many arrived (`stream`); a worker lost
mid-run has `complete: false` there, and the run is judged on what arrived.
A shard that cannot be read, or whose history holds another number of ops
than its metrics say it recorded (a file cut off in a copy, or missing), is a
`ShardError`: judging part of a history would be a verdict on ops nobody sent.

The stages (`read_histories`, `clocks.align`, `merged`, `add_metrics`,
`check_complete`) are
public so that the merge benchmark times exactly what `merge` runs.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from leasecheck.core.history import History, Op

from .bulk import paused_gc
from .clocks import ClockReport, align
from .histograms import new_histogram
from .wire import ShardError, load_ops, shard_history

_sent, _received = attrgetter("sent_at"), attrgetter("received_at")


@dataclass
class ShardInfo:
    tag: str
    role: str
    pid: int
    ops: int
    samples: int  # latency samples in its histograms
    cpu: list[tuple[float, float]]
    machine_cpu: list[tuple[float, float]]
    loop_lag: list[tuple[float, float]]
    meta: dict[str, Any]
    stream: dict[str, Any] | None = None  # sent / received / complete / lost: a worker's shard from its stream


@dataclass
class MergedBucket:
    latency: HdrHistogram = field(default_factory=lambda: new_histogram(2))
    outcomes: Counter[str] = field(default_factory=Counter)
    logical: Counter[str] = field(default_factory=Counter)


@dataclass
class MergedRun:
    history: History
    shards: list[ShardInfo]
    bucket_seconds: float = 1.0
    latency: dict[str, HdrHistogram] = field(default_factory=dict)
    retried_latency: dict[str, HdrHistogram] = field(default_factory=dict)
    buckets: dict[int, dict[str, MergedBucket]] = field(default_factory=dict)
    attempt_outcomes: dict[str, Counter[str]] = field(default_factory=dict)
    logical_outcomes: dict[str, Counter[str]] = field(default_factory=dict)
    attempts: dict[str, Counter[int]] = field(default_factory=dict)
    replays: Counter[str] = field(default_factory=Counter)
    offered: Counter[int] = field(default_factory=Counter)
    issued: Counter[int] = field(default_factory=Counter)
    marks: list[dict[str, Any]] = field(default_factory=list)
    clocks: ClockReport = field(default_factory=lambda: ClockReport([], False, []))

    @property
    def meta(self) -> dict[str, Any]:
        """Run meta (epoch, end, users, workers) as the users' processes saw it."""
        for s in self.shards:
            if s.meta.get("epoch") is not None and s.role != "master":
                return s.meta
        for s in self.shards:
            if s.meta.get("epoch") is not None:
                return s.meta
        return {}

    @property
    def user_shards(self) -> list[ShardInfo]:
        return [s for s in self.shards if s.role in ("worker", "local")]

    @property
    def lost(self) -> list[ShardInfo]:
        """Workers whose history did not all arrive: the run is partial."""
        return [s for s in self.shards if s.stream is not None and not s.stream.get("complete", True)]


def _add(into: dict[str, HdrHistogram], label: str, encoded: str, figures: int = 3) -> HdrHistogram:
    h = HdrHistogram.decode(encoded.encode("ascii"))
    into.setdefault(label, new_histogram(figures)).add(h)
    return h


def merge(shard_dir: Path, align_clocks: bool = True, shared_clock: bool = False) -> MergedRun:
    """Every shard in `shard_dir` as one run. `shared_clock`: the processes read
    one clock (`--processes N`, started by the command on its machine)."""
    per_process = read_histories(shard_dir)
    clocks = align(per_process, enabled=align_clocks, shared=shared_clock)
    run = MergedRun(history=History(merged(per_process)), shards=[], clocks=clocks)
    add_metrics(run, shard_dir)
    check_complete(run, per_process)
    return run


def check_complete(run: MergedRun, per_process: list[tuple[str, list[Op]]]) -> None:
    """Every shard's history holds the ops its metrics say its process recorded."""
    read = {tag: len(ops) for tag, ops in per_process}
    for shard in run.shards:
        found = read.get(shard.tag, 0)
        if found != shard.ops:
            where = f"{shard.tag}.metrics.json says {shard.ops} ops were recorded"
            held = f"its history holds {found}" if shard.tag in read else "there is no history file beside it"
            raise ShardError(f"{where}, but {held}: the shard is cut off or incomplete")


def read_histories(shard_dir: Path) -> list[tuple[str, list[Op]]]:
    """(tag, ops) per shard, each in the order its process recorded them."""
    out = []
    for path in sorted(shard_dir.glob("*.metrics.json")):
        history = shard_history(path)
        if history is not None:
            out.append((path.name.removesuffix(".metrics.json"), load_ops(history)))
    return out


def merged(per_process: list[tuple[str, list[Op]]]) -> list[Op]:
    """One list, ordered by send time (then receive time). Two stable sorts on one
    float each give that order at half the cost of one on (send, receive) pairs:
    each process's ops come in receive order, so both sorts merge a few runs."""
    with paused_gc():
        ops = [op for _tag, part in per_process for op in part]
        ops.sort(key=_received)
        ops.sort(key=_sent)
    return ops


def add_metrics(run: MergedRun, shard_dir: Path) -> None:
    """Every shard's metrics document, its instants moved as its ops were."""
    for path in sorted(shard_dir.glob("*.metrics.json")):
        try:
            add_shard_metrics(run, path)
        except ShardError:
            raise
        except json.JSONDecodeError as exc:
            raise ShardError(f"{path.name} is not JSON ({exc.msg}, line {exc.lineno})") from None
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            what = f"field {exc} is missing" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
            raise ShardError(f"{path.name} is not a leasecheck shard's metrics ({what})") from None


def add_shard_metrics(run: MergedRun, path: Path) -> None:
    """One shard's metrics document, its instants moved as its ops were."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc["tag"] != path.name.removesuffix(".metrics.json"):
        # The history, the clock estimate and this check all find a shard by its tag.
        raise ShardError(
            f"{path.name} holds the metrics of {doc['tag']!r}: keep a shard's files under the name its process gave them"
        )
    shift = run.clocks.offset_of(doc["tag"])
    run.bucket_seconds = float(doc.get("bucket_seconds", 1.0))
    samples = 0
    for label, enc in doc["latency"].items():
        samples += _add(run.latency, label, enc).get_total_count()
    for label, enc in doc.get("retried_latency", {}).items():
        _add(run.retried_latency, label, enc)
    add_buckets(run, doc, shift)
    for src, dst in (
        (doc["attempt_outcomes"], run.attempt_outcomes),
        (doc["logical_outcomes"], run.logical_outcomes),
    ):
        for label, counts in src.items():
            dst.setdefault(label, Counter()).update(counts)
    for label, counts in doc["attempts"].items():
        run.attempts.setdefault(label, Counter()).update({int(n): c for n, c in counts.items()})
    run.replays.update(doc.get("replays", {}))
    run.marks.extend({**m, "t": float(m["t"]) + shift} for m in doc.get("marks", []))
    run.shards.append(
        ShardInfo(
            tag=doc["tag"],
            role=doc["role"],
            pid=int(doc["pid"]),
            ops=int(doc["ops"]),
            samples=samples,
            cpu=_timed(doc["cpu"], shift),
            machine_cpu=_timed(doc.get("machine_cpu", []), shift),
            loop_lag=_timed(doc["loop_lag"], shift),
            meta=doc.get("meta", {}),
            stream=doc.get("stream"),
        )
    )


def _timed(samples: list[list[float]], shift: float) -> list[tuple[float, float]]:
    return [(float(t) + shift, float(v)) for t, v in samples]


def _rebucket(b: int, shift: float, bucket_seconds: float) -> int:
    """A process's second b on the judge's timeline: the bucket its middle falls in."""
    return b if not shift else math.floor(b + 0.5 + shift / bucket_seconds)


def add_buckets(run: MergedRun, doc: dict[str, Any], shift: float = 0.0) -> None:
    """Add a metrics document's per-second part (buckets, offered and on-time arrivals).
    A shard's whole run at the end, or the seconds a process has just completed
    while the run is live (`runtime/live.py`): both are added the same way.
    `shift`: seconds that put this process's instants on the judge's timeline."""
    bs = float(doc.get("bucket_seconds", run.bucket_seconds))
    for t, labels in doc.get("buckets", {}).items():
        slot = run.buckets.setdefault(_rebucket(int(t), shift, bs), {})
        for label, b in labels.items():
            mb = slot.setdefault(label, MergedBucket())
            mb.latency.add(HdrHistogram.decode(b["latency"].encode("ascii")))
            mb.outcomes.update(b["outcomes"])
            mb.logical.update(b.get("logical", {}))
    run.offered.update({_rebucket(int(k), shift, bs): v for k, v in doc.get("offered", {}).items()})
    run.issued.update({_rebucket(int(k), shift, bs): v for k, v in doc.get("issued", {}).items()})
