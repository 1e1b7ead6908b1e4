"""Wrongful refusals of a lease or a license: a live lease refused, an active
license called inactive.

- A heartbeat or checkin refused as if the lease had ended (404/409/410, or a
  code saying so) is wrongful when the lease was *certainly live* throughout
  the refusal's window — acknowledged before it was sent, its expiry (less
  the late-heartbeat margin and the clock slack) after it was answered, and
  nothing that may end it (a checkin, a suspend where that may end leases)
  possibly in between — and the license certainly active; for a checkin, also
  when its Idempotency-Key was not possibly used before (a conflict refusal is
  honest). Witness: the refusal and the acknowledgements that keep the lease
  live across its window.
- A refusal claiming license state (LICENSE_INACTIVE, _SUSPENDED, _REVOKED) is
  wrongful when the license was certainly active throughout its window.
  Witness: the refusal and the op(s) that make the status certain.
  (LICENSE_EXPIRED is never judged: the license's own expiry is not in the
  history. A plain 403 is not judged either: device, policy or version state
  may forbid the op — see `refusals.py`.)
"""

from __future__ import annotations

from functools import partial

from .context import LicenseContext
from .leases import Interval, covering
from .witness import Violation


def lease_refusals(ctx: LicenseContext) -> None:
    idx = ctx.idx
    S, R, ops = idx.S, idx.R, idx.ops
    for r in ctx.lf.lease_refusals:
        op = ops[r]
        ref = op.lease
        if ref is None or ref not in ctx.views:
            continue  # another license's lease (refusing is right) or one the history never granted
        s, rr = S[r], R[r]
        chain = covering(ctx.live(ref), s, rr)
        if chain is None:
            continue
        if ctx.status.certainly_active(s, rr) is None:
            continue
        if op.kind == "checkin" and ctx.key_used_before(r):
            continue
        kind = "heartbeat_refused" if op.kind == "heartbeat" else "checkin_refused"
        ctx.reporter.report(kind, ctx.name, partial(_live_witness, ctx, r, chain, kind))


def _live_witness(ctx: LicenseContext, r: int, chain: list[Interval], kind: str) -> Violation:
    idx = ctx.idx
    op = idx.ops[r]
    what = "heartbeat" if op.kind == "heartbeat" else "checkin"
    wops = [ctx.w(r, "refused", f"{what} refused as if {op.lease} had ended")]
    seen = {r}
    for _s, _e, a, _by in chain:
        if a not in seen:
            wops.append(
                ctx.w(a, "acknowledged", "answered before the refusal was sent; its expiry lies after the refusal")
            )
            seen.add(a)
    wops += ctx.status_evidence(idx.S[r], idx.R[r], seen)
    wops.sort(key=lambda w: w.sent)
    return ctx.violation(
        kind,
        f"{what} of {op.lease} refused while the lease was certainly live",
        wops,
        (idx.S[r], idx.R[r]),
        margin=idx.model.accepted.late_heartbeat_margin,
    )


def status_refusals(ctx: LicenseContext) -> None:
    idx = ctx.idx
    S, R = idx.S, idx.R
    for r in ctx.lf.status_refusals:
        sp = ctx.status.certainly_active(S[r], R[r])
        if sp is None:
            continue
        ctx.reporter.report("status_refused", ctx.name, partial(_status_witness, ctx, r, sp.evidence))


def _status_witness(ctx: LicenseContext, r: int, evidence: list[int]) -> Violation:
    idx = ctx.idx
    op = idx.ops[r]
    sp = ctx.status.certainly_active(idx.S[r], idx.R[r])
    note = (
        "succeeded with no status change possible in between: the license was active"
        if sp is not None and sp.inferred
        else "last status change before the refusal: the license was active"
    )
    wops = [ctx.w(i, "status", note) for i in evidence if i != r]
    wops.append(ctx.w(r, "refused", f"{op.kind} refused claiming license state ({op.error_code})"))
    wops.sort(key=lambda w: w.sent)
    return ctx.violation(
        "status_refused",
        f"{op.kind} refused as {op.error_code} while the license was certainly active",
        wops,
        (idx.S[r], idx.R[r]),
    )
