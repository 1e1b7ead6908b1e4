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
bound. One process needs no alignment (it is only compared with itself),
and neither do several that read one clock: `--processes N` workers, which
the command started on its own machine (`shared=True`); they are judged on
that clock as one process is, widened by nothing the answers did not show.

Everything else a process timed (its per-second buckets, CPU samples and
marks) moves with its ops (`offset_of`); the plan's own instants (the epoch
and end the master set, which every worker kept on its own clock) move by
the workers' median offset (`plan_offset`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

from leasecheck.core.history import Op
from leasecheck.core.model.clock import clock_of

from .bulk import paused_gc

_sent, _received, _stamp = attrgetter("sent_at"), attrgetter("received_at"), attrgetter("server_time")

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

    shared: bool = False  # the processes read one clock (started by the command on its machine)

    def to_json(self) -> dict[str, object]:
        return {
            "aligned": self.aligned,
            "shared_clock": self.shared,
            "processes": [c.to_json() for c in self.clocks],
            "notes": self.notes,
        }

    def offset_of(self, tag: str) -> float:
        """Seconds that put an instant process `tag` timed on the judge's timeline."""
        if self.aligned:
            for c in self.clocks:
                if c.tag == tag and c.samples:
                    return c.offset
        return self.plan_offset

    @property
    def plan_offset(self) -> float:
        """Where the plan's instants (epoch, end) lie: every worker kept them on its own clock."""
        if not self.aligned:
            return 0.0
        return statistics.median(c.offset for c in self.clocks if c.samples)


def measure(tag: str, ops: Sequence[Op]) -> ProcessClock:
    """One process's clock from its answers (the core model's `clock_of`, on three columns)."""
    if not ops:
        return ProcessClock(tag, 0.0, math.inf, 0, True)
    with paused_gc():
        c = clock_of(list(map(_sent, ops)), list(map(_received, ops)), list(map(_stamp, ops)))
    return ProcessClock(tag, c.offset, c.bound, c.samples, c.consistent)


def align(
    histories: Sequence[tuple[str, list[Op]]],
    enabled: bool = True,
    shared: bool = False,
    clocks: Sequence[ProcessClock] | None = None,
) -> ClockReport:
    """Measure each process's clock (unless `clocks`, one per history, were measured
    already) and, with several processes, move its ops onto the server's (in place)."""
    if clocks is None:
        clocks = [measure(tag, ops) for tag, ops in histories]
    kept = [(h, c) for h, c in zip(histories, clocks, strict=True) if h[1]]  # the master records no ops
    histories, clocks = [h for h, _c in kept], [c for _h, c in kept]
    report = ClockReport(clocks, aligned=False, notes=[])
    measured = [c for c in clocks if c.samples]
    if len(measured) < 2:
        return report
    if shared:
        report.shared = True
        report.notes.append(
            f"the {len(measured)} locust processes ran on this machine, started by this command, and read its "
            "one clock: judged on it as one process is (nothing to align, no op widened)"
        )
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


def created_window(created: Sequence[float], report: ClockReport) -> tuple[float, float] | None:
    """A license's creation (`[sent, received(, stamp)]` on the provisioning
    process's clock) as a (sent, received) window on the judge's timeline.

    Aligned ops are on the server's clock, and the master that provisioned
    was not measured (it records no lease ops), so its own instants cannot be
    compared with them. The answer's `meta.timestamp` can: whatever the master's
    offset, `stamp - received <= offset <= stamp - sent`, so the creation took
    effect on the server's clock within `stamp ± (received - sent)`. Without a
    stamp there is no honest place for it: None (the checker then judges the
    license without its creation, from its seat count alone). Unaligned (one
    clock for every process), the instants stand as recorded.
    """
    sent, received = float(created[0]), float(created[1])
    if not report.aligned:
        return sent, received
    if len(created) < 3:
        return None
    stamp, rtt = float(created[2]), received - sent
    return stamp - rtt, stamp + rtt
