"""Seats in use over time, by the checker's own certainty rule.

`core.history.held_intervals` says when each lease was certainly held; here
they become a step function per license (for the seats-vs-capacity plot,
the race's peak and the churn's time-average seat use).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from leasecheck.core.history import LEASE_OPS, Op, held_intervals


@dataclass
class Occupancy:
    license: str
    capacity: int
    steps: list[tuple[float, int]]  # (instant, leases held from then on)

    def peak(self) -> int:
        return max((n for _, n in self.steps), default=0)

    def mean(self, start: float, end: float) -> float:
        """Time-average of seats held over [start, end)."""
        if end <= start:
            return 0.0
        total, level, prev = 0.0, 0, start
        for t, n in self.steps:
            if t >= end:
                break
            if t > prev:
                total += level * (t - prev)
                prev = t
            level = n
        total += level * (end - prev)
        return total / (end - start)


def occupancies(history: Iterable[Op], capacity: Mapping[str, int], *, until: float) -> dict[str, Occupancy]:
    """`occupancy` for every license in `capacity`, the history read once
    (a run over a thousand licenses would otherwise read it a thousand times)."""
    by_license: dict[str, list[Op]] = {name: [] for name in capacity}
    for op in history:
        if op.kind in LEASE_OPS and op.lease is not None and op.license in by_license:
            by_license[op.license].append(op)
    return {name: occupancy(by_license[name], name, seats, until=until) for name, seats in capacity.items()}


def occupancy(history: Iterable[Op], license: str, capacity: int, *, until: float) -> Occupancy:
    """`until` closes intervals nothing in the history ended (end of observation)."""
    events: list[tuple[float, int]] = []
    for start, end, _lease in held_intervals(history, license):
        events.append((start, 1))
        events.append((min(end, until), -1))
    events.sort(key=lambda e: (e[0], e[1]))  # ends before starts at a tie, as the checker does
    steps: list[tuple[float, int]] = []
    level = 0
    for t, delta in events:
        level += delta
        if steps and steps[-1][0] == t:
            steps[-1] = (t, level)
        else:
            steps.append((t, level))
    return Occupancy(license, capacity, steps)
