"""A history indexed for judging: per license, per lease and per key, each op
with its effect window on the judge's timeline.

The checker decomposes the question "does some order explain every answer?":
licenses share nothing but lease tokens (the cross-license rule looks at
those), so each license is judged alone; within a license, leases share only
the seats and keys only their replays. One pass over the history puts every op
where its rules will look for it, and places its window on the timeline:

- `S[i]`: the earliest instant op i may have taken effect (its send);
- `R[i]`: the latest (its receive; for a request that got no answer, its send
  plus `Model.indeterminate_horizon`, or never).

Each op is one of: OK (2xx: it took effect, its answer is evidence), REFUSED
(a judged 4xx: it had no effect; the refusal itself may be wrongful),
INDET (no answer or 5xx: it may or may not have taken effect), or skipped
(400, 401, 429 and the like: no effect, not judged).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from leasecheck.core.history import Op

from .clock import Timeline
from .columns import Columns, read_columns
from .options import Model
from .refusals import JUDGED_STATUSES, LENGTH_LIMIT_STATUSES, Claim, claim_of, judged_as

OK, INDET, REFUSED, SKIP = 0, 1, 2, 3
INF = math.inf
STATUS_KINDS = ("create_license", "suspend", "reinstate", "revoke")


def outcome(status: int | None) -> int:
    if status is None or status >= 500:
        return INDET
    if 200 <= status < 300:
        return OK
    if status in JUDGED_STATUSES:
        return REFUSED
    return SKIP


class LeaseFacts:
    """Every op of one license that names one lease token (op indices), and
    — filled in by `leases.read_lease` — how the lease reads."""

    __slots__ = (
        "acks",
        "checkins",
        "checkouts",
        "ci_refused",
        "foreign_acks",
        "foreign_ends",
        "grant",
        "hb_refused",
        "heartbeats",
        "hi",
        "license",
        "lo",
        "maybe_checkins",
        "maybe_heartbeats",
        "ref",
        "replays",
        "reuses",
        "spans",
        "suspect",
    )

    def __init__(self, ref: str, license: str) -> None:
        self.ref = ref
        self.license = license
        self.checkouts: list[int] = []  # successes returning this token
        self.heartbeats: list[int] = []  # successes
        self.checkins: list[int] = []  # successes
        # The rare ones are tuples, grown by concatenation (most leases never get one).
        self.hb_refused: tuple[int, ...] = ()  # judged refusals
        self.ci_refused: tuple[int, ...] = ()
        self.maybe_heartbeats: tuple[int, ...] = ()  # indeterminate
        self.maybe_checkins: tuple[int, ...] = ()
        self.foreign_acks: tuple[int, ...] = ()  # other licenses' ops that kept this lease (a server bug)
        self.foreign_ends: tuple[int, ...] = ()  # ... or may have ended it
        # How the lease reads (see leases.py).
        self.grant = -1  # the checkout that granted it
        # (tuples until read: most leases never need their own list)
        self.replays: Sequence[int] = ()  # checkouts repeating the grant's key
        self.reuses: Sequence[int] = ()  # checkouts with a new key returning it
        self.acks: Sequence[int] = ()  # grant, reuses, heartbeat successes
        self.spans: Sequence[tuple[float, float]] = ()  # merged certain intervals
        self.suspect = False  # an acknowledgement sent after a checkin was answered
        self.lo = INF  # a hull of every possible interval: [lo, hi]
        self.hi = -INF

    @property
    def facts(self) -> LeaseFacts:
        return self


class LicenseFacts:
    """Everything one license's rules look at."""

    __slots__ = (
        "checkin_keys",
        "checkout_keys",
        "checkout_ok",
        "checkout_refusals",
        "create",
        "lease_refusals",
        "leases",
        "name",
        "phantoms",
        "reused_keys",
        "seats",
        "status_ops",
        "status_refusals",
        "timeout",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.leases: dict[str, LeaseFacts] = {}
        # key -> op index, or a list of them once the key is used again
        self.checkout_keys: dict[str, int | list[int]] = {}
        self.checkin_keys: dict[str, int | list[int]] = {}
        self.reused_keys: list[tuple[str, str]] = []  # (endpoint, key) used more than once
        self.checkout_ok: list[int] = []
        self.checkout_refusals: list[int] = []  # judged by the seat rule
        self.lease_refusals: list[int] = []  # heartbeat/checkin refusals judged by the live-lease rule
        self.status_refusals: list[int] = []  # refusals claiming license state
        self.phantoms: list[int] = []  # indeterminate checkouts: a lease we may never have heard of
        self.status_ops: list[int] = []  # create/suspend/reinstate/revoke that took or may have taken effect
        self.create: int | None = None
        self.seats: int | None = None
        self.timeout: float | None = None


class Index:
    """The indexed history: ops, their windows, and the per-license facts."""

    def __init__(
        self,
        ops: Sequence[Op],
        timeline: Timeline,
        model: Model,
        cols: Columns | None = None,
        only: Sequence[int] | None = None,
    ) -> None:
        """`only`: the indices of the ops to index (the licenses of one part of
        the history, `partition.py`); indices stay those of the whole history."""
        self.ops = ops
        self.timeline = timeline
        self.model = model
        self.expiry_shift = timeline.expiry_shift
        self.slack = timeline.slack
        self.cols = cols = read_columns(ops) if cols is None else cols
        self.S, self.R = _windows(ops, cols, timeline)
        self.E: Sequence[float | None] = cols.expires  # server clock, as answered
        self.licenses: dict[str, LicenseFacts] = {}
        self.claims: dict[int, Claim] = {}  # refusal index -> what it claims
        self.shared: dict[str, list[str]] = {}  # token -> the licenses naming it, if more than one
        self._claim_of: dict[tuple[str, int, str | None], Claim] = {}
        self._build(only)

    def expiry(self, i: int) -> float | None:
        """Op i's acknowledged lease_expires_at on the timeline (None: not given)."""
        e = self.E[i]
        return None if e is None else e + self.expiry_shift

    def _build(self, only: Sequence[int] | None) -> None:
        ops, S, R = self.ops, self.S, self.R
        horizon = self.model.indeterminate_horizon
        late = INF if horizon is None else horizon
        lics = self.licenses
        refusal = self._refusal
        claims = self.claims
        cache = self._claim_of
        # One dict for every token: a lease op costs one lookup. A token named by
        # a second license gets its own facts there (keyed by license and token).
        tokens: dict[str, LeaseFacts] = {}
        other: dict[tuple[str, str], LeaseFacts] = {}
        cols = self.cols
        keys = cols.key
        columns = (cols.license, cols.kind, cols.status, cols.lease)
        if only is None:
            rows = zip(range(len(cols)), *columns, strict=True)
        else:
            rows = zip(only, *(map(c.__getitem__, only) for c in columns), strict=True)
        for i, license, kind, st, lease in rows:
            if kind == "heartbeat" and st is not None and 200 <= st < 300 and lease is not None:
                le = tokens.get(lease)  # the common case, first
                if le is None:
                    le = tokens[lease] = LeaseFacts(lease, license)
                elif le.license != license:
                    le = _other(other, lease, license)
                le.heartbeats.append(i)
                continue
            lf = lics.get(license)
            if lf is None:
                lf = lics[license] = LicenseFacts(license)
            if st is None:
                oc = INDET
                R[i] = S[i] + late
                st = 0
            elif 200 <= st < 300:
                oc = OK
            elif st >= 500:
                oc = INDET
            elif st in JUDGED_STATUSES:
                oc = REFUSED
            else:
                continue
            if kind == "heartbeat":
                if lease is None:
                    continue
                le = _lease(tokens, other, lease, license)
                if oc == INDET:
                    le.maybe_heartbeats += (i,)
                else:
                    code = ops[i].error_code
                    claim = cache.get((kind, st, code))
                    if claim is Claim.LEASE_ENDED and not ops[i].oversized:
                        claims[i] = claim
                        lf.lease_refusals.append(i)
                    else:
                        refusal(lf, i, kind, st, code)
                    le.hb_refused += (i,)
            elif kind == "checkout":
                key = keys[i]
                if key:
                    _note_key(lf.checkout_keys, lf.reused_keys, "checkout", key, i)
                if oc == OK:
                    lf.checkout_ok.append(i)
                    if lease is not None:
                        le = _lease(tokens, other, lease, license)
                        le.checkouts.append(i)
                elif oc == INDET:
                    lf.phantoms.append(i)
                else:
                    code = ops[i].error_code
                    claim = cache.get((kind, st, code))
                    if claim is Claim.CAPACITY:
                        lf.checkout_refusals.append(i)
                    else:
                        refusal(lf, i, kind, st, code)
            elif kind == "checkin":
                key = keys[i]
                if key:
                    _note_key(lf.checkin_keys, lf.reused_keys, "checkin", key, i)
                if lease is None:
                    continue
                le = _lease(tokens, other, lease, license)
                if oc == OK:
                    le.checkins.append(i)
                elif oc == INDET:
                    le.maybe_checkins += (i,)
                else:
                    refusal(lf, i, kind, st, ops[i].error_code)
                    le.ci_refused += (i,)
            elif kind in STATUS_KINDS:
                op = ops[i]
                if oc == REFUSED:
                    continue  # a refused management call changed nothing
                lf.status_ops.append(i)
                if kind == "create_license" and oc == OK:
                    lf.create = i
                    if op.seats is not None:
                        lf.seats = op.seats
                    if op.timeout is not None:
                        lf.timeout = op.timeout
        for le in (*tokens.values(), *other.values()):
            lf = lics.get(le.license)
            if lf is None:
                lf = lics[le.license] = LicenseFacts(le.license)
            lf.leases[le.ref] = le
        for lic, ref in other:
            self.shared.setdefault(ref, [tokens[ref].license]).append(lic)

    def _refusal(self, lf: LicenseFacts, i: int, kind: str, status: int, code: str | None) -> None:
        claim: Claim | None
        if self.ops[i].oversized and status in LENGTH_LIMIT_STATUSES:
            said = claim_of(status, code, self.model.words)
            if said is Claim.UNKNOWN:  # maybe the server's own length limit (Op.oversized): not judged
                said = Claim.NONE
            claim = judged_as(kind, said, self.model.judge_uncoded_refusals)
        else:
            ck = (kind, status, code)
            claim = self._claim_of.get(ck)
            if claim is None:
                claim = judged_as(kind, claim_of(status, code, self.model.words), self.model.judge_uncoded_refusals)
                self._claim_of[ck] = claim
        self.claims[i] = claim
        if claim is Claim.LICENSE_STATE:
            lf.status_refusals.append(i)
        elif claim is Claim.CAPACITY:
            lf.checkout_refusals.append(i)
        elif claim is Claim.LEASE_ENDED:
            lf.lease_refusals.append(i)


def _note_key(seen: dict[str, int | list[int]], reused: list[tuple[str, str]], endpoint: str, key: str, i: int) -> None:
    """Op i used `key` on `endpoint`: one index while the key is used once, a list after."""
    g = seen.get(key)
    if g is None:
        seen[key] = i
    elif isinstance(g, int):
        seen[key] = [g, i]
        reused.append((endpoint, key))
    else:
        g.append(i)


def _lease(
    tokens: dict[str, LeaseFacts], other: dict[tuple[str, str], LeaseFacts], lease: str, license: str
) -> LeaseFacts:
    """The facts of `lease` as `license` names it: one dict for every token (the
    first license to name it), a second for tokens another license names too."""
    le = tokens.get(lease)
    if le is None:
        le = tokens[lease] = LeaseFacts(lease, license)
    elif le.license != license:
        le = _other(other, lease, license)
    return le


def _other(other: dict[tuple[str, str], LeaseFacts], lease: str, license: str) -> LeaseFacts:
    le = other.get((license, lease))
    if le is None:
        le = other[(license, lease)] = LeaseFacts(lease, license)
    return le


def _windows(ops: Sequence[Op], cols: Columns, timeline: Timeline) -> tuple[list[float], list[float]]:
    if not timeline.per_worker:
        return list(cols.sent), list(cols.received)
    S: list[float] = []
    R: list[float] = []
    cache: dict[str | None, tuple[float, float]] = {}
    for s, r, w in zip(cols.sent, cols.received, (op.worker for op in ops), strict=True):
        sw = cache.get(w)
        if sw is None:
            sw = cache[w] = timeline.shift_widen(w)
        shift, widen = sw
        S.append(s + shift - widen)
        R.append(r + shift + widen)
    return S, R
