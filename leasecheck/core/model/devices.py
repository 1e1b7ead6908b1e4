"""Devices and lease tokens: one lease belongs to one device and one license.

- **One token, two devices**: a checkout with a new key that returns a lease
  already granted to another device (both fingerprints recorded). A seat
  shared by two devices is an over-grant in disguise (CAP-06: a reused lease
  is returned only to the fingerprint that holds it).
- Where the caller narrowed the same-device variants (`Accepted`):
  `same_device_reuse=False` makes any reuse a violation;
  `same_device_new_seat=False` makes two leases of one device certainly held
  at once a violation.
- **Cross-license**: a lease token first granted to license A that license B
  gets back from a checkout, or keeps or ends with a heartbeat or checkin that
  succeeds (IDEM-07, AUTH-02). Refusing B is right and not reported.
"""

from __future__ import annotations

from functools import partial
from itertools import pairwise

from .context import LicenseContext, Reporter
from .index import Index
from .witness import Violation, WitnessOp


def device_rules(ctx: LicenseContext) -> None:
    acc = ctx.idx.model.accepted
    ops = ctx.idx.ops
    for ref, v in ctx.views.items():
        if not v.reuses:
            continue
        granted_to = ops[v.grant].device
        for u in v.reuses:
            asked_by = ops[u].device
            if granted_to is not None and asked_by is not None and asked_by != granted_to:
                msg = f"{ref}, granted to one device, was returned to another"
            elif not acc.same_device_reuse:
                msg = f"a checkout with a new key returned the held lease {ref} (reuse not accepted)"
            else:
                continue
            ctx.report_pair(
                "device_mismatch",
                msg,
                (v.grant, "first", "granted the lease"),
                (u, "accepted", "returned the same lease token"),
            )
    if not acc.same_device_new_seat:
        _one_seat_per_device(ctx)


def _one_seat_per_device(ctx: LicenseContext) -> None:
    ops = ctx.idx.ops
    by_device: dict[str, list[str]] = {}
    for ref, v in ctx.views.items():
        d = ops[v.grant].device if v.grant >= 0 else None
        if d is not None and v.spans:
            by_device.setdefault(d, []).append(ref)
    for refs in by_device.values():
        if len(refs) < 2:
            continue
        spans = sorted((s, e, ref) for ref in refs for s, e in ctx.views[ref].spans)
        for (_s1, e1, r1), (s2, _e2, r2) in pairwise(spans):
            if r1 != r2 and s2 < e1:
                g1, g2 = ctx.views[r1].grant, ctx.views[r2].grant
                ctx.report_pair(
                    "device_mismatch",
                    "one device certainly held two leases at once (a second seat not accepted)",
                    (g1, "held", "first lease of the device"),
                    (g2, "held", "second lease"),
                )
                break


def owners(idx: Index) -> dict[str, str]:
    """lease token -> the license whose checkout returned it first, for the
    tokens more than one license names (any other token is its license's own)."""
    R = idx.R
    out: dict[str, str] = {}
    for ref, names in idx.shared.items():
        first: tuple[float, str] | None = None
        for name in sorted(set(names)):
            le = idx.licenses[name].leases.get(ref)
            if le is not None and le.checkouts:
                r = min(R[i] for i in le.checkouts)
                if first is None or r < first[0]:
                    first = (r, name)
        if first is not None:
            out[ref] = first[1]
    return out


def lend_foreign(idx: Index, owner: dict[str, str]) -> None:
    """Hand each lease the ops other licenses got accepted for it: they may
    have kept it alive or ended it (the server is wrong either way, but the
    owner's rules must not count on it being right)."""
    for ref, home in owner.items():
        home_le = idx.licenses[home].leases[ref]
        for name in set(idx.shared[ref]) - {home}:
            le = idx.licenses[name].leases[ref]
            home_le.foreign_acks += (*le.checkouts, *le.heartbeats, *le.maybe_heartbeats)
            home_le.foreign_ends += (*le.checkins, *le.maybe_checkins)


def cross_license(idx: Index, owner: dict[str, str], reporter: Reporter) -> None:
    R = idx.R
    for ref, home in owner.items():
        for name in sorted(set(idx.shared[ref]) - {home}):
            le = idx.licenses[name].leases[ref]
            accepted = sorted(le.checkouts + le.heartbeats + le.checkins)
            if not accepted:
                continue
            home_le = idx.licenses[home].leases[ref]
            grant = min(home_le.checkouts, key=lambda i: R[i])
            for i in accepted:
                reporter.report("cross_license", name, partial(_cross_witness, idx, ref, home, name, grant, i))


def _cross_witness(idx: Index, ref: str, home: str, name: str, grant: int, i: int) -> Violation:
    S, R, ops = idx.S, idx.R, idx.ops
    verb = "returned" if ops[i].kind == "checkout" else "accepted"
    return Violation(
        kind="cross_license",
        license=name,
        message=f"a lease of license {home} was {verb} under license {name}",
        ops=[
            WitnessOp.of(
                grant, ops[grant], "first", f"granted {ref} to license {home}", S[grant], R[grant], idx.expiry(grant)
            ),
            WitnessOp.of(
                i, ops[i], "accepted", f"{ops[i].kind} under license {name} succeeded", S[i], R[i], idx.expiry(i)
            ),
        ],
        window=(S[i], R[i]),
        clock=idx.timeline.describe(),
        details={"owner": home},
    )
