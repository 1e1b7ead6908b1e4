"""One license as its rules see it, and where their violations go.

Every rule module reads the same per-license context: the indexed facts, the
lease views (`leases.py`), the status timeline (`status.py`), the seat count,
and lazily computed, cached interval sets (possible, live). Violations go to a
`Reporter`, which counts all of them but builds the witness only for the first
few per license and kind: a broken server can violate a rule a million times,
and the report needs three.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from functools import partial

from .index import Index, LicenseFacts
from .leases import Interval, LeaseView, certain_of, live_intervals, possible_intervals, read_lease
from .status import StatusTimeline
from .witness import Violation, WitnessOp

INF = math.inf


class Reporter:
    """Counts every violation; keeps the witnesses of the first `max_reports`
    per (license, kind)."""

    def __init__(self, max_reports: int) -> None:
        self.max_reports = max_reports
        self.counts: Counter[str] = Counter()
        self.violations: list[Violation] = []
        self._per: Counter[tuple[str, str]] = Counter()

    def report(self, kind: str, license: str, build: Callable[[], Violation]) -> None:
        self.counts[kind] += 1
        key = (license, kind)
        if self._per[key] < self.max_reports:
            self._per[key] += 1
            self.violations.append(build())


class LicenseContext:
    """The facts of one license, read once, shared by its rules."""

    def __init__(
        self,
        idx: Index,
        lf: LicenseFacts,
        reporter: Reporter,
        seats: int | None,
        foreign: set[str] | None = None,
        keep_held: bool = False,
    ) -> None:
        self.idx = idx
        self.keep_held = keep_held
        self.lf = lf
        self.name = lf.name
        self.reporter = reporter
        self.seats = seats
        self.status = StatusTimeline(idx, lf)
        self.enders = self.status.enders()
        views = lf.leases
        if foreign:  # tokens of other licenses this one named: judged by the cross-license rule
            views = {ref: le for ref, le in views.items() if ref not in foreign}
        for le in views.values():
            read_lease(idx, le, self.enders)
        self.views: dict[str, LeaseView] = views
        self.certain_steps: tuple[list[float], list[int]] = ([], [])  # set by seats.over_grants
        self._possible: dict[str, list[Interval]] = {}
        self._live: dict[str, list[Interval]] = {}
        self._timeout_up: float | None = None

    # ------------------------------------------------------------ lazily read
    def timeout_up(self) -> float:
        """An upper bound on how long one acknowledgement keeps a lease alive:
        the policy timeout when the history created the license, else the
        longest the server ever granted (E - send) — or unbounded."""
        if self._timeout_up is None:
            if self.lf.timeout is not None:
                self._timeout_up = self.lf.timeout + self.idx.slack
            else:
                S, E, xs = self.idx.S, self.idx.E, self.idx.expiry_shift
                best = -INF
                for v in self.views.values():
                    for a in v.acks:
                        e = E[a]
                        if e is not None and e + xs - S[a] > best:
                            best = e + xs - S[a]
                self._timeout_up = best + self.idx.slack if best > -INF else INF
        return self._timeout_up

    def certain(self, ref: str) -> list[Interval]:
        """The lease's certain intervals, one per acknowledgement (for witnesses)."""
        return certain_of(self.idx, self.views[ref], self.enders)

    def possible(self, ref: str) -> list[Interval]:
        got = self._possible.get(ref)
        if got is None:
            always = self.enders if self.idx.model.accepted.suspension_ends_leases == "always" else []
            got = self._possible[ref] = possible_intervals(self.idx, self.views[ref], self.timeout_up(), always)
        return got

    def live(self, ref: str, margin: float | None = None, exclude: int = -1) -> list[Interval]:
        """Certainly-live intervals; `margin` defaults to the accepted late-heartbeat
        margin; `exclude` is an op not counted as an end (the one judged)."""
        m = self.idx.model.accepted.late_heartbeat_margin if margin is None else margin
        if margin is not None or exclude >= 0:
            return live_intervals(self.idx, self.views[ref], self.enders, m, exclude)
        got = self._live.get(ref)
        if got is None:
            got = self._live[ref] = live_intervals(self.idx, self.views[ref], self.enders, m)
        return got

    # ------------------------------------------------------------- witnesses
    def w(self, i: int, role: str, note: str) -> WitnessOp:
        idx = self.idx
        return WitnessOp.of(i, idx.ops[i], role, note, idx.S[i], idx.R[i], idx.expiry(i))

    def capacity_evidence(self) -> list[WitnessOp]:
        if self.lf.create is not None and self.lf.seats is not None and self.lf.seats == self.seats:
            return [
                self.w(
                    self.lf.create,
                    "capacity",
                    f"created the license with {self.seats} seat{'s' if self.seats != 1 else ''}",
                )
            ]
        return []

    def status_evidence(self, s: float, r: float, seen: set[int]) -> list[WitnessOp]:
        """Ops that make the license certainly active over [s, r] (when the
        history changes its status at all: otherwise it never was anything else)."""
        if all(i == self.lf.create for i in self.lf.status_ops):
            return []
        sp = self.status.certainly_active(s, r)
        if sp is None:
            return []
        note = (
            "succeeded with no status change possible in between: the license was active"
            if sp.inferred
            else "last status change before: the license was active"
        )
        return [self.w(i, "status", note) for i in sp.evidence if i not in seen]

    def violation(
        self,
        kind: str,
        message: str,
        ops: list[WitnessOp],
        window: tuple[float, float] | None = None,
        **details: object,
    ) -> Violation:
        return Violation(
            kind=kind,
            license=self.name,
            message=message,
            ops=ops,
            window=window,
            capacity=self.seats,
            clock=self.idx.timeline.describe(),
            details=dict(details),
        )

    def report_pair(
        self, kind: str, message: str, first: tuple[int, str, str], second: tuple[int, str, str], **details: object
    ) -> None:
        """Report a violation whose witness is two ops, each (op, role, note);
        the second op's window is the one at issue."""
        self.reporter.report(kind, self.name, partial(self._pair, kind, message, first, second, details))

    def _pair(
        self,
        kind: str,
        message: str,
        first: tuple[int, str, str],
        second: tuple[int, str, str],
        details: dict[str, object],
    ) -> Violation:
        return self.violation_of(second[0], kind, message, [self.w(*first), self.w(*second)], **details)

    def violation_of(self, i: int, kind: str, message: str, ops: list[WitnessOp], **details: object) -> Violation:
        """A violation about op i: its window is the one at issue."""
        return self.violation(kind, message, ops, (self.idx.S[i], self.idx.R[i]), **details)

    def key_used_before(self, i: int) -> bool:
        """Another op of this license with op i's Idempotency-Key (either
        endpoint: keys are scoped to the license) may have come first."""
        op = self.idx.ops[i]
        key = op.idempotency_key
        if not key:
            return False
        S, R = self.idx.S, self.idx.R
        retention = self.idx.model.accepted.key_retention
        for group in (self.lf.checkout_keys.get(key), self.lf.checkin_keys.get(key)):
            if group is None:
                continue
            for o in [group] if isinstance(group, int) else group:
                if o != i and S[o] < R[i] and S[i] - R[o] < retention:
                    return True
        return False
