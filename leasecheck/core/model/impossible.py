"""Impossible successes: an answer of 200 that no honest server could have given.

- **A checked-in lease kept alive**: a heartbeat (or a same-device checkout
  with a new key) that succeeds on a lease whose checkin had certainly taken
  effect before — its checkin answered 200 before the heartbeat was sent, and
  the lease was certainly live when the checkin came (so the checkin really
  ended it; a checkin of an already-expired lease may be a no-op, and where
  revival is accepted the lease may then come back).
- **An expired lease revived** where `Accepted.revive_expired` is False:
  every acknowledgement that may have come before had certainly expired
  before the heartbeat was sent.
- **A checkin of an ended lease answered 200** where
  `Accepted.checkin_of_ended_succeeds` is False (by default it is accepted:
  "deactivating twice: some servers error, some no-op").
- **A grant to an inactive license**: a checkout that succeeds while the
  license was certainly suspended or revoked throughout its window.

Replays (same Idempotency-Key) are never judged here: a replay after checkin
may return the stored 200 (IDEM-09).
"""

from __future__ import annotations

import math
from functools import partial

from .context import LicenseContext
from .leases import Interval, LeaseView, covering
from .witness import Violation

INF = math.inf


def ended_leases_accepted(ctx: LicenseContext) -> None:
    acc = ctx.idx.model.accepted
    S, R = ctx.idx.S, ctx.idx.R
    revival_after_noop = acc.revive_expired and acc.checkin_of_ended_succeeds
    for ref, v in ctx.views.items():
        le = v.facts
        if v.suspect:
            first = min(R[c] for c in le.checkins)
            for h in [*le.heartbeats, *v.reuses]:
                if S[h] > first:
                    _after_checkin(ctx, ref, v, h, revival_after_noop)
        if not acc.revive_expired and len(v.acks) > 1:
            for h in le.heartbeats:
                _revived(ctx, ref, v, h)
        if not acc.checkin_of_ended_succeeds and le.checkins:
            for c in le.checkins:
                _checkin_of_ended(ctx, ref, v, c)


def _after_checkin(ctx: LicenseContext, ref: str, v: LeaseView, h: int, revival_after_noop: bool) -> None:
    S, R = ctx.idx.S, ctx.idx.R
    for c in sorted(v.facts.checkins, key=lambda c: R[c]):
        if R[c] >= S[h]:
            return
        chain = covering(ctx.live(ref, margin=0.0, exclude=c), S[c], R[c])
        if chain is None and revival_after_noop:
            continue  # the checkin may have been a no-op on an expired lease, then revived
        ctx.reporter.report("ended_lease_accepted", ctx.name, partial(_after_checkin_witness, ctx, ref, h, c, chain))
        return


def _after_checkin_witness(ctx: LicenseContext, ref: str, h: int, c: int, chain: list[Interval] | None) -> Violation:
    op = ctx.idx.ops[h]
    what = "heartbeat" if op.kind == "heartbeat" else "checkout with a new key"
    wops = []
    for _s, _e, a, _by in chain or []:
        wops.append(ctx.w(a, "acknowledged", f"{ref} was live when the checkin came"))
    wops.append(ctx.w(c, "ended", f"checked {ref} in (answered before the {what} was sent)"))
    wops.append(ctx.w(h, "accepted", f"{what} of {ref} succeeded after its checkin"))
    message = f"{what} of {ref} succeeded although its checkin had certainly taken effect"
    return ctx.violation_of(h, "ended_lease_accepted", message, wops)


def _expired_before(ctx: LicenseContext, v: LeaseView, t_send: float, t_recv: float, exclude: int) -> int | None:
    """The ack with the latest expiry among those that may precede an op sent at
    t_send, if the lease had certainly expired before t_send; else None."""
    idx = ctx.idx
    S = idx.S
    b = idx.slack
    if any(S[m] < t_recv for m in v.facts.maybe_heartbeats):
        return None
    best, latest = -1, -INF
    for a in v.acks:
        if a == exclude or S[a] >= t_recv:
            continue
        e = idx.expiry(a)
        if e is None:
            return None
        if e > latest:
            best, latest = a, e
    if best < 0 or latest + b >= t_send:
        return None
    return best


def _revived(ctx: LicenseContext, ref: str, v: LeaseView, h: int) -> None:
    message = f"heartbeat revived {ref} after it had certainly expired (revival not accepted)"
    _after_expiry(ctx, ref, v, h, h, "heartbeat", message)


def _after_expiry(ctx: LicenseContext, ref: str, v: LeaseView, i: int, exclude: int, what: str, message: str) -> None:
    """Op i (a `what`) succeeded on `ref` after it had certainly expired."""
    a = _expired_before(ctx, v, ctx.idx.S[i], ctx.idx.R[i], exclude)
    if a is not None:
        ctx.report_pair(
            "ended_lease_accepted",
            message,
            (a, "acknowledged", f"last acknowledgement of {ref}: expired before the {what}"),
            (i, "accepted", f"{what} of the expired lease succeeded"),
        )


def _checkin_of_ended(ctx: LicenseContext, ref: str, v: LeaseView, c: int) -> None:
    S, R, ops = ctx.idx.S, ctx.idx.R, ctx.idx.ops
    key = ops[c].idempotency_key
    for d in v.facts.checkins:
        if d != c and R[d] < S[c] and (key is None or ops[d].idempotency_key != key):
            ctx.report_pair(
                "ended_lease_accepted",
                f"second checkin of {ref} (new key) answered 200 (no-op checkins not accepted)",
                (d, "ended", f"checked {ref} in"),
                (c, "accepted", "checked the ended lease in again"),
            )
            return
    message = f"checkin of {ref} answered 200 after it had certainly expired (no-op checkins not accepted)"
    _after_expiry(ctx, ref, v, c, -1, "checkin", message)


def inactive_grants(ctx: LicenseContext) -> None:
    if not ctx.enders:
        return
    S, R = ctx.idx.S, ctx.idx.R
    for i in ctx.lf.checkout_ok:
        sp = ctx.status.certain(S[i], R[i])
        if sp is None or sp.status not in ("suspended", "revoked"):
            continue
        ctx.reporter.report(
            "inactive_license_granted", ctx.name, partial(_inactive_witness, ctx, i, sp.status, sp.evidence)
        )


def _inactive_witness(ctx: LicenseContext, i: int, status: str, evidence: list[int]) -> Violation:
    wops = [ctx.w(m, "status", f"left the license {status}") for m in evidence]
    wops.append(ctx.w(i, "accepted", f"checkout succeeded while the license was {status}"))
    message = f"checkout succeeded while the license was certainly {status}"
    return ctx.violation_of(i, "inactive_license_granted", message, wops)
