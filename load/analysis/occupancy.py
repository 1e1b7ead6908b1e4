"""Seats in use over time, as the model checker counted them.

The checker's over-grant rule sweeps, per license, the intervals each lease
was certainly held (`core.model.leases`); with `check_history(held=True)` it
hands that sweep back (`Verdict.held`), and here it becomes the step function
a report plots (seats vs capacity, the race's peak, the churn's time-average
seat use). One rule, one computation: what the plot shows as held is exactly
what the verdict counted, on the checker's timeline (the run's aligned clock).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import itemgetter

#: (instants, counts from each instant on), ends before starts at a tie: `core.model.check.Steps`.
Sweep = tuple[list[float], list[int]]


@dataclass
class Occupancy:
    license: str
    capacity: int
    steps: list[tuple[float, int]]  # (instant, leases held from then on)
    starts: list[float] = field(default_factory=list)  # sorted: each instant a lease became certainly held

    def peak(self) -> int:
        return max(map(itemgetter(1), self.steps), default=0)

    def grants(self, start: float, end: float) -> int:
        """Leases that became certainly held in [start, end)."""
        return bisect_left(self.starts, end) - bisect_left(self.starts, start)

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


def occupancies(held: Mapping[str, Sweep], capacity: Mapping[str, int], *, until: float) -> dict[str, Occupancy]:
    """An `Occupancy` for every license in `capacity` from the checker's sweeps
    (a license the history never touched holds nothing)."""
    return {name: occupancy(held.get(name, ([], [])), name, seats, until=until) for name, seats in capacity.items()}


def occupancy(sweep: Sweep, license: str, capacity: int, *, until: float) -> Occupancy:
    """`until` closes intervals nothing in the history ended (end of observation):
    an instant after it is taken at it. One step per instant (its last count)."""
    steps: list[tuple[float, int]] = []
    starts: list[float] = []
    level = 0
    for t, n in zip(*sweep, strict=True):
        if n > level:
            starts.append(t)
        level = n
        if t > until:
            t = until
        if steps and steps[-1][0] == t:
            steps[-1] = (t, n)
        else:
            steps.append((t, n))
    return Occupancy(license, capacity, steps, starts)
