"""Numbers for one time window of a merged run (the whole run, or one step).

Everything comes from the per-second buckets, so a window is a whole number
of seconds, and the same code measures the run and each step of the step
profile. Shares are of logical operations (a retried write counts once):
errors = failed or shed / all; denials = denied checkouts / checkouts.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from .histograms import new_histogram
from .shards import MergedRun

PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)
FAILED_OUTCOMES = ("failed", "shed")


def endpoint_of(label: str) -> str:
    """'checkout (return)' and 'checkout' are both the checkout endpoint."""
    return label.split(" ", 1)[0]


@dataclass
class Window:
    start: float
    end: float
    latency: dict[str, HdrHistogram] = field(default_factory=dict)
    attempts: dict[str, Counter[str]] = field(default_factory=dict)
    logical: dict[str, Counter[str]] = field(default_factory=dict)
    offered: int = 0
    issued: int = 0

    @property
    def seconds(self) -> float:
        return max(self.end - self.start, 1e-9)

    def combined(self, endpoint: str | None = None) -> HdrHistogram:
        h = new_histogram(2)
        for label, hist in self.latency.items():
            if endpoint is None or endpoint in (label, endpoint_of(label)):
                h.add(hist)
        return h

    def answered(self, endpoint: str | None = None) -> int:
        return sum(
            h.get_total_count()
            for label, h in self.latency.items()
            if endpoint is None or endpoint_of(label) == endpoint
        )

    def achieved_rps(self, endpoint: str | None = None) -> float:
        return self.answered(endpoint) / self.seconds

    def offered_per_s(self) -> float | None:
        return self.offered / self.seconds if self.offered else None

    def _logical_total(self, pred: Any = lambda label: True) -> Counter[str]:
        c: Counter[str] = Counter()
        for label, counts in self.logical.items():
            if pred(label):
                c.update(counts)
        return c

    def error_rate(self) -> float | None:
        c = self._logical_total()
        total = sum(c.values())
        return sum(c[o] for o in FAILED_OUTCOMES) / total if total else None

    def denial_rate(self) -> float | None:
        c = self._logical_total(lambda label: endpoint_of(label) == "checkout")
        total = sum(c.values())
        return c["denied"] / total if total else None

    def latency_value(self, statistic: str, quantile: float | None, endpoint: str | None = None) -> float | None:
        h = self.combined(endpoint)
        if not h.get_total_count():
            return None
        if statistic == "mean":
            return h.get_mean_value() / 1e6
        if statistic == "max" or quantile == 100.0:
            return h.get_max_value() / 1e6
        return h.get_value_at_percentile(quantile or 99.0) / 1e6


def window(run: MergedRun, start: float, end: float) -> Window:
    """Buckets whose second lies wholly or mostly in [start, end)."""
    bs = run.bucket_seconds
    first, last = math.floor(start / bs + 0.5), math.floor(end / bs + 0.5)
    w = Window(start=first * bs, end=max(last, first + 1) * bs)
    for b in range(first, max(last, first + 1)):
        for label, mb in run.buckets.get(b, {}).items():
            w.latency.setdefault(label, new_histogram(2)).add(mb.latency)
            w.attempts.setdefault(label, Counter()).update(mb.outcomes)
            w.logical.setdefault(label, Counter()).update(mb.logical)
        w.offered += run.offered.get(b, 0)
        w.issued += run.issued.get(b, 0)
    return w


def latency_table(hists: dict[str, HdrHistogram]) -> dict[str, dict[str, float]]:
    """Per label: count and percentiles in milliseconds."""
    out = {}
    for label, h in sorted(hists.items()):
        n = h.get_total_count()
        if not n:
            continue
        row: dict[str, float] = {"count": n}
        for q in PERCENTILES:
            row[f"p{q:g}"] = round(h.get_value_at_percentile(q) / 1000, 3)
        row["max"] = round(h.get_max_value() / 1000, 3)
        row["mean"] = round(h.get_mean_value() / 1000, 3)
        out[label] = row
    return out
