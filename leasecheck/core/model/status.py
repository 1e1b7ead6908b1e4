"""A license's status over time, as far as the history makes it certain.

Management state changes (create_license, suspend, reinstate, revoke) are
operations with windows like any other. Where their windows overlap each other
the order is unknown, so the timeline splits into *zones* (the union of those
windows, where the status may be changing) and *spans* between them, where it
is constant. A span's status is certain when every op that may have been the
last one of the zone before it set the same status; the span before the first
change (and a span after an unclear zone) is unknown — unless a checkout
succeeded inside it: an honest server grants only to an active license, and
the status did not change within the span, so the span was active.

A status answer an op got is judged against `certain()`: a checkout that
succeeds in a span certainly suspended or revoked is impossible; a refusal
claiming license state in a span certainly active is wrongful.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field

from .index import INDET, Index, LicenseFacts, outcome

INF = math.inf
SETS = {"create_license": "active", "reinstate": "active", "suspend": "suspended", "revoke": "revoked"}
ENDERS = ("suspend", "revoke")


@dataclass
class Span:
    """[start, end): no status change possible inside; `status` None = unknown."""

    start: float
    end: float
    status: str | None
    evidence: list[int] = field(default_factory=list)  # ops that make the status certain
    inferred: bool = False  # status known from a checkout success inside the span


class StatusTimeline:
    """Certain spans of one license's status."""

    def __init__(self, idx: Index, lf: LicenseFacts) -> None:
        self.idx = idx
        self.lf = lf
        S, R = idx.S, idx.R
        changes = sorted(lf.status_ops, key=lambda i: S[i])
        self.changes = changes
        zones: list[tuple[list[int], float]] = []
        for i in changes:
            if zones and S[i] <= zones[-1][1]:
                members, end = zones[-1]
                members.append(i)
                zones[-1] = (members, max(end, R[i]))
            else:
                zones.append(([i], R[i]))
        self.spans: list[Span] = []
        start: float = -INF
        status: str | None = None
        evidence: list[int] = []
        for members, end in zones:
            self.spans.append(Span(start, S[members[0]], status, evidence))
            status, evidence = _after(members, idx)
            start = end
        self.spans.append(Span(start, INF, status, evidence))
        self._starts = [sp.start for sp in self.spans]
        self._infer()

    def _infer(self) -> None:
        """Unknown spans holding a checkout success were active (honest servers).
        The span before the license was created stays unknown: nothing runs there."""
        create = self.lf.create
        unknown = [
            sp
            for sp in self.spans
            if sp.status is None and not (create is not None and sp.start == -INF and sp.end <= self.idx.S[create])
        ]
        if not unknown or not self.lf.checkout_ok:
            return
        if len(self.spans) == 1:
            only = self.spans[0]
            only.status, only.evidence, only.inferred = "active", [self.lf.checkout_ok[0]], True
            return
        S, R = self.idx.S, self.idx.R
        left = len(unknown)
        for i in self.lf.checkout_ok:
            sp = self._span_of(S[i], R[i])
            if sp is not None and sp.status is None:
                sp.status, sp.evidence, sp.inferred = "active", [i], True
                left -= 1
                if not left:
                    return

    def _span_of(self, s: float, r: float) -> Span | None:
        k = bisect_right(self._starts, s) - 1
        if k < 0:
            return None
        sp = self.spans[k]
        return sp if sp.start <= s and r < sp.end else None

    def certain(self, s: float, r: float) -> Span | None:
        """The span holding all of [s, r] when its status is certain, else None."""
        sp = self._span_of(s, r)
        return sp if sp is not None and sp.status is not None else None

    def certainly_active(self, s: float, r: float) -> Span | None:
        sp = self.certain(s, r)
        return sp if sp is not None and sp.status == "active" else None

    def enders(self) -> list[tuple[float, float, int]]:
        """(S, R, op) of suspend/revoke ops that took or may have taken effect."""
        S, R, ops = self.idx.S, self.idx.R, self.idx.ops
        return [(S[i], R[i], i) for i in self.changes if ops[i].kind in ENDERS]


def _after(zone: list[int], idx: Index) -> tuple[str | None, list[int]]:
    """The status after a zone of overlapping changes, if every order agrees."""
    S, R, ops = idx.S, idx.R, idx.ops
    if any(outcome(ops[i].status) == INDET for i in zone):
        return None, []
    latest_start = max(S[i] for i in zone)
    last = [i for i in zone if R[i] >= latest_start]  # ops that may have been applied last
    statuses = {SETS[ops[i].kind] for i in last}
    if len(statuses) != 1:
        return None, []
    return statuses.pop(), last
