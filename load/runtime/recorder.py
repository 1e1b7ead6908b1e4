"""Per-process recording of a load run: the operation history and the metrics.

Each locust process that runs users (the local runner or a worker) keeps one
`Recorder`: every lease operation goes into a core `History` (so the judge
uses the same checker as conformance) and every answer's latency into
HdrHistograms, per endpoint and per second. At the end each process writes a
*shard* (`<tag>.history.jsonl` + `<tag>.metrics.json`) into the shard dir and
the judge merges them (`History.load`, `HdrHistogram.add`).

A locust worker does not write its shard itself: it streams its ops to the
master while the run goes on and hands over the rest and its metrics when
the master asks (`stream.py`, `collect.py`), so the master's shard dir is
complete before the master exits, on one machine or many. The local runner
writes its own shard with `dump`.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from leasecheck.core.client import Exchange
from leasecheck.core.history import LEASE_OPS, History, Op
from leasecheck.load.analysis.histograms import new_histogram, record_latency

OUTCOMES = ("ok", "denied", "expired", "in_progress", "failed", "shed", "cancelled")


@dataclass
class Bucket:
    """One second of one endpoint."""

    latency: HdrHistogram = field(default_factory=lambda: new_histogram(2))
    outcomes: Counter[str] = field(default_factory=Counter)  # per attempt
    logical: Counter[str] = field(default_factory=Counter)  # per logical operation (retries folded in)


class Recorder:
    """Everything one process observed; `dump` writes it as a shard."""

    def __init__(self, tag: str, role: str, bucket_seconds: float = 1.0) -> None:
        self.tag = tag
        self.role = role
        self.bucket_seconds = bucket_seconds
        self.reset()

    def reset(self) -> None:
        self.history = History()
        self.latency: dict[str, HdrHistogram] = {}
        self.buckets: dict[int, dict[str, Bucket]] = {}
        self.attempt_outcomes: dict[str, Counter[str]] = {}
        self.logical_outcomes: dict[str, Counter[str]] = {}
        self.attempts: dict[str, Counter[int]] = {}
        self.replays: Counter[str] = Counter()
        self.retried_latency: dict[str, HdrHistogram] = {}  # first send to final answer, retried ops only
        self.offered: Counter[int] = Counter()  # arrivals scheduled per bucket (open loop)
        self.issued: Counter[int] = Counter()  # of those, sent on time
        self.cpu: list[tuple[float, float]] = []  # this process, % of one core
        self.machine_cpu: list[tuple[float, float]] = []  # all cores, % of the machine (master/local only)
        self.loop_lag: list[tuple[float, float]] = []
        self.marks: list[dict[str, Any]] = []
        self.meta: dict[str, Any] = {}
        self._written: tuple[Path, int] | None = None  # the history file `dump` last wrote, and its ops

    # ------------------------------------------------------------ recording
    def bucket(self, t: float) -> int:
        return math.floor(t / self.bucket_seconds)

    def _bucket(self, t: float, label: str) -> Bucket:
        """This label's bucket for second t, made on first use only (a `setdefault`
        would build, and throw away, a Bucket and its histogram on every request)."""
        labels = self.buckets.setdefault(self.bucket(t), {})
        b = labels.get(label)
        if b is None:
            b = labels[label] = Bucket()
        return b

    @staticmethod
    def _histogram(table: dict[str, HdrHistogram], label: str) -> HdrHistogram:
        h = table.get(label)
        if h is None:
            h = table[label] = new_histogram()
        return h

    def attempt(
        self,
        ex: Exchange,
        *,
        license: str,
        label: str,
        outcome: str,
        user: str,
        lease_token: str | None = None,
        started_at: float | None = None,
    ) -> Op | None:
        """One request as sent: into the history, and its latency (from `started_at`,
        the intended send time for open-loop traffic) into the histograms."""
        op = None
        if ex.operation in LEASE_OPS:
            op = self.history.record(ex, license, lease_token=lease_token, worker=user)
        _counter(self.attempt_outcomes, label)[outcome] += 1
        if ex.header("idempotent-replayed") == "true":
            self.replays[label] += 1
        b = self._bucket(ex.received_at, label)
        b.outcomes[outcome] += 1
        if ex.status is not None:
            latency = ex.received_at - (started_at if started_at is not None else ex.sent_at)
            record_latency(latency, self._histogram(self.latency, label), b.latency)
        return op

    def logical(
        self, label: str, outcome: str, attempts: int, latency: float | None = None, t: float | None = None
    ) -> None:
        """One logical operation (its retries included) ended with `outcome` at `t`."""
        _counter(self.logical_outcomes, label)[outcome] += 1
        b = self._bucket(time.time() if t is None else t, label)
        b.logical[outcome] += 1
        _counter(self.attempts, label)[attempts] += 1
        if latency is not None and attempts > 1:
            record_latency(latency, self._histogram(self.retried_latency, label))

    def shed(self, label: str, t: float) -> None:
        """An arrival the generator did not send because too many were in flight."""
        self.logical(label, "shed", 0, t=t)

    def schedule(self, intended: float, actual: float, requests: int, late_after: float) -> None:
        self.offered[self.bucket(intended)] += requests
        if actual - intended <= late_after:
            self.issued[self.bucket(intended)] += requests

    def mark(self, kind: str, t: float, **data: Any) -> None:
        """A profile event the judge wants (e.g. 'herd returned')."""
        self.marks.append({"kind": kind, "t": t, **data})

    # ------------------------------------------------------------- shards
    def dump(self, shard_dir: Path) -> None:
        """Write this process's shard. Locust ends a local run with test_stop and then
        quitting, and each writes the shard: the history is written again only if it
        grew in between (it is most of the shard), the metrics always."""
        shard_dir.mkdir(parents=True, exist_ok=True)
        path = shard_dir / f"{self.tag}.history.jsonl"
        if self._written != (path, len(self.history)):
            self.history.dump(path)
            self._written = (path, len(self.history))
        write_metrics(shard_dir, self.tag, self.metrics())

    def metrics(self) -> dict[str, Any]:
        """Everything but the history: the shard's `<tag>.metrics.json` document."""
        return {
            "tag": self.tag,
            "role": self.role,
            "pid": os.getpid(),
            "bucket_seconds": self.bucket_seconds,
            "meta": self.meta,
            "ops": len(self.history),
            "latency": {k: _enc(h) for k, h in self.latency.items()},
            "buckets": {
                str(t): {
                    k: {"latency": _enc(b.latency), "outcomes": dict(b.outcomes), "logical": dict(b.logical)}
                    for k, b in labels.items()
                }
                for t, labels in self.buckets.items()
            },
            "attempt_outcomes": {k: dict(v) for k, v in self.attempt_outcomes.items()},
            "logical_outcomes": {k: dict(v) for k, v in self.logical_outcomes.items()},
            "attempts": {k: {str(n): c for n, c in v.items()} for k, v in self.attempts.items()},
            "replays": dict(self.replays),
            "retried_latency": {k: _enc(h) for k, h in self.retried_latency.items()},
            "offered": {str(k): v for k, v in self.offered.items()},
            "issued": {str(k): v for k, v in self.issued.items()},
            "cpu": self.cpu,
            "machine_cpu": self.machine_cpu,
            "loop_lag": self.loop_lag,
            "marks": self.marks,
        }


def _counter(table: dict[str, Counter[Any]], label: str) -> Counter[Any]:
    """This label's counter, made on first use only (a `setdefault` builds, and
    throws away, a Counter on every answer)."""
    c = table.get(label)
    if c is None:
        c = table[label] = Counter()
    return c


def write_metrics(shard_dir: Path, tag: str, doc: dict[str, Any]) -> None:
    """Atomically: the judge reads a shard by its metrics file, so it must never see half of one."""
    shard_dir.mkdir(parents=True, exist_ok=True)
    tmp = shard_dir / f".{tag}.metrics.json.tmp"
    tmp.write_text(json.dumps(doc), encoding="utf-8")
    tmp.replace(shard_dir / f"{tag}.metrics.json")


def _enc(h: HdrHistogram) -> str:
    return h.encode().decode("ascii")
