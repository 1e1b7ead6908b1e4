"""Each locust process's clock, measured against the server's, and the histories aligned to it.

The seat checker compares one process's receive instants with another's
send instants, so a skew between two generator machines would turn a legal
interleaving into an over-allocation (or hide a real one). Nothing is
assumed about the machines' clocks: every answer carries the server's
`meta.timestamp`, stamped while the request was at the server, so for each
answer `stamp - received <= offset <= stamp - sent` (offset = server -
process clock). The core model's `estimate_clock` intersects those windows
over all of a process's answers (NTP's round-trip bound, over thousands of
samples): its midpoint is the offset, its half-width the bound.

With two or more processes, every op of a process is moved onto the server's
clock by its offset and widened by its bound (sent earlier, received later),
so an interval the checker counts as certainly held stays certain whatever
the residual error. A process whose answers disagree with one offset (a
server behind several instances whose clocks differ, or a clock that
stepped) is said so, and every process is then judged with the largest
bound. One process needs no alignment (it is only compared with itself).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from leasecheck.core.history import Op
from leasecheck.core.model.clock import estimate_clock

#: A bound from which the report warns that alignment costs the checker sensitivity.
COARSE = 0.05


@dataclass
class ProcessClock:
    """One process's clock: server = process clock + offset, within ± bound seconds."""

    tag: str
    offset: float
    bound: float
    samples: int
    consistent: bool
    applied_bound: float = 0.0  # the widening its ops got (0: not aligned)

    def to_json(self) -> dict[str, object]:
        finite = math.isfinite(self.bound)
        return {
            "process": self.tag,
            "offset_ms": round(self.offset * 1000, 3) if finite else None,
            "bound_ms": round(self.bound * 1000, 3) if finite else None,
            "samples": self.samples,
            "consistent": self.consistent,
            "applied_bound_ms": round(self.applied_bound * 1000, 3),
        }


@dataclass
class ClockReport:
    clocks: list[ProcessClock]
    aligned: bool
    notes: list[str]

    def to_json(self) -> dict[str, object]:
        return {"aligned": self.aligned, "processes": [c.to_json() for c in self.clocks], "notes": self.notes}


def align(histories: Sequence[tuple[str, list[Op]]], enabled: bool = True) -> ClockReport:
    """Measure each process's clock and, with several processes, move its ops onto the server's (in place)."""
    histories = [(tag, ops) for tag, ops in histories if ops]  # the master records no ops
    clocks = []
    for tag, ops in histories:
        c = estimate_clock(ops)
        clocks.append(ProcessClock(tag, c.offset, c.bound, c.samples, c.consistent))
    report = ClockReport(clocks, aligned=False, notes=[])
    measured = [c for c in clocks if c.samples]
    if len(measured) < 2:
        return report
    if not enabled:
        report.notes.append("clock alignment off: every process's clock taken as the server's")
        return report
    if any(not math.isfinite(c.bound) for c in measured):
        report.notes.append("a process's clock could not be bounded from the answers: clocks not aligned")
        return report
    widest = max(c.bound for c in measured)
    shaky = [c.tag for c in measured if not c.consistent]
    if shaky:
        report.notes.append(
            f"the server's meta.timestamp disagree with one clock offset for {', '.join(shaky)} (several server "
            f"instances with their own clocks, or a clock that stepped): every process judged with the "
            f"largest bound, ±{widest * 1000:.1f} ms"
        )
    if widest >= COARSE:
        report.notes.append(
            f"a worker's clock is known only to ±{widest * 1000:.0f} ms (coarse server stamps or long round "
            "trips): an over-allocation shorter than twice that cannot be proven across workers"
        )
    for (_tag, ops), clock in zip(histories, clocks, strict=True):
        if not clock.samples:
            continue
        bound = widest if shaky else clock.bound
        clock.applied_bound = bound
        early, late = clock.offset - bound, clock.offset + bound
        for op in ops:
            op.sent_at += early
            op.received_at += late
    report.aligned = True
    return report
