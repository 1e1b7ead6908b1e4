"""The concurrency scenarios' histories, judged by the model checker.

A race scenario records every request it sent (`_support.record`) and asks
`judge` about the whole history: the checker (`leasecheck.core.model`) finds
whatever no order of the requests explains, and each violation fails the
requirement it breaks, with its witness (the few requests, on a timeline)
as the message. A scenario names the requirements it judges; a violation of
a kind whose requirement the scenario does not declare is left to the
scenario that does.

Wrongful refusals (a checkout refused while a seat was free, a live lease
refused) are judged only on a license this run created: an inventory
license may hold leases the history never saw, and then a refusal the
history cannot explain may still be honest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leasecheck.core.client import Exchange
from leasecheck.core.history import History
from leasecheck.core.model import KINDS, REFUSAL, Accepted, Model, Verdict, Violation, check_history

#: The requirement each violation kind breaks, where a race scenario can see it.
BREAKS = {
    "over_grant": "CAP-04",
    "ended_lease_accepted": "LIFE-03",
    "replay_mismatch": "IDEM-08",
    "key_reuse_accepted": "IDEM-08",
    "capacity_refused": "LIFE-01",
    "heartbeat_refused": "LIFE-02",
    "checkin_refused": "LIFE-03",
}


def judge(
    expect: Any,
    target: Any,
    history: History,
    fixture: Any,
    seats: int,
    *evidence: Exchange | None,
    breaks: Mapping[str, str] | None = None,
) -> Verdict:
    """Judge `history` on `fixture` (`seats` seats); every violation of a kind
    whose requirement the scenario declares (`breaks` overrides `BREAKS` per
    kind) fails that requirement with the witness."""
    fresh = target.provisioning.management is not None
    # A seat may stay taken for the run's expiry tolerance after lease_expires_at (EXP-01).
    accepted = Accepted(reclaim_delay=max(Accepted().reclaim_delay, target.settings.expiry_tolerance))
    verdict = check_history(history, Model(accepted=accepted), capacity={fixture.name: seats})
    rids = {**BREAKS, **(breaks or {})}
    judged = [
        v
        for v in verdict.violations
        if v.kind in rids and rids[v.kind] in expect.declared and (fresh or v.direction != REFUSAL)
    ]
    for rid in dict.fromkeys(rids[v.kind] for v in judged):
        mine = [v for v in judged if rids[v.kind] == rid]
        expect(rid, False, witness_message(mine), *evidence)
    checked = {rid for kind, rid in rids.items() if fresh or KINDS[kind] != REFUSAL}  # what was judged at all
    for rid in checked & expect.declared - {rids[v.kind] for v in judged}:
        expect(rid, True, "", *evidence)
    return verdict


def witness_message(violations: list[Violation]) -> str:
    """What the report shows: each violation's sentence and its timeline."""
    return "model checker: " + "\n\n".join(v.render() for v in violations)
