"""A violation and its minimal witness: the few ops no order explains, on a timeline.

A verdict is only as useful as its evidence. Each violation names the ops
that prove it — for an over-grant the N+1 acknowledgements whose certain
intervals overlap at one instant; for a wrongful refusal the refusal plus the
leases that could have been held in its window and why each other one had
certainly ended — and nothing else. Times are relative to the first witness
op's send, on the judge's timeline (see `clock.py`); `render()` draws them as
a small text timeline, `to_json()` gives the same as data, with op indices
into the judged history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from leasecheck.core import history
from leasecheck.core.history import Op
from leasecheck.core.timeutil import format_rfc3339

INF = math.inf

UNSAFE = "unsafe"  # over-grants and impossible successes
REFUSAL = "wrongful_refusal"  # seat leaks and lost capacity

#: The older, coarser kinds summaries list violations under (the rest keep their own).
HISTORY_KINDS = {
    "over_grant": "seat",
    "key_reuse_accepted": "idempotency",
    "replay_mismatch": "idempotency",
    "replay_refused": "idempotency",
}

#: violation kind -> direction
KINDS: dict[str, str] = {
    "over_grant": UNSAFE,
    "ended_lease_accepted": UNSAFE,
    "inactive_license_granted": UNSAFE,
    "cross_license": UNSAFE,
    "replay_mismatch": UNSAFE,
    "key_reuse_accepted": UNSAFE,
    "device_mismatch": UNSAFE,
    "capacity_refused": REFUSAL,
    "heartbeat_refused": REFUSAL,
    "checkin_refused": REFUSAL,
    "status_refused": REFUSAL,
    "replay_refused": REFUSAL,
}


@dataclass(frozen=True)
class WitnessOp:
    """One op of a witness: what it is, its window, and the part it plays."""

    index: int  # position in the judged history
    role: str  # e.g. "held", "refused", "ended", "capacity", "status"
    note: str  # why it is in the witness, in words
    kind: str
    status: int | None
    lease: str | None
    idempotency_key: str | None
    sent: float  # on the timeline
    received: float
    expires: float | None  # acknowledged lease_expires_at, on the timeline
    error_code: str | None = None
    request_id: str | None = None
    worker: str | None = None

    @classmethod
    def of(
        cls, index: int, op: Op, role: str, note: str, sent: float, received: float, expires: float | None
    ) -> WitnessOp:
        return cls(index=index, role=role, note=note, sent=sent, received=received, expires=expires, **_copied(op))


#: What a witness op copies from the Op as it is.
COPIED = ("kind", "status", "lease", "idempotency_key", "error_code", "request_id", "worker")


def _copied(op: Op) -> dict[str, Any]:
    return {f: getattr(op, f) for f in COPIED}


def _rel(t: float | None, t0: float) -> float | None:
    if t is None or t in (INF, -INF):
        return None
    return round(t - t0, 6)


@dataclass
class Violation:
    """What no order of the ops explains, with the ops that show it."""

    kind: str
    license: str
    message: str
    ops: list[WitnessOp]
    window: tuple[float, float] | None = None  # the instant or window at issue, on the timeline
    capacity: int | None = None
    clock: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def direction(self) -> str:
        return KINDS[self.kind]

    @property
    def op_indices(self) -> list[int]:
        return [w.index for w in self.ops]

    def roles(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for w in self.ops:
            out.setdefault(w.role, []).append(w.index)
        return out

    @property
    def t0(self) -> float:
        return min((w.sent for w in self.ops if w.sent > -INF), default=0.0)

    def to_json(self) -> dict[str, Any]:
        t0 = self.t0
        return {
            "kind": self.kind,
            "direction": self.direction,
            "license": self.license,
            "message": self.message,
            "capacity": self.capacity,
            "clock": self.clock,
            "t0": t0,
            "window": None if self.window is None else [_rel(self.window[0], t0), _rel(self.window[1], t0)],
            "details": self.details,
            "ops": [
                {
                    "index": w.index,
                    "role": w.role,
                    "note": w.note,
                    "kind": w.kind,
                    "status": w.status,
                    "lease": w.lease,
                    "idempotency_key": w.idempotency_key,
                    "sent": _rel(w.sent, t0),
                    "received": _rel(w.received, t0),
                    "expires": _rel(w.expires, t0),
                    "error_code": w.error_code,
                    "request_id": w.request_id,
                    "worker": w.worker,
                }
                for w in self.ops
            ],
        }

    def render(self, width: int = 32) -> str:
        """A small text timeline: one line per op, its window drawn as a bar
        (`[===]` send to receive, `I` when too short to draw, `…` when never
        answered, `>` for an acknowledged expiry inside the span, `|` for the
        instant or window at issue)."""
        t0 = self.t0
        points = [w.sent for w in self.ops] + [w.received for w in self.ops if w.received < INF]
        points += [w.expires for w in self.ops if w.expires is not None]
        if self.window:
            points += [t for t in self.window if -INF < t < INF]
        hi = max(points, default=t0)
        span = max(hi - t0, 1e-9)

        def col(t: float) -> int:
            return max(0, min(width - 1, round((t - t0) / span * (width - 1))))

        head = f"{self.kind} on license {self.license}"
        if self.capacity is not None:
            head += f" ({self.capacity} seat{'s' if self.capacity != 1 else ''})"
        lines = [f"{head}: {self.message}"]
        if self.window:
            a, b = _rel(self.window[0], t0), _rel(self.window[1], t0)
            at = f"+{a:.3f}s" if a == b else f"+{a:.3f}s … +{b:.3f}s"
            lines.append(f"  at {at}   (t0 = first send below; {self.clock})")
        for w in self.ops:
            bar = [" "] * width
            s, r = col(w.sent), col(min(w.received, hi))
            for k in range(s, r + 1):
                bar[k] = "="
            bar[s] = "["
            bar[r] = "]" if w.received < INF else "…"
            if s == r and w.received < INF:
                bar[s] = "I"
            if w.expires is not None and t0 <= w.expires <= hi:
                bar[col(w.expires)] = ">"
            if self.window:
                for t in self.window:
                    if -INF < t < INF and bar[col(t)] == " ":
                        bar[col(t)] = "|"
            status = "—" if w.status is None else str(w.status)
            code = f" {w.error_code}" if w.error_code else ""
            what = f"#{w.index:<5} {w.kind:<9} {status}{code}"
            lease = f" {w.lease}" if w.lease else ""
            exp = f" exp +{w.expires - t0:.3f}" if w.expires is not None else ""
            recv = f"+{w.received - t0:.3f}" if w.received < INF else "never"
            lines.append(
                f"  {''.join(bar)}  {what}{lease}  +{w.sent - t0:.3f}→{recv}{exp}  [{w.role}] {w.note}".rstrip()
            )
        return "\n".join(lines)


def as_history_violation(v: Violation) -> history.Violation:
    """`v` in the shape load summaries list: the instant at issue, the leases of
    its witness (acknowledged = the op's receive) and the witness itself."""
    return history.Violation(
        kind=HISTORY_KINDS.get(v.kind, v.kind),
        license=v.license,
        message=v.message,
        instant=v.window[0] if v.window and -INF < v.window[0] < INF else None,
        capacity=v.capacity,
        leases=[
            {
                "lease": w.lease,
                "granted_by": w.kind,
                "acknowledged_at": format_rfc3339(w.received) if w.received < INF else None,
                "certainly_held_until": None,
                "idempotency_key": w.idempotency_key,
                "role": w.role,
                "note": w.note,
            }
            for w in v.ops
            if w.lease is not None
        ],
        witness=v.render(),
    )
