"""Idempotency records per (license, endpoint, key): one key, one effect, one answer.

For each Idempotency-Key used more than once by one license on one endpoint
(uses further apart than `Accepted.key_retention` are unrelated):

- **key reused with another body, accepted**: two successes whose request
  bodies differ. Whichever came second should have been refused (409 or 422,
  IDEM-05) — or, if both were in flight together, one should have been told
  409 — so no order explains two successes.
- **a replay answered differently**: two successes with the same body that
  name different leases, or the same lease for different devices; with
  `replay_answer == "same_data"` also any difference in the answered data.
  A new `meta.request_id`, a new signature or a current `lease_expires_at`
  are accepted by default (AIP-155; IDEM-03, IDEM-11).
- **a replay refused**: a checkout replay (same key and body) sent after the
  first success was answered, refused while that lease was certainly live and
  the license certainly active. A stored answer must be replayed; an error is
  honest only once the lease may have ended (IDEM-09) or while the first is
  in flight (409, IDEM-08).

Refused first attempts are not records: a success after a refusal with the
same key is honest (servers need not store errors), as is a refusal after a
refusal.
"""

from __future__ import annotations

from functools import partial

from .context import LicenseContext
from .index import OK, REFUSED, outcome
from .leases import Interval, covering
from .refusals import Claim, claim_of
from .witness import Violation

#: What a refused replay may claim and still be judged (the rest may be state the model does not hold).
JUDGED_REPLAY_CLAIMS = (Claim.CAPACITY, Claim.CONFLICT, Claim.KEY_CONFLICT, Claim.LEASE_ENDED)


def keys(ctx: LicenseContext) -> None:
    lf = ctx.lf
    for endpoint, key in lf.reused_keys:
        group = (lf.checkout_keys if endpoint == "checkout" else lf.checkin_keys)[key]
        if isinstance(group, list):
            _group(ctx, endpoint, key, group)


def _group(ctx: LicenseContext, endpoint: str, key: str, group: list[int]) -> None:
    idx = ctx.idx
    S, R, ops = idx.S, idx.R, idx.ops
    acc = idx.model.accepted
    retention = acc.key_retention
    order = sorted(group, key=lambda i: R[i])
    successes = [i for i in order if outcome(ops[i].status) == OK]
    if successes:
        first = successes[0]
        f = ops[first]
        for o in successes[1:]:
            if S[o] - R[first] >= retention:
                break
            op = ops[o]
            if f.body_digest is not None and op.body_digest is not None and op.body_digest != f.body_digest:
                _report(ctx, "key_reuse_accepted", f"one {endpoint} key succeeded with two different bodies", first, o)
                break
            if endpoint == "checkout" and f.lease is not None and op.lease is not None and op.lease != f.lease:
                _report(ctx, "replay_mismatch", "a replay answered a different lease than the first", first, o)
                break
            if f.device_id is not None and op.device_id is not None and op.device_id != f.device_id:
                _report(ctx, "replay_mismatch", "a replay answered a different device_id than the first", first, o)
                break
            if (
                acc.replay_answer == "same_data"
                and f.answer_digest is not None
                and op.answer_digest is not None
                and op.answer_digest != f.answer_digest
            ):
                _report(ctx, "replay_mismatch", "a replay answered other data than the first", first, o)
                break
    if endpoint == "checkout" and successes:
        _refused_replays(ctx, key, order, successes[0])


def _report(ctx: LicenseContext, kind: str, message: str, first: int, second: int) -> None:
    ctx.report_pair(
        kind,
        message,
        (first, "first", "first success with this key"),
        (second, "replay", "answered with this key"),
        idempotency_key=ctx.idx.ops[first].idempotency_key,
    )


def _refused_replays(ctx: LicenseContext, key: str, order: list[int], first: int) -> None:
    idx = ctx.idx
    S, R, ops = idx.S, idx.R, idx.ops
    f = ops[first]
    ref = f.lease
    if ref is None or ref not in ctx.views:
        return
    for r in order:
        op = ops[r]
        if outcome(op.status) != REFUSED or S[r] <= R[first] or S[r] - R[first] >= idx.model.accepted.key_retention:
            continue
        if op.body_digest != f.body_digest:
            continue
        if any(o != r and S[o] < R[r] and R[o] > S[r] for o in order):
            continue  # another request with this key was in flight with it: a 409 "in progress" is honest (IDEM-08)
        claim = claim_of(op.status or 0, op.error_code, idx.model.words)
        if not (claim in JUDGED_REPLAY_CLAIMS or (claim is Claim.UNKNOWN and idx.model.judge_uncoded_refusals)):
            continue
        chain = covering(ctx.live(ref), S[r], R[r])
        if chain is None or ctx.status.certainly_active(S[r], R[r]) is None:
            continue

        ctx.reporter.report("replay_refused", ctx.name, partial(_refused_witness, ctx, key, first, ref, r, chain))


def _refused_witness(ctx: LicenseContext, key: str, first: int, ref: str, r: int, chain: list[Interval]) -> Violation:
    idx = ctx.idx
    wops = [ctx.w(first, "first", f"first success with this key: {ref}")]
    wops += [ctx.w(a, "acknowledged", f"{ref} live across the replay") for _s, _e, a, _b in chain if a != first]
    wops.append(ctx.w(r, "refused", "replay (same key and body) refused"))
    return ctx.violation(
        "replay_refused",
        f"a checkout replay was refused while its lease {ref} was certainly live",
        wops,
        (idx.S[r], idx.R[r]),
        idempotency_key=key,
    )
