"""When one lease was certainly held, when it possibly was, and when certainly live.

Every rule about seats and lease refusals reduces to three sets of intervals
per lease, each a union over the lease's *acknowledgements* (its grant, a
same-device reuse, each successful heartbeat: an op whose answer says "live
until E"):

- **certain** (a lower bound, for over-grants): after ack a was received the
  lease is held, until `E - slack`, or until the send of anything that may have
  ended it after a took effect (a checkin, a refusal saying it ended, a suspend
  or revoke where those may end leases, a checkin that got no answer) —
  whichever comes first. In *every* order that explains the answers, the lease
  holds a seat throughout.
- **possible** (an upper bound, for wrongful refusals): from the send of any
  op that may have (re)acknowledged it — replays, unanswered heartbeats, and
  another license's ops the server wrongly accepted for it included — until `E + slack + reclaim_delay`, or until the receive of a
  checkin that certainly came after. In *no* explaining order does the lease
  hold a seat outside.
- **live** (for refusals of this lease): like certain, but refusals do not end
  it (they are what is judged) and it stops `late_heartbeat_margin` of the
  lease's duration before E, where a server may already call it expired.

An acknowledgement without `lease_expires_at` proves no holding at all (the
lease may have been granted for any time); for its possible end the
license's timeout bounds it, or nothing does.

Checkout successes for one token are sorted by receive time: the first is
the grant; one with the same Idempotency-Key as an earlier one is a replay
(no effect: its answer proves nothing about the lease now, IDEM-09); any
other is a same-device reuse (an acknowledgement).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .index import Index, LeaseFacts
from .refusals import Claim

INF = math.inf

#: (start, end, op that acknowledged, op that ended it early or -1)
Interval = tuple[float, float, int, int]


#: A lease as its rules read it: the facts themselves, filled in by `read_lease`.
LeaseView = LeaseFacts


def read_lease(idx: Index, v: LeaseFacts, enders: list[tuple[float, float, int]]) -> LeaseView:
    """Classify the lease's checkouts and compute its certain intervals (in place)."""
    le = v
    cos = le.checkouts
    if cos:
        if len(cos) == 1:
            v.grant = cos[0]
        else:
            R = idx.R
            ops = idx.ops
            order = sorted(cos, key=lambda i: R[i])
            v.grant = order[0]
            keys = {ops[order[0]].idempotency_key}
            replays: list[int] = []
            reuses: list[int] = []
            for i in order[1:]:
                k = ops[i].idempotency_key
                if k is not None and k in keys:
                    replays.append(i)
                else:
                    reuses.append(i)
                    keys.add(k)
            v.replays, v.reuses = replays, reuses
        v.acks = [v.grant, *v.reuses, *le.heartbeats] if v.reuses else [v.grant, *le.heartbeats]
    else:
        v.acks = le.heartbeats
    if le.hb_refused or le.ci_refused or le.maybe_checkins or le.foreign_ends or enders:
        _spans_and_hull(idx, v, terminators(idx, le, enders, refusals=True))
    else:
        S, R = idx.S, idx.R
        _spans_and_hull(idx, v, [(S[c], R[c], c) for c in le.checkins])
    return v


def certain_of(idx: Index, v: LeaseView, enders: list[tuple[float, float, int]]) -> list[Interval]:
    """The certain intervals of a lease, one per acknowledgement (not merged)."""
    return certain_intervals(idx, v.acks, terminators(idx, v.facts, enders, refusals=True), 0.0)


def _spans_and_hull(idx: Index, v: LeaseView, terms: list[tuple[float, float, int]]) -> None:
    """The merged certain intervals, the suspect flag, and the hull (lo: the
    earliest send of anything that may acknowledge the lease; hi: the latest
    expiry any of them acknowledged, inf when one did not say), in one pass."""
    S, R, E = idx.S, idx.R, idx.E
    xs = idx.expiry_shift
    b = idx.slack
    checkins = v.facts.checkins
    if not checkins:
        first_in = INF
    elif len(checkins) == 1:
        first_in = R[checkins[0]]
    else:
        first_in = min(R[c] for c in checkins)
    lo, hi, last = INF, -INF, -INF
    spans: list[tuple[float, float]] = []
    cs = ce = -INF
    ordered = True
    suspect = False
    for a in v.acks:
        sa = S[a]
        ra = R[a]
        if sa < lo:
            lo = sa
        if ra > last:
            last = ra
        if sa > first_in:
            suspect = True
        e = E[a]
        if e is None:
            hi = INF
            continue
        e += xs
        if e > hi:
            hi = e
        end = e - b
        if terms:
            for ts, tr, _t in terms:
                if tr > sa and ts < end:
                    end = ts
        if end > ra:
            if ra < cs:
                ordered = False
            if ra <= ce:
                if end > ce:
                    ce = end
            else:
                if ce > -INF:
                    spans.append((cs, ce))
                cs, ce = ra, end
    v.suspect = suspect
    if ce > -INF:
        spans.append((cs, ce))
    if not ordered:
        spans = merge(certain_intervals(idx, v.acks, terms, 0.0))
    v.spans = spans
    le = v.facts
    for a in v.replays:
        lo = min(lo, S[a])
        last = max(last, R[a])
        e = E[a]
        hi = INF if e is None else max(hi, e + xs)
    if le.maybe_heartbeats or le.foreign_acks:
        lo = min(lo, *(S[a] for a in (*le.maybe_heartbeats, *le.foreign_acks)))
        v.lo, v.hi = lo, INF
        return
    hi += b + idx.model.accepted.reclaim_delay
    for c in checkins:  # a checkin certainly after every acknowledgement ends it by its answer
        if S[c] > last and R[c] < hi:
            hi = R[c]
    v.lo, v.hi = lo, hi


def terminators(
    idx: Index, le: LeaseFacts, enders: list[tuple[float, float, int]], *, refusals: bool
) -> list[tuple[float, float, int]]:
    """(S, R, op) of everything that may have ended the lease."""
    S, R = idx.S, idx.R
    out = [(S[i], R[i], i) for i in le.checkins]
    if le.maybe_checkins or le.foreign_ends:
        out += [(S[i], R[i], i) for i in (*le.maybe_checkins, *le.foreign_ends)]
    if refusals:
        claims = idx.claims
        for i in le.hb_refused + le.ci_refused:
            if claims.get(i) is Claim.LEASE_ENDED:
                out.append((S[i], R[i], i))
    if enders and idx.model.accepted.suspension_ends_leases != "never":
        out += enders
    return out


def certain_intervals(
    idx: Index, acks: Sequence[int], terms: list[tuple[float, float, int]], margin: float
) -> list[Interval]:
    """Per acknowledgement: [received, min(E - slack - margin·duration, first
    possible terminator's send)), empty ones dropped."""
    S, R, E = idx.S, idx.R, idx.E
    xs = idx.expiry_shift
    b = idx.slack
    out: list[Interval] = []
    for a in acks:
        e = E[a]
        if e is None:
            continue
        sa, ra = S[a], R[a]
        end = e + xs - b
        if margin:
            end -= margin * max(0.0, e + xs - sa)
        by = -1
        for ts, tr, t in terms:
            if tr > sa and ts < end:
                end, by = ts, t
        if end > ra:
            out.append((ra, end, a, by))
    return out


def live_intervals(
    idx: Index, v: LeaseView, enders: list[tuple[float, float, int]], margin: float, exclude: int = -1
) -> list[Interval]:
    """Certainly live, refusals not counted as ends, stopping `margin` of the
    lease's duration before its expiry (`exclude`: an op not to count as an end,
    the one being judged)."""
    terms = [t for t in terminators(idx, v.facts, enders, refusals=False) if t[2] != exclude]
    return certain_intervals(idx, v.acks, terms, margin)


def possible_intervals(
    idx: Index, v: LeaseView, timeout_up: float, always_ended: list[tuple[float, float, int]]
) -> list[Interval]:
    """When the lease may have held a seat (see the module docstring).

    `timeout_up` bounds how long one acknowledgement may keep the lease alive
    when its answer did not say; `always_ended` are status changes that end
    leases for certain (only with suspension_ends_leases == "always")."""
    S, R, ops = idx.S, idx.R, idx.ops
    le = v.facts
    xs = idx.expiry_shift
    tail = idx.slack + idx.model.accepted.reclaim_delay
    ends = [(S[c], R[c], c) for c in le.checkins]
    if always_ended:
        ends += [(s, r, i) for s, r, i in always_ended if 200 <= (ops[i].status or 0) < 300]
    out: list[Interval] = []
    for group, known in ((v.acks, True), (v.replays, True), (le.maybe_heartbeats, False), (le.foreign_acks, True)):
        for a in group:
            e = idx.E[a] if known else None
            sa, ra = S[a], R[a]
            end = e + xs + tail if e is not None else ra + timeout_up + tail
            by = -1
            for cs, cr, c in ends:
                if cs > ra and cr < end:
                    end, by = cr, c
            out.append((sa, end, a, by))
    return out


def merge(intervals: list[Interval]) -> list[tuple[float, float]]:
    """The union of intervals, as sorted disjoint (start, end) pairs."""
    if len(intervals) == 1:
        s, e = intervals[0][0], intervals[0][1]
        return [(s, e)]
    out: list[tuple[float, float]] = []
    for s, e, _a, _b in sorted(intervals):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def covering(intervals: list[Interval], s: float, r: float) -> list[Interval] | None:
    """Intervals whose union covers every instant of [s, r] (None if none do)."""
    chain: list[Interval] = []
    t = s
    for iv in sorted(intervals):
        if iv[1] <= t:
            continue
        if iv[0] > t:
            return None
        chain.append(iv)
        t = iv[1]
        if t > r:
            return chain
    return None


def interval_at(intervals: list[Interval], t: float) -> Interval | None:
    for iv in intervals:
        if iv[0] <= t < iv[1]:
            return iv
    return None
