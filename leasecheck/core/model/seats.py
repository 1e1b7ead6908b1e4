"""Seats, both directions, by sweep lines over each license's lease intervals.

- **Over-grant**: sweep the certain intervals; at an instant where more than
  N leases are certainly held no order explains the answers. The witness is
  the N+1 acknowledgements holding at that instant.
- **Wrongful over-capacity refusal**: sweep the possible intervals (plus a
  phantom lease for every checkout that got no answer) into a step function
  of "at most this many leases may be held". A checkout refused for capacity
  is wrongful when, at every instant of its window, fewer than N may be held
  — and nothing else explains it: the license possibly not active, its
  Idempotency-Key possibly used first (a conflict, an in-flight duplicate or
  a stored refusal), or (where same-device refusals are accepted) its device
  possibly holding a live lease. The witness is the refusal, the leases that
  could have been held, and the last leases to end with what ended them.

Both sweeps are O(k log k) in the license's leases; no search.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from functools import partial

from .context import LicenseContext
from .leases import Interval, interval_at, merge
from .witness import Violation

INF = math.inf


def over_grants(ctx: LicenseContext) -> None:
    """Sweep the certain intervals; report each episode of more than N held.
    Leaves the certain count's step function on `ctx.certain_steps` when the
    license has refusals to judge or the caller asked for it (`keep_held`:
    a load report's seat occupancy is this function, not a second rule)."""
    n = ctx.seats
    steps = bool(ctx.lf.checkout_refusals) or ctx.keep_held
    if n is None and not steps:
        return
    starts: list[float] = []
    ends: list[float] = []
    for v in ctx.views.values():
        for s, e in v.spans:
            starts.append(s)
            ends.append(e)
    if not steps and len(starts) <= (n or 0):
        return
    starts.sort()
    ends.sort()
    times: list[float] = []
    counts: list[int] = []
    limit = INF if n is None else n
    c = j = 0
    over = False
    for t in starts:
        while ends[j] <= t:  # intervals are [start, end): an end at t goes first
            c -= 1
            if c <= limit:
                over = False
            if steps:
                times.append(ends[j])
                counts.append(c)
            j += 1
        c += 1
        if steps:
            times.append(t)
            counts.append(c)
        if c > limit:
            if not over:
                ctx.reporter.report("over_grant", ctx.name, partial(_over_witness, ctx, t))
                over = True
        else:
            over = False
    if steps:
        for e in ends[j:]:
            c -= 1
            times.append(e)
            counts.append(c)
        ctx.certain_steps = (times, counts)


def most_in(steps: tuple[list[float], list[int]], s: float, r: float, enough: int) -> int:
    """The highest count of a step function at some instant of [s, r] (stops at `enough`)."""
    times, counts = steps
    j = bisect_left(times, s)
    best = counts[j - 1] if j > 0 else 0
    n = len(times)
    while j < n and times[j] <= r and best < enough:
        if counts[j] > best:
            best = counts[j]
        j += 1
    return best


def _over_witness(ctx: LicenseContext, t: float) -> Violation:
    refs = sorted(ref for ref, v in ctx.views.items() if any(s <= t < e for s, e in v.spans))
    wops = []
    for ref in refs:
        iv = interval_at(ctx.certain(ref), t)
        assert iv is not None
        _s, _e, ack, by = iv
        end = "its acknowledged expiry" if by < 0 else f"the send of #{by}, which may have ended it"
        wops.append(ctx.w(ack, "held", f"acknowledged {ref}: certainly held from its receive until {end}"))
    wops.sort(key=lambda w: w.received)
    return ctx.violation(
        "over_grant",
        f"{len(refs)} leases certainly held at once on a {ctx.seats}-seat license",
        ctx.capacity_evidence() + wops,
        (t, t),
        leases=refs,
    )


class PossibleSeats:
    """Step function: the most leases that may be held, over time."""

    def __init__(self, ctx: LicenseContext) -> None:
        self.ctx = ctx
        idx = ctx.idx
        tail = idx.slack + idx.model.accepted.reclaim_delay
        events: list[tuple[float, int]] = []
        for ref in ctx.views:
            for s, e in merge(ctx.possible(ref)):
                events.append((s, 0))  # starts before ends at a tie: generous
                events.append((e, 1))
        self.phantoms: list[Interval] = []
        if ctx.lf.phantoms:
            up = ctx.timeout_up()
            for i in ctx.lf.phantoms:
                iv = (idx.S[i], idx.R[i] + up + tail, i, -1)
                self.phantoms.append(iv)
                events.append((iv[0], 0))
                events.append((iv[1], 1))
        events.sort()
        self.times: list[float] = []
        self.counts: list[int] = []
        c = 0
        for t, end in events:
            c += -1 if end else 1
            self.times.append(t)
            self.counts.append(c)

    def most(self, s: float, r: float, enough: int) -> int:
        """The most leases that may be held at some instant of [s, r] (stops at `enough`)."""
        return most_in((self.times, self.counts), s, r, enough)


def capacity_refusals(ctx: LicenseContext) -> None:
    n = ctx.seats
    refusals = ctx.lf.checkout_refusals
    if n is None or not refusals or n == 0:
        return
    idx = ctx.idx
    S, R, ops = idx.S, idx.R, idx.ops
    # N leases certainly held somewhere in the window explain a refusal at once;
    # the possible count (dearer: every lease's upper bound) only for the rest.
    certain = ctx.certain_steps
    left = [r for r in refusals if most_in(certain, S[r], R[r], n) < n]
    if left:
        hulls = _hull_steps(ctx)
        left = [r for r in left if most_in(hulls, S[r], R[r], n) < n]
    if not left:
        return
    seats = PossibleSeats(ctx)
    for r in left:
        s, rr = S[r], R[r]
        if seats.most(s, rr, n) >= n:
            continue
        if ctx.status.certainly_active(s, rr) is None:
            continue  # refusing a license that may not be active is honest
        if ctx.key_used_before(r):
            continue  # a key conflict, an in-flight duplicate, or a stored refusal
        possibly = _possibly_held(ctx, s, rr)
        if idx.model.accepted.same_device_refusal and _same_device(ctx, ops[r].device, possibly, seats, s, rr):
            continue
        ctx.reporter.report("capacity_refused", ctx.name, partial(_refusal_witness, ctx, seats, r, possibly))


def _hull_steps(ctx: LicenseContext) -> tuple[list[float], list[int]]:
    """Step function of lease hulls (each a superset of the lease's possible
    intervals) plus phantoms: a cheap upper bound of the possible count."""
    idx = ctx.idx
    events: list[tuple[float, int]] = []
    for v in ctx.views.values():
        if v.lo < INF:
            events.append((v.lo, 0))
            events.append((v.hi, 1))
    for i in ctx.lf.phantoms:
        events.append((idx.S[i], 0))
        events.append((INF, 1))
    events.sort()
    times: list[float] = []
    counts: list[int] = []
    c = 0
    for t, end in events:
        c += -1 if end else 1
        times.append(t)
        counts.append(c)
    return times, counts


def _possibly_held(ctx: LicenseContext, s: float, r: float) -> list[tuple[str, Interval]]:
    out = []
    for ref in ctx.views:
        for iv in ctx.possible(ref):
            if iv[0] <= r and iv[1] >= s:
                out.append((ref, iv))
                break
    return out


def _same_device(
    ctx: LicenseContext,
    device: str | None,
    possibly: list[tuple[str, Interval]],
    seats: PossibleSeats,
    s: float,
    r: float,
) -> bool:
    """The refused device may hold one of the leases possibly held in [s, r]."""
    ops = ctx.idx.ops
    holders = [ops[ctx.views[ref].grant].device if ctx.views[ref].grant >= 0 else None for ref, _ in possibly]
    holders += [ops[iv[2]].device for iv in seats.phantoms if iv[0] <= r and iv[1] >= s]
    return any(device is None or d is None or d == device for d in holders)


def _refusal_witness(
    ctx: LicenseContext, seats: PossibleSeats, r: int, possibly: list[tuple[str, Interval]]
) -> Violation:
    idx = ctx.idx
    S, R = idx.S, idx.R
    s, rr = S[r], R[r]
    n = ctx.seats or 0
    wops = [ctx.w(r, "refused", f"checkout refused as over capacity; at most {len(possibly)} of {n} seats in use")]
    seen = {r}
    for ref, iv in possibly:
        wops.append(ctx.w(iv[2], "possibly held", f"{ref} may have been held during the refusal's window"))
        seen.add(iv[2])
    for iv in seats.phantoms:
        if iv[0] <= rr and iv[1] >= s:
            wops.append(ctx.w(iv[2], "possibly held", "got no answer: may have granted a lease"))
            seen.add(iv[2])
    # The leases that ended last before the window, with what ended each.
    held = {ref for ref, _ in possibly}
    ended: list[tuple[float, str, Interval]] = []
    for ref in ctx.views:
        if ref in held:
            continue
        ivs = [iv for iv in ctx.possible(ref) if iv[1] < s]
        if ivs:
            last = max(ivs, key=lambda iv: iv[1])
            ended.append((last[1], ref, last))
    ended.sort(reverse=True)
    others = max(0, len(ended) - n)
    for _end, ref, iv in ended[:n]:
        if iv[3] >= 0:
            i, note = iv[3], f"checked {ref} in, answered before the refusal was sent"
        else:
            i, note = iv[2], f"last acknowledgement of {ref}: it expired (and its seat came free) before the refusal"
        if i not in seen:
            wops.append(ctx.w(i, "ended", note))
            seen.add(i)
    wops += ctx.status_evidence(s, rr, seen)
    return ctx.violation(
        "capacity_refused",
        f"checkout refused for capacity while at most {len(possibly)} of {n} seats could be held",
        ctx.capacity_evidence() + wops,
        (s, rr),
        possibly_held=sorted(held),
        other_leases_ended=others,
    )
