"""Clocks: where a client instant lies on the judge's timeline, and how sure that is.

Send and receive times are on a client's clock; `lease_expires_at` and
`meta.timestamp` are on the server's. Each answer's `meta.timestamp` was
stamped while the request was at the server, so it bounds the offset
(server - client) of that client's clock:

    timestamp - received <= offset <= timestamp - sent

The intersection over all answers is the offset's interval, assuming one
constant offset per clock (widened by the stamps' resolution: whole-second
stamps are detected). Its midpoint is the estimate, its half-width the bound.
If the answers disagree (a clock stepped, several client machines, or the
server's stamps are not taken while it serves), the bound grows until every
answer's own window fits, `Clock.consistent` says so, and the judge moves to
the server clock with every window widened by that bound.

The checker then judges on one timeline, never beyond the bound:

- one clock for the whole history (`Model.clock_domains == "history"`): the
  timeline is that client clock; its send/receive times are exact, and every
  server instant is uncertain by bound + tolerance;
- one clock per worker (`"worker"`): the timeline is the server clock; server
  instants are exact up to the tolerance, and each worker's send/receive
  times are widened by its own bound.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from leasecheck.core.history import Op

from .columns import Columns, read_columns

INF = math.inf


@dataclass(frozen=True)
class Clock:
    """server - client offset of one clock: `offset` ± `bound` seconds."""

    offset: float = 0.0
    bound: float = INF
    samples: int = 0
    consistent: bool = True

    def to_json(self) -> dict[str, object]:
        return {
            "offset": self.offset,
            "bound": None if self.bound == INF else self.bound,
            "samples": self.samples,
            "consistent": self.consistent,
        }


def stamp_resolution(stamps: Sequence[float | None], sample: int = 2000) -> float:
    """1.0 when every sampled `meta.timestamp` is a whole second, else 1 ms."""
    seen = 0
    for st in stamps:
        if st is None:
            continue
        if st != math.floor(st):
            return 0.001
        seen += 1
        if seen >= sample:
            break
    return 1.0 if seen else 0.001


def estimate_clock(ops: Sequence[Op], resolution: float | None = None) -> Clock:
    """The offset interval all stamped answers of these ops agree on."""
    c = read_columns(ops)
    return clock_of(c.sent, c.received, c.stamp, resolution)


def clock_of(
    sent: Sequence[float], received: Sequence[float], stamps: Sequence[float | None], resolution: float | None = None
) -> Clock:
    """`estimate_clock` over columns."""
    res = stamp_resolution(stamps) if resolution is None else resolution
    lo, hi, n = -INF, INF, 0
    for st, s, r in zip(stamps, sent, received, strict=True):
        if st is None:
            continue
        n += 1
        if st - r > lo:
            lo = st - r
        if st - s < hi:
            hi = st - s
    if n == 0:
        return Clock(0.0, INF, 0, True)
    lo -= res
    hi += res
    if lo <= hi:
        return Clock((lo + hi) / 2, (hi - lo) / 2, n, True)
    # Disagreeing stamps: centre on the median midpoint and widen until every
    # answer's own window fits.
    mids = [(st - (s + r) / 2, (r - s) / 2) for st, s, r in zip(stamps, sent, received, strict=True) if st is not None]
    centre = sorted(m for m, _ in mids)[len(mids) // 2]
    bound = max(abs(m - centre) + half for m, half in mids) + res
    return Clock(centre, bound, n, False)


def estimate_clocks(cols: Columns, per_worker: bool, ops: Sequence[Op] = ()) -> dict[str | None, Clock]:
    """One clock for the history (key None), or one per `Op.worker` of `ops`."""
    if not per_worker:
        return {None: clock_of(cols.sent, cols.received, cols.stamp)}
    res = stamp_resolution(cols.stamp)
    groups: dict[str | None, list[int]] = {}
    for i, w in enumerate(op.worker for op in ops):
        groups.setdefault(w, []).append(i)
    out: dict[str | None, Clock] = {}
    for w, idxs in groups.items():
        out[w] = clock_of(
            [cols.sent[i] for i in idxs], [cols.received[i] for i in idxs], [cols.stamp[i] for i in idxs], res
        )
    return out


@dataclass(frozen=True)
class Timeline:
    """How ops and server instants are placed on the judge's line.

    An op of worker w may take effect anywhere in
    `[sent + shift(w) - widen(w), received + shift(w) + widen(w)]`; a server
    instant E lies at `E + expiry_shift`, within ± `slack`.
    """

    clocks: Mapping[str | None, Clock]
    per_worker: bool
    tolerance: float

    @property
    def expiry_shift(self) -> float:
        return 0.0 if self.per_worker else -self.clocks[None].offset

    @property
    def slack(self) -> float:
        if self.per_worker:
            return self.tolerance
        return self.clocks[None].bound + self.tolerance

    def shift_widen(self, worker: str | None) -> tuple[float, float]:
        if not self.per_worker:
            return 0.0, 0.0
        c = self.clocks.get(worker) or self.clocks.get(None)
        if c is None:
            return 0.0, INF
        return c.offset, c.bound

    def describe(self) -> str:
        if not self.per_worker:
            c = self.clocks[None]
            bound = "unknown" if c.bound == INF else f"±{c.bound * 1000:.1f} ms"
            return f"client clock; server = client {c.offset * 1000:+.1f} ms {bound}, tolerance {self.tolerance * 1000:.0f} ms"
        return f"server clock; {len(self.clocks)} client clocks, tolerance {self.tolerance * 1000:.0f} ms"

    def to_json(self) -> dict[str, object]:
        return {
            "reference": "server" if self.per_worker else "client",
            "tolerance": self.tolerance,
            "clocks": {("*" if k is None else k): c.to_json() for k, c in self.clocks.items()},
        }


def make_timeline(
    ops: Sequence[Op],
    *,
    per_worker: bool,
    tolerance: float,
    clock: Clock | Mapping[str | None, Clock] | None = None,
    cols: Columns | None = None,
) -> Timeline:
    """The timeline for a history: estimated from its stamps unless `clock` is
    given (one Clock for the history, or a mapping worker -> Clock; with
    per-worker clocks, key None is the clock of workers not named)."""
    if clock is None:
        clocks = estimate_clocks(read_columns(ops) if cols is None else cols, per_worker, ops)
        if not per_worker and not clocks[None].consistent:
            # The stamps disagree with one client clock (several machines, or a
            # stepped clock): judge on the server clock, every window widened.
            per_worker = True
    elif isinstance(clock, Clock):
        clocks = {None: clock}
    else:
        clocks = dict(clock)
        if not per_worker and None not in clocks:
            raise ValueError("a history-wide timeline needs the clock under key None")
    return Timeline(clocks, per_worker, tolerance)
