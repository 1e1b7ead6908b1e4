"""Was the load generator itself the bottleneck?

A locust process is one gevent loop on one core. If it is busy most of the
time it sends late and measures its own queueing as the server's latency,
so such a window is not a measurement of the server. Each process samples
its CPU once a second; a window is generator-bound when the busiest
process's mean CPU over it is at or above `CPU_LIMIT`, or when an open-loop
generator started fewer than `ON_TIME_SHARE` of its arrivals on time.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from .shards import MergedRun, ShardInfo

CPU_LIMIT = 90.0
ON_TIME_SHARE = 0.9


@dataclass
class Load:
    busiest_tag: str | None
    busiest_mean_cpu: float | None
    processes: list[dict[str, Any]]
    machine_mean_cpu: float | None = None  # every core, every process (the server's too)

    @property
    def saturated(self) -> bool:
        return self.busiest_mean_cpu is not None and self.busiest_mean_cpu >= CPU_LIMIT


def _samples(values: list[tuple[float, float]], start: float, end: float) -> list[float]:
    return [v for t, v in values if start <= t <= end]


def process_load(run: MergedRun, start: float, end: float) -> Load:
    rows, busiest, busiest_cpu = [], None, None
    for s in run.shards:
        cpu = _samples(s.cpu, start, end)
        lag = _samples(s.loop_lag, start, end)
        row = _row(s, cpu, lag)
        rows.append(row)
        if cpu and s.role != "master":  # the master sends nothing; its CPU is listed, not judged
            med = statistics.fmean(cpu)
            if busiest_cpu is None or med > busiest_cpu:
                busiest, busiest_cpu = s.tag, med
    machine = [v for s in run.shards for v in _samples(s.machine_cpu, start, end)]
    return Load(busiest, busiest_cpu, rows, round(statistics.fmean(machine), 1) if machine else None)


def _row(s: ShardInfo, cpu: list[float], lag: list[float]) -> dict[str, Any]:
    return {
        "process": s.tag,
        "role": s.role,
        "pid": s.pid,
        "ops": s.ops,
        "latency_samples": s.samples,
        "cpu_mean": round(statistics.fmean(cpu), 1) if cpu else None,
        "cpu_max": round(max(cpu), 1) if cpu else None,
        "loop_lag_max_ms": round(max(lag) * 1000, 1) if lag else None,
    }


def on_time_share(offered: int, issued: int) -> float | None:
    return issued / offered if offered else None
