"""The model's verdict on one program's history, and the one answer exploration sets aside.

`check_history` with `MODEL` judges everything. One kind of its findings is
not a bug of the server: a checkout *replayed* (the same Idempotency-Key and
body as an earlier success, answered with that success's lease) after the
license was suspended or revoked. The IETF draft has a repeated request
answered with the stored response, and the replay grants nothing new: the
lease was granted while the license was active. The reference server does
exactly this, so counting it as `inactive_license_granted` would fail every
honest server that stores answers; such violations are set aside here
(`set_aside` says how many, for the report).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from leasecheck.core.history import History, Op
from leasecheck.core.model import Model, Verdict, Violation, check_history

#: Exploration's histories hold no device, policy or version state, so a 403/422 whose code
#: names nothing the model knows is judged as a conflict (`Model.judge_uncoded_refusals`).
MODEL = Model(judge_uncoded_refusals=True)


@dataclass
class Judged:
    verdict: Verdict
    violations: list[Violation]
    set_aside: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def directions(self) -> set[str]:
        return {v.direction for v in self.violations}


def judge(history: History) -> Judged:
    verdict = check_history(history, MODEL)
    kept: list[Violation] = []
    aside: list[Violation] = []
    for v in verdict.violations:
        (aside if _replays_a_stored_grant(v, history.ops) else kept).append(v)
    return Judged(verdict, kept, aside)


def _replays_a_stored_grant(v: Violation, ops: list[Op]) -> bool:
    if v.kind != "inactive_license_granted":
        return False
    accepted = [w.index for w in v.ops if w.role == "accepted"]
    if not accepted:
        return False
    op = ops[accepted[0]]
    return any(
        first.kind == "checkout"
        and first.ok
        and first.license == op.license
        and first.idempotency_key == op.idempotency_key
        and first.body_digest == op.body_digest
        and first.lease == op.lease
        and first.received_at < op.sent_at
        for first in ops[: accepted[0]]
    )
